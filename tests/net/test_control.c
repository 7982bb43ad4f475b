/*
 * Serialised control (issue 15): virtio_net_initialize/halt from several tasks at once
 * while frames arrive, and every control call from the device's own callbacks or from an
 * ISR refused at once with VNET_E_CONTEXT (it used to wait 10 s for itself and time out).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <string.h>
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static int inject_seq(struct nh *h, uint32_t seq)
{
    uint8_t buf[128];
    simdev_frame_build(buf, sizeof(buf), seq, dst);
    return simdev_rx_inject(h->sim, buf, sizeof(buf));
}

/* --- concurrent initialize / halt --- */

struct ctl_arg {
    struct nh *h;
    unsigned id;
    unsigned ok_init, ok_halt, state_err, other;
};

static void *ctl_main(void *p)
{
    struct ctl_arg *a = p;
    for (unsigned i = 0; i < 150; i++) {
        vnet_err_t e =
            ((i + a->id) & 1u) ? virtio_net_initialize(a->h->dev) : virtio_net_halt(a->h->dev);
        if (e == VNET_OK)
            ((i + a->id) & 1u) ? a->ok_init++ : a->ok_halt++;
        else if (e == VNET_E_STATE)
            a->state_err++;
        else
            a->other++;
    }
    return NULL;
}

static void test_concurrent(void)
{
    tn_case("initialize/halt from 4 tasks at once, frames arriving: serialised");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN, .irq_mode = SIMDEV_IRQ_MSIX};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    struct simdev_rx_gen g = {.count = 200000, .min_len = 60, .max_len = 200, .pps = 0};
    TN_EQ(simdev_rx_gen_start(h.sim, &g), SIMDEV_OK);
    struct ctl_arg a[4];
    pthread_t th[4];
    for (unsigned i = 0; i < 4; i++) {
        a[i] = (struct ctl_arg){.h = &h, .id = i};
        pthread_create(&th[i], NULL, ctl_main, &a[i]);
    }
    unsigned inits = 0, halts = 0, other = 0;
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        inits += a[i].ok_init;
        halts += a[i].ok_halt;
        other += a[i].other;
    }
    simdev_rx_gen_stop(h.sim);
    /* Every call either did its transition or found the state it wanted already:
     * successful transitions alternate from RUNNING, so halts lead by at most one. */
    TN_EQ(other, 0);
    TN_CHECK(inits > 0 && halts > 0);
    TN_CHECK(halts == inits || halts == inits + 1);
    bool running = virtio_net_is_running(h.dev);
    TN_EQ(running, halts == inits);
    if (!running)
        TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
    /* Still a working device. */
    struct nh_rx r0;
    nh_rx_snapshot(&h, &r0);
    TN_EQ(inject_seq(&h, 0), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, r0.frames + 1, 5000));
    printf("   %u initializes, %u halts succeeded\n", inits, halts);
    h.raw_frames = true;
    TN_CHECK(nh_close(&h));
}

/* --- control calls from the device's own callback, and from an ISR --- */

static vnet_err_t cb_halt, cb_init, cb_detach, isr_halt;
static volatile bool cb_done;
static void ctl_from_rx(struct nh *h, const uint8_t *frame, size_t len)
{
    (void)frame;
    (void)len;
    if (cb_done)
        return;
    cb_halt = virtio_net_halt(h->dev);
    cb_init = virtio_net_initialize(h->dev);
    cb_detach = virtio_net_detach(h->dev);
    cb_done = true;
}

static struct virtio_net_dev *isr_dev;
static void ctl_isr(void *arg)
{
    (void)arg;
    isr_halt = virtio_net_halt(isr_dev);
}

static void test_from_callback(void)
{
    tn_case("halt/initialize/detach from rx_fn and from an ISR: VNET_E_CONTEXT at once");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    h.on_rx = ctl_from_rx;
    TN_EQ(inject_seq(&h, 0), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 5000));
    for (int i = 0; i < 5000 && !cb_done; i++)
        nh_sleep_ms(1);
    TN_CHECK(cb_done);
    TN_EQ(cb_halt, VNET_E_CONTEXT);
    TN_EQ(cb_init, VNET_E_CONTEXT);
    TN_EQ(cb_detach, VNET_E_CONTEXT);
    TN_CHECK(virtio_net_is_running(h.dev));
    /* From an ISR (a spare line of the POSIX port). */
    isr_dev = h.dev;
    isr_halt = VNET_OK;
    TN_EQ(osal_posix_irq_attach(60, ctl_isr, NULL), VNET_OK);
    osal_posix_irq_raise(60);
    osal_posix_irq_detach(60);
    TN_EQ(isr_halt, VNET_E_CONTEXT);
    TN_CHECK(virtio_net_is_running(h.dev));
    /* The same calls from another task work. */
    TN_EQ(virtio_net_halt(h.dev), VNET_OK);
    TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
    TN_EQ(inject_seq(&h, 1), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 2, 5000));
    h.on_rx = NULL;
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    osal_posix_log_quiet(true);
    test_from_callback();
    test_concurrent();
    return tn_finish();
}
