/*
 * bsp_priv.h - board internals shared between the board's source files (not for apps).
 */
#ifndef BSP_PRIV_H
#define BSP_PRIV_H

#include <stdint.h>
#include "bsp.h"

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* MMIO: one access each, volatile so the compiler neither merges nor reorders them; x86
 * keeps UC accesses in program order. */
static inline uint32_t mmio_read32(uintptr_t a)
{
    return *(volatile uint32_t *)a;
}
static inline void mmio_write32(uintptr_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Interrupt flag, for board code that must not depend on the kernel headers. */
static inline uint64_t bsp_irq_save(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
    return f;
}
static inline void bsp_irq_restore(uint64_t f)
{
    __asm__ volatile("pushq %0; popfq" : : "r"(f) : "memory", "cc");
}

/* PVH start_info (Xen public/arch-x86/hvm/start_info.h layout, version 1). */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr; /* version >= 1 */
    uint32_t memmap_entries;
    uint32_t reserved;
};
struct hvm_memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type; /* 1 = RAM */
    uint32_t reserved;
};

/* Console. */
void bsp_uart_init(void);
void bsp_uart_putc_raw(char c);

/* CPU tables and exceptions (cpu.c). */
void bsp_cpu_init(void);
void bsp_fault_report(const void *frame) __attribute__((noreturn));

/* ACPI (acpi.c). */
struct bsp_acpi_info {
    uint64_t lapic_addr;
    uint64_t ioapic_addr;
    uint32_t ioapic_gsi_base;
    uint16_t pm_tmr_port;
    uint8_t pm_tmr_32bit;
    uint8_t have_madt;
    /* ISA IRQ -> GSI overrides: gsi, and MPS INTI flags (polarity bits 1:0, trigger 3:2). */
    uint32_t isa_gsi[16];
    uint16_t isa_flags[16];
};
extern struct bsp_acpi_info bsp_acpi;
void bsp_acpi_init(uint64_t rsdp_hint);

/* Interrupt controllers and timers (apic.c). */
void bsp_pic_disable(void);
void bsp_apic_init(void);
void bsp_timers_calibrate(void);
void bsp_lapic_eoi(void);

/* PCI (pci.c). */
void bsp_pci_init(void);

/* Paging (mmu.c). */
void bsp_mmu_init(void);

extern char __image_start[], __image_end[];

#endif /* BSP_PRIV_H */
