/*
 * bsp.h - QEMU x86_64 board (machine "pc", PVH boot): console, time, interrupts, exit.
 *
 * Start-up order (Micrium style): the board's boot code brings up the CPU (long mode, GDT,
 * IDT, interrupt stack), the console, ACPI tables, interrupt controllers, timestamp counter
 * calibration and PCI enumeration, then calls the application's main() with interrupts
 * disabled. main() calls OSInit(), creates its first task and calls OSStart(); the first task
 * calls bsp_tick_start() before anything relies on time passing.
 *
 * Contexts: "task" = task level only; "any" = task or ISR.
 */
#ifndef BSP_H
#define BSP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*bsp_isr_t)(void *arg);

/* ---- Console (COM1 16550, 115200 8N1, polled) ---- */

/* Formatted output (%d %i %u %x %X %p %s %c %%, flags '-' '0', width, l/ll/z). Any; a whole
 * call is emitted with interrupts disabled so lines from tasks and ISRs do not interleave. */
int bsp_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int bsp_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int bsp_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int bsp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void bsp_puts(const char *s); /* no newline added. Any */
/* Next received byte, or -1 if none is waiting (polled; the shell's input). Any. */
int bsp_getc(void);

/* ---- Boot information ---- */

/* The -append string given to QEMU (PVH start_info cmdline), "" if none. */
const char *bsp_cmdline(void);
/* Value of "key=value" in the command line, copied into buf (NUL-terminated, truncated to
 * size). Returns the value length, or -1 when the key is absent. */
int bsp_cmdline_get(const char *key, char *buf, size_t size);

/* Free RAM above the image (from the PVH memory map), identity-mapped and usable for DMA:
 * give it to osal_ucos2_heap_init(). */
void bsp_free_ram(void **base, size_t *len);

/* ---- Time ---- */

uint64_t bsp_tsc(void);    /* rdtsc. Any */
uint64_t bsp_tsc_hz(void); /* TSC rate, calibrated at boot against the ACPI PM timer */
uint64_t bsp_tsc_to_ns(uint64_t cycles);
uint64_t bsp_time_ns(void); /* ns since boot, from the TSC. Any */
/* OS contract hooks (os/ucos2/osal_port.h). */
uint64_t bsp_cycles(void);
uint64_t bsp_cycles_per_us(void);
/* The board part of the driver's device full barrier (os/ucos2/osal_port.h). Any. */
void bsp_device_mb(void);

/* ACPI PM timer: 3.579545 MHz, 24 or 32 bits wide; an independent clock for checks. */
#define BSP_PMTMR_HZ 3579545u
uint32_t bsp_pmtmr_read(void); /* raw counter. Any */
uint32_t bsp_pmtmr_mask(void); /* 0xFFFFFF or 0xFFFFFFFF */
uint16_t bsp_pmtmr_port(void);

/* Busy-wait (TSC based, no kernel involvement). Any. */
void bsp_delay_us(uint32_t us);

/* Start the LAPIC timer as the kernel tick at OS_TICKS_PER_SEC (periodic, vector
 * BSP_VECT_TICK, ISR = OSTimeTick()). Call once from the first task. */
void bsp_tick_start(void);
/* Tick interrupts taken, and ticks the ISR added to make up for periods the (emulated) LAPIC
 * timer never delivered (see apic.c: the kernel's time follows the TSC schedule). */
void bsp_tick_stats(uint32_t *irqs, uint32_t *catchup);
uint32_t bsp_lapic_timer_hz(void); /* LAPIC timer input clock after the divider */

/* Bench-only sampling profiler (no-op unless built with BSP_PROF_SAMPLES > 0): start
 * clears the buffer and records the interrupted RIP at every tick; stop returns the
 * samples taken (at most BSP_PROF_SAMPLES), two words each: the interrupted RIP and the
 * word on top of the interrupted stack. Task. */
void bsp_prof_start(void);
uint32_t bsp_prof_stop(const uint64_t **rips);
/* Stop, then print the samples through puts_fn in bench/perf/sample.sh's format: a line
 * "prof samples=N", then the RIP/top-of-stack pairs in hex, four per "prof" line. Task. */
void bsp_prof_stop_print(void (*puts_fn)(const char *s));

/* PIT channel 0 as a second periodic interrupt (ISA IRQ0 through the IOAPIC, edge), for
 * tests that need a source independent of the tick. Returns the vector or an error. Task. */
int bsp_aux_timer_start(uint32_t hz, bsp_isr_t isr, void *arg);
void bsp_aux_timer_stop(void);

/* ---- Interrupts ---- */

/*
 * Vector map (LAPIC priority class = vector >> 4):
 *   0x00-0x1F  CPU exceptions -> fault report
 *   0x20       LAPIC timer (kernel tick)
 *   0x30-0x47  IOAPIC inputs, vector 0x30 + pin (pins 0-15 ISA/"pc" INTx, 16-23 q35 PIRQs),
 *              set by bsp_ioapic_route()
 *   0x48-0x7F  MSI/MSI-X, allocated by bsp_vector_alloc()
 *   0x81       kernel context switch (software interrupt, kernel/port/x86_64)
 *   0xE0-0xEF  8259 PICs, remapped here and masked (spurious IRQ7/15 only)
 *   0xFF       LAPIC spurious
 */
#define BSP_VECT_TICK      0x20u
#define BSP_VECT_IOAPIC_LO 0x30u
#define BSP_VECT_IOAPIC_HI 0x47u /* one per IOAPIC pin: 24 on q35 (PCI PIRQs on 16-23) */
#define BSP_VECT_DYN_LO    0x48u
#define BSP_VECT_DYN_HI    0x7Fu
#define BSP_VECT_SPURIOUS  0xFFu

/* Error codes of the board (0 = success). */
#define BSP_OK        0
#define BSP_E_INVAL   (-1) /* bad vector, pin, entry or argument */
#define BSP_E_BUSY    (-2) /* vector already has the maximum number of handlers */
#define BSP_E_NOSPACE (-3) /* no free vector */
#define BSP_E_NODEV   (-4) /* no such device/capability */
#define BSP_E_RANGE   (-5) /* address not mappable */

/*
 * Micrium's BSP_IntVectSet: attach isr(arg) to `vector`. Up to 4 handlers may share a vector
 * (level-triggered INTx lines are shared); each is called in turn. Every handler runs inside
 * OSIntEnter()/OSIntExit() with interrupts disabled and may post to the kernel; the board
 * sends the LAPIC EOI after the handlers, before OSIntExit() may switch tasks. Task.
 */
int bsp_int_vect_set(uint8_t vector, bsp_isr_t isr, void *arg);
int bsp_int_vect_clr(uint8_t vector, bsp_isr_t isr, void *arg);
/* A vector in BSP_VECT_DYN_LO..BSP_VECT_DYN_HI nobody uses yet, or BSP_E_NOSPACE. Task. */
int bsp_vector_alloc(void);

/* Route IOAPIC global system interrupt `gsi` to a vector (allocated on first use, shared by
 * later calls for the same GSI) and attach isr; `level`/`active_low` as the source signals
 * (ISA: edge/high; PCI INTx: level). Unmasks the pin. Returns the vector or an error. Task. */
int bsp_ioapic_route(uint32_t gsi, int level, int active_low, bsp_isr_t isr, void *arg);
int bsp_ioapic_mask(uint32_t gsi, int masked);
/* GSI of ISA IRQ `irq` after the ACPI MADT's source overrides (IRQ0 -> GSI 2 on QEMU). */
uint32_t bsp_isa_irq_to_gsi(uint8_t irq, int *level, int *active_low);

uint32_t bsp_lapic_id(void);
/* The local APIC's in-service and request bitmaps (256 bits each, word i = vectors
 * 32i..32i+31), for diagnosing an interrupt that no longer arrives. Any. */
void bsp_lapic_pending(uint32_t isr[8], uint32_t irr[8]);
/* High-water mark of the dedicated interrupt stack (bytes ever used) and its size. Any. */
void bsp_int_stk_usage(uint32_t *used, uint32_t *size);
/* Count of interrupts taken per vector since boot (diagnostics). */
uint32_t bsp_int_count(uint8_t vector);

/* ---- Faults and exit ---- */

/* QEMU exit status through isa-debug-exit (iobase 0xf4): QEMU exits with (code << 1) | 1.
 * Without that device the write is ignored and the CPU halts forever. Never returns. */
#define BSP_EXIT_PASS  0u /* QEMU status 1 */
#define BSP_EXIT_FAIL  1u /* QEMU status 3 */
#define BSP_EXIT_FAULT 2u /* QEMU status 5: fault report printed */
void bsp_exit(uint32_t code) __attribute__((noreturn));

/* Map [phys, phys+len) as uncached device memory (identity). BSP_OK or BSP_E_RANGE. */
int bsp_mmio_map(uint64_t phys, uint64_t len);

/* Board entry into the application (defined by the app), after board init, irqs off. */
int main(void);

#endif /* BSP_H */
