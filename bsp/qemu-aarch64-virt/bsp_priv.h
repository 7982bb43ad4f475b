/*
 * bsp_priv.h - board internals shared between the board's source files (not for apps).
 */
#ifndef BSP_PRIV_H
#define BSP_PRIV_H

#include <stdint.h>
#include "bsp.h"

/* virt memory map (QEMU hw/arm/virt.c, base_memmap). */
#define VIRT_GICD_BASE  0x08000000uL
#define VIRT_GICC_BASE  0x08010000uL /* GICv2 CPU interface */
#define VIRT_GICR_BASE  0x080a0000uL /* GICv3 redistributors, 128 KiB per CPU */
#define VIRT_UART_BASE  0x09000000uL
#define VIRT_RAM_BASE   0x40000000uL
#define VIRT_DEVICE_TOP 0x40000000uL /* everything below is devices, ECAM, PCIe windows */

/*
 * Device register access: one single-copy-atomic access each, volatile so the compiler
 * neither merges, splits nor reorders them among themselves. The mappings are Device-nGnRE,
 * so the CPU keeps accesses to the same peripheral in program order (ARM ARM B2.8.2);
 * ordering against normal memory (DMA buffers) is the driver's barriers' business.
 */
static inline uint32_t mmio_read32(uintptr_t a)
{
    uint32_t v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline void mmio_write32(uintptr_t a, uint32_t v)
{
    __asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline uint16_t mmio_read16(uintptr_t a)
{
    uint16_t v;
    __asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline void mmio_write16(uintptr_t a, uint16_t v)
{
    __asm__ volatile("strh %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline uint8_t mmio_read8(uintptr_t a)
{
    uint8_t v;
    __asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline void mmio_write8(uintptr_t a, uint8_t v)
{
    __asm__ volatile("strb %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline uint64_t mmio_read64(uintptr_t a)
{
    uint64_t v;
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline void mmio_write64(uintptr_t a, uint64_t v)
{
    __asm__ volatile("str %x0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}

/* One access of `width` bytes (1, 2, else 4): the bus accessors' common case. */
static inline uint32_t bsp_mmio_read(uintptr_t a, uint8_t width)
{
    return width == 1u ? mmio_read8(a) : width == 2u ? mmio_read16(a) : mmio_read32(a);
}
static inline void bsp_mmio_write(uintptr_t a, uint8_t width, uint32_t v)
{
    if (width == 1u) {
        mmio_write8(a, (uint8_t)v);
    } else if (width == 2u) {
        mmio_write16(a, (uint16_t)v);
    } else {
        mmio_write32(a, v);
    }
}

#define bsp_sysreg_read(r)                                                                         \
    ({                                                                                             \
        uint64_t bsp_v_;                                                                           \
        __asm__ volatile("mrs %0, " #r : "=r"(bsp_v_));                                            \
        bsp_v_;                                                                                    \
    })
#define bsp_sysreg_write(r, v)                                                                     \
    __asm__ volatile("msr " #r ", %x0" : : "rZ"((uint64_t)(v)) : "memory")
#define bsp_isb() __asm__ volatile("isb" ::: "memory")

/* IRQ mask, for board code that must not depend on the kernel headers. */
static inline uint64_t bsp_irq_save(void)
{
    uint64_t f;
    __asm__ volatile("mrs %0, daif; msr daifset, #2" : "=r"(f) : : "memory");
    return f;
}
static inline void bsp_irq_restore(uint64_t f)
{
    __asm__ volatile("msr daif, %0" : : "r"(f) : "memory");
}

/* Console (uart.c). */
void bsp_uart_init(void);

/* Device tree (fdt.c): /chosen/bootargs into cmd, RAM from /memory, the PCIe ECAM base
 * (left alone when there is no pcie node), the GICv2m frame's base (left alone when there
 * is none). 0 or -1. */
int bsp_fdt_parse(const void *fdt, char *cmd, size_t cmd_size, uint64_t *ram_base,
                  uint64_t *ram_size, uint64_t *ecam_base, uint64_t *v2m_base);
extern uint64_t bsp_ecam_base;
extern uint64_t bsp_v2m_base;

/* MMU (mmu.c): tables for RAM up to ram_top and the 1 GiB around the ECAM window; called
 * from boot.S's bsp_early with the MMU off. */
void bsp_mmu_build(uint64_t ram_top, uint64_t ecam);
extern uint64_t bsp_mmu_l1[512];

/* GIC and dispatch (gic.c). */
void bsp_gic_init(void);

/* Timers (timer.c). */
void bsp_timer_init(void);

/* virtio-mmio slots (virtio_mmio.c). */
void bsp_virtio_mmio_probe(void);
/* PCIe bus 0 (pcie.c). */
void bsp_pcie_probe(void);

/* Interrupt stack (boot.S): [bsp_int_stk, bsp_int_stk_top). */
extern uint64_t bsp_int_stk[];
extern char bsp_int_stk_top[];
#define BSP_INT_STK_BYTES 16384u
#define BSP_INT_STK_FILL  0xC5C5C5C5C5C5C5C5uL

extern uint32_t bsp_boot_el; /* exception level boot.S was entered at (1 or 2) */
extern uint64_t bsp_boot_x0; /* x0 at entry (a device tree address, when QEMU gives one) */

extern char __image_start[], __image_end[];

#endif /* BSP_PRIV_H */
