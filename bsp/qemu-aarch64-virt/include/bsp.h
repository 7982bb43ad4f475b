/*
 * bsp.h - QEMU aarch64 `virt` board (qemu-system-aarch64 -M virt, Cortex-A53/A57/max, TCG):
 * console, time, interrupts, virtio-mmio slots, exit.
 *
 * Start-up order (Micrium style, as on the x86_64 board): boot.S enters at EL1 (dropping
 * from EL2 when QEMU starts there), turns the MMU and caches on with an identity map,
 * points VBAR_EL1 at the kernel port's vectors and calls bsp_start(); that brings up the
 * console, reads the device tree QEMU left in RAM (command line, RAM size), initialises the
 * GIC (v3 or v2, whichever the machine has) and probes the 32 virtio-mmio slots, then calls
 * the application's main() with IRQs masked. main() calls OSInit(), creates its first task
 * and calls OSStart(); the first task calls bsp_tick_start().
 *
 * The names follow the x86_64 board's bsp.h where the meaning carries over (bsp_tsc is the
 * ARM generic timer's virtual count, BSP_VECT_TICK its interrupt ID), so applications that
 * use only the shared subset build for both boards.
 *
 * Contexts: "task" = task level only; "any" = task or ISR.
 */
#ifndef BSP_H
#define BSP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define BSP_BOARD_NAME      "qemu-aarch64-virt"
#define BSP_HAS_VIRTIO_MMIO 1

typedef void (*bsp_isr_t)(void *arg);

/* ---- Console (PL011 at 0x0900_0000, polled) ---- */

/* Formatted output (%d %i %u %x %X %p %s %c %%, flags '-' '0', width, l/ll/z). Any; a whole
 * call is emitted with IRQs masked so lines from tasks and ISRs do not interleave. */
int bsp_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int bsp_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int bsp_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int bsp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void bsp_puts(const char *s); /* no newline added. Any */
int bsp_getc(void);           /* next received byte or -1 (polled). Any */

/* ---- Boot information ---- */

/* The -append string (device tree /chosen/bootargs), "" if none. */
const char *bsp_cmdline(void);
/* Value of "key=value" in the command line, copied into buf (NUL-terminated, truncated).
 * Returns the value length, or -1 when the key is absent. */
int bsp_cmdline_get(const char *key, char *buf, size_t size);
/* Free RAM above the image, identity-mapped, cacheable and usable for DMA (QEMU's virtio
 * devices are cache-coherent): give it to osal_ucos2_heap_init(). */
void bsp_free_ram(void **base, size_t *len);

/* ---- Time (ARM generic timer) ---- */

uint64_t bsp_tsc(void);    /* CNTVCT_EL0, the virtual count. Any */
uint64_t bsp_tsc_hz(void); /* CNTFRQ_EL0 */
uint64_t bsp_tsc_to_ns(uint64_t cycles);
uint64_t bsp_time_ns(void); /* ns since boot. Any */
/* OS contract hooks (os/ucos2/osal_port.h). */
uint64_t bsp_cycles(void);
uint64_t bsp_cycles_per_us(void);
/* The board part of the driver's device full barrier (os/ucos2/osal_port.h). Any. */
void bsp_device_mb(void);
void bsp_delay_us(uint32_t us); /* busy-wait on the counter. Any */

/* Start the EL1 virtual timer as the kernel tick at OS_TICKS_PER_SEC (ISR = OSTimeTick()).
 * Call once from the first task. */
void bsp_tick_start(void);
/* Tick interrupts taken, and ticks added to make up for periods that elapsed without an
 * interrupt (TCG under host load): the kernel's time follows the counter. */
void bsp_tick_stats(uint32_t *irqs, uint32_t *catchup);

/* The EL1 physical timer as a second periodic interrupt, independent of the tick, for
 * tests. Returns its interrupt ID (BSP_INTID_AUX) or an error. Task. */
int bsp_aux_timer_start(uint32_t hz, bsp_isr_t isr, void *arg);
void bsp_aux_timer_stop(void);

/* Bench profiler of the x86_64 board: not implemented here (start does nothing, stop
 * returns 0 samples). */
void bsp_prof_start(void);
uint32_t bsp_prof_stop(const uint64_t **rips);
/* Stop, then print the samples in bench/perf/sample.sh's format (bsp/qemu-x86_64/prof_print.c). */
void bsp_prof_stop_print(void (*puts_fn)(const char *s));

/* ---- Interrupts (GIC: v3 with ICC system registers, or v2 memory-mapped) ---- */

/*
 * Interrupt IDs (GIC INTIDs): 0-15 SGI, 16-31 PPI, 32-1019 SPI (SPI n = INTID 32 + n).
 *   27          EL1 virtual timer (kernel tick)
 *   30          EL1 physical timer (aux timer)
 *   33          PL011 (SPI 1; not used, the console is polled)
 *   35-38       PCIe INTA..INTD (SPI 3-6)
 *   48-79       virtio-mmio slot 0-31 (SPI 16-47)
 *   80-143      GICv2m MSI (SPI 48-111; gic-version=2 only), edge
 */
#define BSP_VECT_TICK      27u
#define BSP_INTID_AUX      30u
#define BSP_INTID_VIRTIO0  48u
#define BSP_INTID_MAX      160u /* IDs this board dispatches */
#define BSP_INTID_SPURIOUS 1023u

/* Error codes of the board (0 = success), as on the x86_64 board. */
#define BSP_OK        0
#define BSP_E_INVAL   (-1)
#define BSP_E_BUSY    (-2)
#define BSP_E_NOSPACE (-3)
#define BSP_E_NODEV   (-4)
#define BSP_E_RANGE   (-5)

/*
 * Attach isr(arg) to interrupt `intid` (up to 4 handlers share one), configure it edge or
 * level triggered (SPIs; PPIs keep their fixed configuration), route it to this CPU in group
 * 1 and enable it. Handlers run inside OSIntEnter()/OSIntExit() with IRQs masked and may
 * post to the kernel; the board writes EOI after them, before OSIntExit() may switch. Task.
 */
int bsp_irq_attach(uint32_t intid, int edge, bsp_isr_t isr, void *arg);
int bsp_irq_detach(uint32_t intid, bsp_isr_t isr, void *arg);
int bsp_irq_mask(uint32_t intid, int masked);
/* Count of interrupts taken per ID since boot (diagnostics; 0 for IDs >= BSP_INTID_MAX). */
uint32_t bsp_int_count(uint32_t intid);
/* 3 or 2: the GIC architecture version found. */
unsigned bsp_gic_version(void);
/*
 * MSI: how many SPIs a message can raise (QEMU's GICv2m frame with gic-version=2; 0 = no
 * MSI, e.g. gic-version=3, whose ITS this board does not drive). bsp_msi_alloc() reserves
 * one for good (boot-time wiring, never freed): BSP_OK, BSP_E_NODEV (no MSI) or
 * BSP_E_NOSPACE. Attach it with bsp_irq_attach(intid, 1, ...) (edge). bsp_msi_message()
 * gives the message that raises an MSI INTID: a 32-bit write of *data to bus address
 * *addr (BSP_E_INVAL for an INTID that is not an MSI one). Task.
 */
unsigned bsp_msi_count(void);
int bsp_msi_alloc(uint32_t *intid);
int bsp_msi_message(uint32_t intid, uint64_t *addr, uint32_t *data);
/* High-water mark of the interrupt stack (SP_EL1) and its size, in bytes. Any. */
void bsp_int_stk_usage(uint32_t *used, uint32_t *size);

/* ---- virtio-mmio (32 slots at 0x0a00_0000 + 0x200 n, slot n on INTID 48 + n) ---- */

#define BSP_VIRTIO_MMIO_BASE   0x0a000000uL
#define BSP_VIRTIO_MMIO_STRIDE 0x200uL
#define BSP_VIRTIO_MMIO_SLOTS  32u

struct virtio_mmio_bus;
struct bsp_virtio_mmio_slot {
    uint32_t slot;      /* 0..31 */
    uint64_t base;      /* register window */
    uint32_t intid;     /* its interrupt */
    uint32_t version;   /* 1 = legacy, 2 = modern */
    uint32_t device_id; /* virtio device type (1 = network) */
    uint32_t vendor_id;
};
/* Slots holding a device (magic "virt", device id != 0), in slot order; probed at boot.
 * Which slot a -device lands in is QEMU's business (top down unless bus= pins it): use these
 * lists, never a fixed position. */
unsigned bsp_virtio_mmio_count(void);
const struct bsp_virtio_mmio_slot *bsp_virtio_mmio_get(unsigned i);
/* Network devices (id 1) only, in slot order: the i-th NIC, and the register accessors for
 * virtio_mmio_transport_create(). Devices of other types are reported at boot and left
 * alone (never reset, never written). */
unsigned bsp_virtio_net_count(void);
const struct bsp_virtio_mmio_slot *bsp_virtio_net_slot(unsigned i);
const struct virtio_mmio_bus *bsp_virtio_net_mmio_bus(unsigned i);

/* ---- PCIe (ECAM 0x3f00_0000, bus 0; BARs assigned by the board; INTx on SPI 3-6) ---- */

#define BSP_PCIE_MAX_MSIX 8u /* MSI-X entries per function the board can route */

struct virtio_pci_bus;
struct bsp_pcie_func {
    uint8_t bus, dev, fn;
    uint8_t irq_pin; /* 1-4 = INTA-INTD, 0 = none */
    uint16_t vendor, device, class_code;
    uint32_t intid;       /* GIC INTID of its INTx line (level), 0 if no pin */
    uint64_t bar_addr[6]; /* PCI address (I/O BARs: port number) */
    uint64_t bar_size[6]; /* 0 = absent or not placed */
    uint8_t bar_is_io[6];
    uint8_t msix_cap;         /* config offset of the MSI-X capability, 0 = none */
    uint16_t msix_table_size; /* entries */
    uint8_t msix_table_bir;
    uint32_t msix_table_off;
    uint32_t msix_intid[BSP_PCIE_MAX_MSIX]; /* GIC INTID per routed entry, 0 = none */
};
/* Functions found on bus 0 at boot, and the virtio-net ones (vendor 0x1af4, device 0x1000
 * or 0x1041) in slot order with their struct virtio_pci_bus for
 * virtio_pci_transport_create(). Interrupts are INTx unless the application routes MSI-X
 * entries (below). */
unsigned bsp_pcie_count(void);
const struct bsp_pcie_func *bsp_pcie_get(unsigned i);
unsigned bsp_pcie_virtio_net_count(void);
const struct bsp_pcie_func *bsp_pcie_virtio_net_func(unsigned i);
const struct virtio_pci_bus *bsp_pcie_virtio_net_bus(unsigned i);

/*
 * MSI-X of a function found at boot, where the GIC has MSI (bsp_msi_count() > 0):
 * bsp_pcie_msix_attach() takes an MSI SPI for table entry `entry` (the same one again when
 * the entry was attached before), attaches isr(arg) to it edge-triggered and writes the
 * entry (address = the GICv2m doorbell, data = the INTID) with the entry masked meanwhile;
 * bsp_pcie_msix_enable() sets MSI-X Enable with Function Mask clear and disables INTx;
 * _disable() clears MSI-X Enable (INTx back). Which device interrupts use which entry is
 * the device's business (virtio: msix_config / queue_msix_vector). BSP_OK, BSP_E_NODEV
 * (no MSI-X capability or no MSI in the GIC), BSP_E_INVAL (entry beyond the table or
 * BSP_PCIE_MAX_MSIX), BSP_E_NOSPACE, or bsp_irq_attach()'s error. Task.
 */
int bsp_pcie_msix_attach(const struct bsp_pcie_func *f, uint16_t entry, bsp_isr_t isr, void *arg);
int bsp_pcie_msix_enable(const struct bsp_pcie_func *f);
int bsp_pcie_msix_disable(const struct bsp_pcie_func *f);
/* Entry `entry` of the table as the device holds it (diagnostics, tests). */
int bsp_pcie_msix_entry_read(const struct bsp_pcie_func *f, uint16_t entry, uint64_t *addr,
                             uint32_t *data, uint32_t *ctrl);

/* ---- Faults and exit ---- */

/* Leave QEMU with status (code << 1) | 1, the x86_64 board's isa-debug-exit convention,
 * through semihosting SYS_EXIT (QEMU needs -semihosting-config enable=on,target=native).
 * Without semihosting the CPU halts forever. Never returns. */
#define BSP_EXIT_PASS  0u /* QEMU status 1 */
#define BSP_EXIT_FAIL  1u /* QEMU status 3 */
#define BSP_EXIT_FAULT 2u /* QEMU status 5: fault report printed */
void bsp_exit(uint32_t code) __attribute__((noreturn));

/* Identity map [phys, phys+len) as Device-nGnRE. Everything below 1 GiB (all of virt's
 * devices, PCIe MMIO and the low ECAM) is mapped at boot: BSP_OK for it, BSP_E_RANGE else. */
int bsp_mmio_map(uint64_t phys, uint64_t len);

/* Board entry into the application (defined by the app), after board init, IRQs masked. */
int main(void);

#endif /* BSP_H */
