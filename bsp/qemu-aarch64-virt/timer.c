/*
 * timer.c - ARM generic timer: the virtual count as the board's clock (bsp_tsc), the EL1
 * virtual timer (PPI 27) as the kernel tick, the EL1 physical timer (PPI 30) as the tests'
 * independent second interrupt source. Both timers are programmed by compare value
 * (CVAL += period), so the period does not drift with interrupt latency; a tick that comes
 * late (TCG under host load) adds every period that elapsed, so the kernel's time follows
 * the counter, as on the x86_64 board.
 */
#include "bsp_priv.h"
#include "ucos_ii.h"

#define CNT_CTL_ENABLE 1u
#define CNT_CTL_IMASK  2u

static uint64_t cnt_hz;
static uint64_t tick_period, tick_next;
static volatile uint32_t tick_irqs, tick_catchup;
static uint64_t aux_period, aux_next;
static bsp_isr_t aux_fn;
static void *aux_arg;

void bsp_timer_init(void)
{
    cnt_hz = bsp_sysreg_read(cntfrq_el0) & 0xFFFFFFFFu;
    if (cnt_hz == 0u) {
        cnt_hz = 62500000u; /* QEMU's fixed rate before 9.0; CNTFRQ is set by QEMU anyway */
    }
    bsp_sysreg_write(cntv_ctl_el0, CNT_CTL_IMASK);
    bsp_sysreg_write(cntp_ctl_el0, CNT_CTL_IMASK);
}

uint64_t bsp_tsc(void)
{
    bsp_isb(); /* the read is not speculated ahead of earlier instructions */
    return bsp_sysreg_read(cntvct_el0);
}

uint64_t bsp_tsc_hz(void)
{
    return cnt_hz;
}

uint64_t bsp_tsc_to_ns(uint64_t cycles)
{
    return (cycles / cnt_hz) * 1000000000u + (cycles % cnt_hz) * 1000000000u / cnt_hz;
}

uint64_t bsp_time_ns(void)
{
    return bsp_tsc_to_ns(bsp_tsc());
}

uint64_t bsp_cycles(void)
{
    return bsp_tsc();
}

uint64_t bsp_cycles_per_us(void)
{
    uint64_t r = cnt_hz / 1000000u;
    return r != 0u ? r : 1u;
}

void bsp_delay_us(uint32_t us)
{
    uint64_t t0 = bsp_tsc(), n = (uint64_t)us * cnt_hz / 1000000u;

    while (bsp_tsc() - t0 < n) {
    }
}

static void tick_isr(void *arg)
{
    uint64_t now = bsp_tsc();
    uint32_t n = 0u;

    (void)arg;
    tick_irqs++;
    do {
        tick_next += tick_period;
        n++;
        OSTimeTick();
    } while (tick_next <= now && n < 1000u);
    if (tick_next <= now) {
        tick_next = now + tick_period; /* more than a second behind: resynchronise */
    }
    tick_catchup += n - 1u;
    bsp_sysreg_write(cntv_cval_el0, tick_next);
    bsp_isb();
}

void bsp_tick_start(void)
{
    tick_period = cnt_hz / OS_TICKS_PER_SEC;
    tick_next = bsp_tsc() + tick_period;
    bsp_sysreg_write(cntv_cval_el0, tick_next);
    bsp_sysreg_write(cntv_ctl_el0, CNT_CTL_ENABLE);
    bsp_isb();
    (void)bsp_irq_attach(BSP_VECT_TICK, 0, tick_isr, NULL);
}

void bsp_tick_stats(uint32_t *irqs, uint32_t *catchup)
{
    *irqs = tick_irqs;
    *catchup = tick_catchup;
}

static void aux_isr(void *arg)
{
    uint64_t now = bsp_tsc();

    (void)arg;
    do {
        aux_next += aux_period;
    } while (aux_next <= now);
    bsp_sysreg_write(cntp_cval_el0, aux_next);
    bsp_isb();
    if (aux_fn != NULL) {
        aux_fn(aux_arg);
    }
}

int bsp_aux_timer_start(uint32_t hz, bsp_isr_t isr, void *arg)
{
    int rc;

    if (hz == 0u || hz > 100000u || isr == NULL) {
        return BSP_E_INVAL;
    }
    aux_fn = isr;
    aux_arg = arg;
    aux_period = cnt_hz / hz;
    aux_next = bsp_tsc() + aux_period;
    bsp_sysreg_write(cntp_cval_el0, aux_next);
    bsp_sysreg_write(cntp_ctl_el0, CNT_CTL_ENABLE);
    bsp_isb();
    rc = bsp_irq_attach(BSP_INTID_AUX, 0, aux_isr, NULL);
    return rc == BSP_OK ? (int)BSP_INTID_AUX : rc;
}

void bsp_aux_timer_stop(void)
{
    bsp_sysreg_write(cntp_ctl_el0, CNT_CTL_IMASK);
    bsp_isb();
    (void)bsp_irq_detach(BSP_INTID_AUX, aux_isr, NULL);
    aux_fn = NULL;
}

/*
 * The board part of the driver's device full barrier (os/osal.h, osal_device_mb). Under
 * TCG with one vCPU QEMU translates `dmb ish` into no host barrier at all (host fences are
 * emitted only for parallel vCPUs), yet the virtio device is a QEMU thread on another host
 * CPU. A read of a device register is dispatched under QEMU's global mutex, whose locked
 * acquire is a full host barrier: the store before it is visible to the device thread
 * before the load after it. The PL011 flag register has no side effects. On hardware (or
 * with parallel vCPUs) the CPU barrier is enough and this would be an empty function.
 */
void bsp_device_mb(void)
{
    (void)mmio_read32(VIRT_UART_BASE + 0x18u);
}

void bsp_prof_start(void)
{
}

uint32_t bsp_prof_stop(const uint64_t **rips)
{
    *rips = NULL;
    return 0u;
}
