/*
 * apic.c - interrupt controllers and clocks: 8259s remapped and masked, the local APIC (xAPIC
 * MMIO), the IOAPIC, the ACPI PM timer, TSC and LAPIC-timer calibration, the kernel tick and
 * the PIT as an auxiliary periodic source routed through the IOAPIC.
 *
 * Register offsets: Intel SDM vol. 3 ch. 10 (LAPIC); 82093AA datasheet (IOAPIC); 8254
 * datasheet (PIT).
 */
#include "bsp_priv.h"
#include "ucos_ii.h"

#define LAPIC_ID        0x020u
#define LAPIC_TPR       0x080u
#define LAPIC_EOI       0x0B0u
#define LAPIC_SVR       0x0F0u
#define LAPIC_LVT_TIMER 0x320u
#define LAPIC_LVT_LINT0 0x350u
#define LAPIC_LVT_LINT1 0x360u
#define LAPIC_LVT_ERR   0x370u
#define LAPIC_TMR_INIT  0x380u
#define LAPIC_TMR_CUR   0x390u
#define LAPIC_TMR_DIV   0x3E0u
#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define LVT_NMI         (4u << 8)
#define SVR_ENABLE      (1u << 8)
#define TMR_DIV_16      0x3u
#define MSR_APIC_BASE   0x1Bu
#define APIC_BASE_EN    (1uL << 11)

#define IOAPIC_REGSEL   0x00u
#define IOAPIC_WIN      0x10u
#define IOAPIC_VER      0x01u
#define IOAPIC_REDTBL   0x10u
#define RTE_LOW_ACTIVE  (1u << 13)
#define RTE_LEVEL       (1u << 15)
#define RTE_MASKED      (1u << 16)
#define IOAPIC_MAX_PINS 24u

#define PIT_CH0        0x40u
#define PIT_CMD        0x43u
#define PIT_HZ         1193182u
#define CALIB_PM_TICKS (BSP_PMTMR_HZ / 10u) /* 100 ms window */
#define CALIB_SPIN_MAX 200000000u

static uintptr_t lapic;
static uintptr_t ioapic;
static uint32_t ioapic_pins;
static uint8_t gsi_vector[IOAPIC_MAX_PINS];
static uint64_t tsc_hz;
static uint32_t lapic_hz; /* after the /16 divider */
static uint32_t pm_mask = 0xFFFFFFu;

static inline uint32_t lapic_rd(uint32_t r)
{
    return mmio_read32(lapic + r);
}
static inline void lapic_wr(uint32_t r, uint32_t v)
{
    mmio_write32(lapic + r, v);
}
static uint32_t ioapic_rd(uint32_t r)
{
    mmio_write32(ioapic + IOAPIC_REGSEL, r);
    return mmio_read32(ioapic + IOAPIC_WIN);
}
static void ioapic_wr(uint32_t r, uint32_t v)
{
    mmio_write32(ioapic + IOAPIC_REGSEL, r);
    mmio_write32(ioapic + IOAPIC_WIN, v);
}

/*
 * SeaBIOS leaves the 8259s programmed at vectors 0x08/0x70, which would collide with CPU
 * exceptions if an IRQ ever got through. Re-initialise them at 0xE0/0xE8 (ICW1..ICW4) and mask
 * every line: all device interrupts go through the IOAPIC. A spurious IRQ7/15 can still
 * arrive from a masked 8259 and is ignored by the central handler.
 */
void bsp_pic_disable(void)
{
    outb(0x20u, 0x11u);
    outb(0xA0u, 0x11u);
    outb(0x21u, 0xE0u);
    outb(0xA1u, 0xE8u);
    outb(0x21u, 0x04u); /* slave on IR2 */
    outb(0xA1u, 0x02u);
    outb(0x21u, 0x01u); /* 8086 mode */
    outb(0xA1u, 0x01u);
    outb(0x21u, 0xFFu);
    outb(0xA1u, 0xFFu);
}

void bsp_apic_init(void)
{
    uint32_t pin;

    lapic = (uintptr_t)bsp_acpi.lapic_addr;
    ioapic = (uintptr_t)bsp_acpi.ioapic_addr;
    (void)bsp_mmio_map(lapic, 4096u);
    (void)bsp_mmio_map(ioapic, 4096u);
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN);
    lapic_wr(LAPIC_TPR, 0u);
    lapic_wr(LAPIC_LVT_LINT0, LVT_MASKED); /* ExtINT from the 8259s: not used */
    lapic_wr(LAPIC_LVT_LINT1, LVT_NMI);
    lapic_wr(LAPIC_LVT_ERR, LVT_MASKED);
    lapic_wr(LAPIC_LVT_TIMER, LVT_MASKED | BSP_VECT_TICK);
    lapic_wr(LAPIC_SVR, SVR_ENABLE | BSP_VECT_SPURIOUS);

    ioapic_pins = ((ioapic_rd(IOAPIC_VER) >> 16) & 0xFFu) + 1u;
    if (ioapic_pins > IOAPIC_MAX_PINS) {
        ioapic_pins = IOAPIC_MAX_PINS;
    }
    for (pin = 0u; pin < ioapic_pins; pin++) {
        ioapic_wr(IOAPIC_REDTBL + 2u * pin, RTE_MASKED);
        ioapic_wr(IOAPIC_REDTBL + 2u * pin + 1u, 0u);
    }
    if (bsp_acpi.pm_tmr_32bit) {
        pm_mask = 0xFFFFFFFFu;
    }
}

void bsp_lapic_eoi(void)
{
    lapic_wr(LAPIC_EOI, 0u);
}

void bsp_lapic_pending(uint32_t isr[8], uint32_t irr[8])
{
    /* ISR: vectors in service (EOI not yet written); IRR: vectors requested, not taken. */
    for (uint32_t i = 0; i < 8u; i++) {
        isr[i] = lapic_rd(0x100u + i * 0x10u);
        irr[i] = lapic_rd(0x200u + i * 0x10u);
    }
}

uint32_t bsp_lapic_id(void)
{
    return lapic_rd(LAPIC_ID) >> 24;
}

uint32_t bsp_pmtmr_read(void)
{
    return inl(bsp_acpi.pm_tmr_port) & pm_mask;
}

/*
 * The driver's device full barrier (osal_device_mb -> here), after its `lock addl`.
 * QEMU's TCG before 8.1 translates a one-vCPU guest's barrier instructions and locked
 * operations into plain host loads and stores (it elides them when no other vCPU thread
 * exists), yet virtio-net runs in QEMU's I/O thread, concurrently, on another host CPU.
 * The host CPU may then let the guest's load of avail_event / used->idx pass its earlier
 * store of avail->idx / used_event: a kick or an interrupt is lost and the queue stalls
 * for good (seen as a NIC that stops forwarding under load). QEMU 8.1 fixed this in TCG
 * ("tcg: Always implement memory barrier for system mode"); Debian 12 ships 7.2.
 *
 * INVLPG is a serializing instruction on x86 (SDM vol. 3, 9.3), and TCG emulates it in a
 * helper that takes the vCPU's TLB spin lock (an atomic exchange: a full host barrier)
 * between the guest's earlier stores and its later loads. It replaced an ACPI PM-timer
 * port read, which ordered the same way through QEMU's global mutex but had to wait for
 * that mutex while the I/O thread held it for a whole batch of tap reads or writes: the
 * firmware's tick sampler (bench/perf/sample.sh) put 23 % of the vCPU's time, TCP 1
 * stream, right after that read, plus most of another 46 % inside critical sections that
 * contained one. The page flushed is never mapped and lies far above every page the board
 * maps, so QEMU's large-page range (one flush there empties the whole TLB) never covers
 * it and no translation is lost. Any context.
 */
#define DEVICE_MB_PAGE 0x00007FFFFFE00000uL

void bsp_device_mb(void)
{
    __asm__ volatile("invlpg (%0)" : : "r"(DEVICE_MB_PAGE) : "memory");
}

uint32_t bsp_pmtmr_mask(void)
{
    return pm_mask;
}

uint16_t bsp_pmtmr_port(void)
{
    return bsp_acpi.pm_tmr_port;
}

uint64_t bsp_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/*
 * One window of CALIB_PM_TICKS PM-timer ticks (100 ms) measures the TSC and the LAPIC timer
 * (one-shot from 0xFFFFFFFF, masked) together. The PM timer is the reference because its
 * rate is fixed by the ACPI specification (3.579545 MHz), independent of both.
 * Under TCG the first pass through this code also pays for its translation, which skewed a
 * single 100 ms window by ~400 ppm against the PM timer: a short first window warms the code
 * up and only the second one counts.
 */
static uint32_t calib_window(uint32_t pm_ticks, uint64_t *tsc_d, uint32_t *lapic_d)
{
    uint32_t pm0, pm1, d = 0u, lapic0, lapic1, spin;
    uint64_t tsc0, tsc1;

    lapic_wr(LAPIC_TMR_DIV, TMR_DIV_16);
    lapic_wr(LAPIC_LVT_TIMER, LVT_MASKED | BSP_VECT_TICK);
    lapic_wr(LAPIC_TMR_INIT, 0xFFFFFFFFu);
    /* Start on a PM tick edge so the window is not short by up to one tick. */
    pm0 = bsp_pmtmr_read();
    for (spin = 0u; spin < CALIB_SPIN_MAX && bsp_pmtmr_read() == pm0; spin++) {
    }
    pm0 = bsp_pmtmr_read();
    tsc0 = bsp_tsc();
    lapic0 = lapic_rd(LAPIC_TMR_CUR);
    for (spin = 0u; spin < CALIB_SPIN_MAX; spin++) {
        pm1 = bsp_pmtmr_read();
        d = (pm1 - pm0) & pm_mask;
        if (d >= pm_ticks) {
            break;
        }
    }
    tsc1 = bsp_tsc();
    lapic1 = lapic_rd(LAPIC_TMR_CUR);
    lapic_wr(LAPIC_TMR_INIT, 0u);
    *tsc_d = tsc1 - tsc0;
    *lapic_d = lapic0 - lapic1;
    return d;
}

void bsp_timers_calibrate(void)
{
    uint64_t tsc_d;
    uint32_t lapic_d, d;

    if (bsp_acpi.pm_tmr_port == 0u) {
        bsp_printf("bsp: no ACPI PM timer; cannot calibrate\n");
        bsp_exit(BSP_EXIT_FAIL);
    }
    (void)calib_window(CALIB_PM_TICKS / 20u, &tsc_d, &lapic_d);
    d = calib_window(CALIB_PM_TICKS, &tsc_d, &lapic_d);
    if (d < CALIB_PM_TICKS) {
        bsp_printf("bsp: PM timer at port 0x%x does not advance\n", bsp_acpi.pm_tmr_port);
        bsp_exit(BSP_EXIT_FAIL);
    }
    tsc_hz = tsc_d * BSP_PMTMR_HZ / d;
    lapic_hz = (uint32_t)((uint64_t)lapic_d * BSP_PMTMR_HZ / d);
}

uint64_t bsp_tsc_hz(void)
{
    return tsc_hz;
}

uint64_t bsp_tsc_to_ns(uint64_t cycles)
{
    /* Split to avoid overflow: cycles * 1e9 overflows after ~7 s at 2.6 GHz. */
    return cycles / tsc_hz * 1000000000u + (cycles % tsc_hz) * 1000000000u / tsc_hz;
}

static uint64_t tsc_boot;

uint64_t bsp_time_ns(void)
{
    if (tsc_boot == 0u) {
        tsc_boot = bsp_tsc();
    }
    return bsp_tsc_to_ns(bsp_tsc() - tsc_boot);
}

uint64_t bsp_cycles(void)
{
    return bsp_tsc();
}

uint64_t bsp_cycles_per_us(void)
{
    uint64_t r = tsc_hz / 1000000u;
    return r != 0u ? r : 1u;
}

void bsp_delay_us(uint32_t us)
{
    uint64_t start = bsp_tsc();
    uint64_t span = (uint64_t)us * bsp_cycles_per_us();

    while (bsp_tsc() - start < span) {
        __asm__ volatile("pause");
    }
}

uint32_t bsp_lapic_timer_hz(void)
{
    return lapic_hz;
}

/*
 * Lost-tick compensation. QEMU's periodic LAPIC timer re-arms relative to "now" when its
 * callback runs late (host load under TCG), so periods it missed are never delivered: we
 * measured 1.4% of 1 kHz ticks lost while another process loaded the host. The ISR keeps
 * a TSC schedule (tick k is due at tick_tsc0 + k * period) and, after the tick it was
 * called for, delivers the ticks whose due time has passed by more than half a period. The
 * kernel's time then follows the TSC in the long run, whatever the interrupt delivery did;
 * the raw interrupt count and the compensated ticks are kept apart for tests to report.
 * Bounded per interrupt so that a long stall (e.g. a debugger) is caught up gradually.
 */
#define TICK_CATCHUP_MAX 64u

static uint64_t tick_tsc0, tick_tsc_period;
static uint64_t tick_delivered;
static volatile uint32_t tick_irqs, tick_catchup;

static void tick_isr(void *arg)
{
    uint64_t due;
    uint32_t extra = 0u;

    (void)arg;
    tick_irqs++;
    OSTimeTick();
    tick_delivered++;
    due = (bsp_tsc() - tick_tsc0 + tick_tsc_period / 2u) / tick_tsc_period;
    while (tick_delivered < due && extra < TICK_CATCHUP_MAX) {
        OSTimeTick();
        tick_delivered++;
        extra++;
    }
    tick_catchup += extra;
}

void bsp_tick_stats(uint32_t *irqs, uint32_t *catchup)
{
    *irqs = tick_irqs;
    *catchup = tick_catchup;
}

void bsp_tick_start(void)
{
    uint32_t count = (lapic_hz + OS_TICKS_PER_SEC / 2u) / OS_TICKS_PER_SEC;

    (void)bsp_int_vect_set(BSP_VECT_TICK, tick_isr, NULL);
    tick_tsc_period = tsc_hz / OS_TICKS_PER_SEC;
    tick_tsc0 = bsp_tsc();
    lapic_wr(LAPIC_TMR_DIV, TMR_DIV_16);
    lapic_wr(LAPIC_LVT_TIMER, LVT_PERIODIC | BSP_VECT_TICK);
    lapic_wr(LAPIC_TMR_INIT, count);
}

int bsp_ioapic_mask(uint32_t gsi, int masked)
{
    uint32_t pin = gsi - bsp_acpi.ioapic_gsi_base;
    uint64_t f;
    uint32_t lo;

    if (gsi < bsp_acpi.ioapic_gsi_base || pin >= ioapic_pins) {
        return BSP_E_INVAL;
    }
    f = bsp_irq_save();
    lo = ioapic_rd(IOAPIC_REDTBL + 2u * pin);
    lo = masked ? (lo | RTE_MASKED) : (lo & ~RTE_MASKED);
    ioapic_wr(IOAPIC_REDTBL + 2u * pin, lo);
    bsp_irq_restore(f);
    return BSP_OK;
}

int bsp_ioapic_route(uint32_t gsi, int level, int active_low, bsp_isr_t isr, void *arg)
{
    uint32_t pin = gsi - bsp_acpi.ioapic_gsi_base;
    uint32_t lo;
    uint64_t f;
    unsigned v;
    int rc;

    if (gsi < bsp_acpi.ioapic_gsi_base || pin >= ioapic_pins || isr == NULL) {
        return BSP_E_INVAL;
    }
    if (gsi_vector[pin] == 0u) {
        /* One vector per pin, in the IOAPIC block, in pin order (fixed and predictable). */
        v = BSP_VECT_IOAPIC_LO + pin;
        if (v > BSP_VECT_IOAPIC_HI) {
            return BSP_E_NOSPACE;
        }
        gsi_vector[pin] = (uint8_t)v;
    }
    v = gsi_vector[pin];
    rc = bsp_int_vect_set((uint8_t)v, isr, arg);
    if (rc != BSP_OK) {
        return rc;
    }
    lo = v | (level ? RTE_LEVEL : 0u) | (active_low ? RTE_LOW_ACTIVE : 0u);
    f = bsp_irq_save();
    ioapic_wr(IOAPIC_REDTBL + 2u * pin + 1u, bsp_lapic_id() << 24);
    ioapic_wr(IOAPIC_REDTBL + 2u * pin, lo);
    bsp_irq_restore(f);
    return (int)v;
}

/*
 * PIT channel 0 as an auxiliary periodic interrupt (ISA IRQ0, GSI 2 on QEMU via the MADT
 * override), for tests that need an interrupt source independent of the kernel tick.
 * Mode 2 (rate generator), divisor PIT_HZ / hz.
 */
int bsp_aux_timer_start(uint32_t hz, bsp_isr_t isr, void *arg)
{
    int level, low, v;
    uint32_t gsi = bsp_isa_irq_to_gsi(0u, &level, &low);
    uint32_t div = hz != 0u ? PIT_HZ / hz : 0u;

    if (div < 2u || div > 65535u) {
        return BSP_E_INVAL;
    }
    v = bsp_ioapic_route(gsi, level, low, isr, arg);
    if (v < 0) {
        return v;
    }
    outb(PIT_CMD, 0x34u); /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH0, (uint8_t)div);
    outb(PIT_CH0, (uint8_t)(div >> 8));
    return v;
}

void bsp_aux_timer_stop(void)
{
    int level, low;

    (void)bsp_ioapic_mask(bsp_isa_irq_to_gsi(0u, &level, &low), 1);
    outb(PIT_CMD, 0x30u); /* channel 0, mode 0: one terminal count, then silence */
    outb(PIT_CH0, 0xFFu);
    outb(PIT_CH0, 0xFFu);
}
