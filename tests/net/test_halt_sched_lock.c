/*
 * Regression test for "halt under load timed out on uC/OS-II" (fixed in f0acceb).
 *
 * The bug: initialize/halt/detach were serialised by an osal_lock. On the uC/OS-II port an
 * osal_lock is the scheduler lock (OSSchedLock), and under it OSTimeDly returns at once. So
 * halt, waiting for the RX task to park with 1 ms sleeps, never let that task run: with
 * the task in the middle of a pass (traffic), halt spun through its whole wait bound and
 * returned VNET_E_TIMEOUT (qemu.router.reinit failed). Control calls now hold a binary
 * semaphore (dev->ctl_sem), under which halt really sleeps.
 *
 * This runs the production driver on the uC/OS-II port and the hosted kernel
 * (kernel/port/host: one CPU, virtual time), as the router does on its board: the RX task
 * outranks the control task, and its batch_fn sleeps a tick (the router's fairness yield),
 * so under traffic the task is parked in the middle of a pass when the control task runs.
 * The device is the scripted transport (fake_tr.c) with its queue addresses recorded, and
 * the test walks the RX ring as the device would and raises the RX interrupt through the
 * hosted port. Asserted: the RX task was active when halt was called, halt returns
 * VNET_OK, the task has parked, and detach returns every byte to the heap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_tr.h"
#include "hosted_shim.h"
#include "net/virtio_net_priv.h"
#include "osal.h"
#include "ucos_ii.h"
#include "virtio/virtio_ring.h"
#include "vnet/virtio_net.h"

static int checks, failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(c)) {                                                                                \
            failures++;                                                                            \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                                    \
        }                                                                                          \
    } while (0)

#define PRIO_RX      10u /* outranks the control task, as the router's RX tasks its shell */
#define PRIO_CONTROL 12u
#define FRAME_LEN    60u
#define HDR_LEN      12u /* VERSION_1: virtio_net_hdr with num_buffers */
#define F_MAC        (1ull << 5)
#define F_VERSION_1  (1ull << 32)

/* Board hooks of the uC/OS-II port (osal_ucos2_board.h): the hosted kernel's clock. */
static uint64_t board_reads;
uint64_t osal_board_cycles(void)
{
    return hosted_shim_clock() * 1000u + ++board_reads;
}
uint64_t osal_board_cycles_per_us(void)
{
    return 1;
}
/* DMA: the device sees RAM at an offset (as behind a SoC's DMA window), so a CPU pointer
 * the driver handed the device instead of the port's DMA address would be caught;
 * coherent, so the cache maintenance hooks do nothing. */
#define DMA_OFF 0x40000000000ull
uint64_t osal_board_dma_addr(const void *cpu)
{
    return (uint64_t)(uintptr_t)cpu + DMA_OFF;
}
static void *dev_ptr(uint64_t dma)
{
    return (void *)(uintptr_t)(dma - DMA_OFF);
}
void osal_board_dma_sync_for_device(const void *cpu, size_t len)
{
    (void)cpu;
    (void)len;
}
void osal_board_dma_sync_for_cpu(const void *cpu, size_t len)
{
    (void)cpu;
    (void)len;
}

/* ---- the device: fake_tr with the ring addresses kept, RX side walked here ---- */

struct dev_queue {
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t size;
    uint16_t last_avail;
};

static struct fake_tr ftr;
static struct virtio_transport_ops dev_ops;
static struct dev_queue dq[2];

static vnet_err_t dev_queue_setup(struct virtio_transport *t, uint16_t idx, uint16_t size,
                                  uint64_t desc, uint64_t avail, uint64_t used, uint16_t vector)
{
    (void)t;
    (void)vector;
    if (idx < 2) {
        /* Bus addresses from the port (osal_board_dma_addr above), back to pointers. */
        dq[idx].desc = dev_ptr(desc);
        dq[idx].avail = dev_ptr(avail);
        dq[idx].used = dev_ptr(used);
        dq[idx].size = size;
        dq[idx].last_avail = 0;
    }
    return ftr.base.ops == &dev_ops ? VNET_OK : VNET_E_IO;
}

static void dev_init(void)
{
    fake_tr_init(&ftr, false, F_MAC | F_VERSION_1);
    dev_ops = *ftr.base.ops;
    dev_ops.queue_setup = dev_queue_setup;
    ftr.base.ops = &dev_ops;
}

/* Complete one posted RX buffer with a frame, as the device does (spec 2.7.8). Returns
 * false when the driver has no buffer posted. Runs in task context with the driver's
 * interrupts enabled; the driver only reads the used ring, so plain accesses in the
 * hosted kernel's one-CPU model are ordered by the compiler barriers below. */
static bool dev_rx_frame(uint32_t seq)
{
    struct dev_queue *q = &dq[0];
    uint16_t avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
    if (avail_idx == q->last_avail)
        return false;
    uint16_t head = q->avail->ring[q->last_avail % q->size];
    q->last_avail++;
    uint8_t frame[HDR_LEN + FRAME_LEN];
    memset(frame, 0, sizeof(frame));
    static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(frame + HDR_LEN, dst, 6);
    frame[HDR_LEN + 6] = 0x02; /* locally administered source */
    frame[HDR_LEN + 12] = 0x88;
    frame[HDR_LEN + 13] = 0xb5;
    memcpy(frame + HDR_LEN + 14, &seq, sizeof(seq));
    /* Scatter over the chain (one descriptor per buffer here, but walk it anyway). */
    uint32_t off = 0;
    uint16_t d = head;
    for (unsigned hops = 0; off < sizeof(frame) && hops < q->size; hops++) {
        struct virtq_desc *e = &q->desc[d % q->size];
        uint32_t n = e->len < sizeof(frame) - off ? e->len : (uint32_t)sizeof(frame) - off;
        memcpy(dev_ptr(e->addr), frame + off, n);
        off += n;
        if (!(e->flags & 1u)) /* VIRTQ_DESC_F_NEXT */
            break;
        d = e->next;
    }
    uint16_t ui = q->used->idx;
    q->used->ring[ui % q->size].id = head;
    q->used->ring[ui % q->size].len = off;
    __atomic_store_n(&q->used->idx, (uint16_t)(ui + 1u), __ATOMIC_RELEASE);
    return true;
}

/* ---- the application ---- */

static struct virtio_net_dev *net;
static unsigned delivered;
static unsigned batches;

static void app_rx(void *arg, uint8_t *frame, size_t len)
{
    (void)arg;
    (void)frame;
    if (len == FRAME_LEN)
        delivered++;
}

/* The router's fairness yield: after each batch the RX task sleeps a tick, so a task of
 * lower priority gets the CPU while the RX task is still in its pass (task_active). */
static void app_batch(void *arg)
{
    (void)arg;
    batches++;
    osal_sleep_ms(1);
}

static void rx_isr(void *arg)
{
    virtio_net_rx_isr(arg);
}

static bool task_active(void)
{
    osal_crit_t c = osal_crit_enter();
    bool a = net->task_active;
    osal_crit_exit(c);
    return a;
}

/* Frames from the device plus their interrupt: the traffic. */
static unsigned traffic(unsigned n, uint32_t *seq)
{
    unsigned sent = 0;
    while (sent < n && dev_rx_frame((*seq)++))
        sent++;
    hosted_shim_isr(rx_isr, net);
    return sent;
}

static _Alignas(4096) uint8_t heap[4u * 1024u * 1024u];
static OS_STK control_stk[4096];

static void control_task(void *arg)
{
    (void)arg;
    struct osal_ucos2_heap_stats h0, h;
    osal_ucos2_heap_get_stats(&h0);

    dev_init();
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = &ftr.base;
    cfg.rx_fn = app_rx;
    cfg.batch_fn = app_batch;
    cfg.rx_task_prio = PRIO_RX;
    cfg.rx_budget = 8;
    cfg.isr_budget = 16;
    CHECK(virtio_net_attach(&net, &cfg) == VNET_OK);
    if (net == NULL)
        goto out;
    CHECK(virtio_net_initialize(net) == VNET_OK);
    CHECK(dq[0].size != 0);

    /* Under traffic: the ISR stages frames, the RX task runs at once (it outranks us),
     * delivers a batch and yields in batch_fn with backlog left: it is mid-pass. */
    uint32_t seq = 0;
    unsigned sent = traffic(64, &seq);
    CHECK(sent == 64);
    CHECK(batches >= 1);
    CHECK(delivered >= 1 && delivered < sent);
    CHECK(task_active());
    /* More traffic meanwhile: the queue is the task's, the ISR only counts. */
    sent += traffic(16, &seq);
    struct virtio_net_stats st;
    CHECK(virtio_net_get_stats(net, &st) == VNET_OK);
    CHECK(st.rx_irq_owned >= 1);
    CHECK(task_active());

    /* The call the bug broke: halt must let the RX task run to its park. */
    vnet_err_t err = virtio_net_halt(net);
    CHECK(err == VNET_OK);
    if (err != VNET_OK)
        printf("halt under load returned %s\n", vnet_strerror(err));
    CHECK(!task_active());
    CHECK(!virtio_net_is_running(net));

    /* The device is usable again afterwards, and detach returns everything. */
    CHECK(virtio_net_initialize(net) == VNET_OK);
    unsigned before = delivered;
    (void)traffic(4, &seq);
    for (unsigned i = 0; i < 20 && delivered < before + 4u; i++)
        osal_sleep_ms(1);
    CHECK(delivered == before + 4u);
    CHECK(virtio_net_detach(net) == VNET_OK);
    osal_ucos2_heap_get_stats(&h);
    CHECK(h.used_blocks == h0.used_blocks && h.free_bytes == h0.free_bytes);
    printf("sent %u, delivered %u, batches %u\n", sent + 4u, delivered, batches);
out:
    printf("%d checks, %d failed\n", checks, failures);
    fflush(stdout);
    exit(failures == 0 && checks > 0 ? 0 : 1);
}

int main(void)
{
    OSInit();
    if (osal_ucos2_heap_init(heap, sizeof(heap)) != VNET_OK) {
        printf("FAIL heap init\n");
        return 1;
    }
#if OS_STK_GROWTH == 1
    OS_STK *ptos = &control_stk[4095], *pbos = &control_stk[0];
#else
    OS_STK *ptos = &control_stk[0], *pbos = &control_stk[4095];
#endif
    if (OSTaskCreateExt(control_task, NULL, ptos, PRIO_CONTROL, PRIO_CONTROL, pbos, 4096, NULL,
                        OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR) != OS_ERR_NONE) {
        printf("FAIL create control task\n");
        return 1;
    }
    OSStart();
    return 1;
}
