/*
 * net-loop-test - interrupt delivery through the board with the real driver: two
 * virtio-net functions joined back to back by QEMU socket netdevs (UDP on 127.0.0.1, no host
 * network), NIC 0 on MSI-X and NIC 1 on INTx through the IOAPIC. Each sends NET_LOOP_N
 * frames to the other; each must receive all of them, through its own interrupt path.
 *
 * What it proves about the board: MSI-X table entries deliver to the vectors the board
 * allocated; the level-triggered INTx route fires, is acknowledged by the driver's ISR
 * status read and does not storm after EOI; the virtio_pci_bus accessors carry the driver's
 * whole bring-up. Lines start with "NTEST"; the exit status is BSP_EXIT_PASS/FAIL.
 */
#include <stdint.h>
#include <string.h>
#include "bsp.h"
#include "bsp_pci.h"
#include "bsp_vnet.h"
#include "osal_port.h"
#include "ucos_ii.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"

#define NET_LOOP_N      200u
#define NET_LOOP_TYPE   0x88B5u /* IEEE 802 local experimental EtherType */
#define NET_LOOP_LEN    128u
#define MSIX_ENTRY_CFG  0u
#define MSIX_ENTRY_RX   1u
#define PRIO_START      4u
#define PRIO_RX0        6u
#define PRIO_RX1        7u
#define START_STK_WORDS 4096u
#define STORM_LIMIT                                                                                \
    20000u /* interrupts per NIC in the whole test: a stuck level line                             \
              would take thousands per tick */

struct loop_nic {
    struct virtio_transport *tr;
    struct virtio_net_dev *dev;
    struct bsp_pci_func *f;
    uint8_t mac[6];
    uint8_t peer_mac[6];
    int msix;
    uint8_t vector; /* LAPIC vector carrying its RX interrupts */
    volatile uint32_t rx_ok, rx_other, rx_bad_seq;
    uint8_t seen[NET_LOOP_N];
};

static struct loop_nic nics[2];
static OS_STK start_stk[START_STK_WORDS];

static void loop_log(const char *msg)
{
    bsp_printf("vnet: %s\n", msg);
}

/* RX task context (the driver's). */
static void loop_rx(void *arg, uint8_t *frame, size_t len)
{
    struct loop_nic *n = arg;
    uint32_t seq;

    if (len < 18u || ((frame[12] << 8) | frame[13]) != NET_LOOP_TYPE ||
        memcmp(frame + 6, n->peer_mac, 6u) != 0) {
        n->rx_other++;
        return;
    }
    seq = ((uint32_t)frame[14] << 24) | ((uint32_t)frame[15] << 16) | ((uint32_t)frame[16] << 8) |
          frame[17];
    if (seq >= NET_LOOP_N || n->seen[seq]) {
        n->rx_bad_seq++;
        return;
    }
    n->seen[seq] = 1u;
    n->rx_ok++;
}

static int nic_up(unsigned idx, unsigned prio)
{
    struct loop_nic *n = &nics[idx];
    struct virtio_net_config cfg;
    vnet_err_t err;
    int b;

    n->f = bsp_virtio_net_func(idx);
    if (n->f == NULL) {
        bsp_printf("NTEST nic%u missing\n", idx);
        return 0;
    }
    err = virtio_pci_transport_create(&n->tr, bsp_virtio_net_bus(idx), 0u);
    if (err != VNET_OK) {
        bsp_printf("NTEST nic%u transport: %s\n", idx, vnet_strerror(err));
        return 0;
    }
    bool msix = false;
    static const struct bsp_vnet_msix ents = {
        .cfg = MSIX_ENTRY_CFG, .rx = MSIX_ENTRY_RX, .tx = VIRTIO_PCI_NO_VECTOR};
    err = bsp_vnet_irq_select(n->f, n->tr, &ents, &msix);
    if (err != VNET_OK) {
        bsp_printf("NTEST nic%u msix: %s\n", idx, vnet_strerror(err));
        return 0;
    }
    n->msix = msix;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = n->tr;
    cfg.name = idx == 0u ? "rx0" : "rx1";
    cfg.rx_task_prio = prio;
    cfg.rx_fn = loop_rx;
    cfg.rx_arg = n;
    err = virtio_net_attach(&n->dev, &cfg);
    if (err != VNET_OK) {
        bsp_printf("NTEST nic%u attach: %s\n", idx, vnet_strerror(err));
        return 0;
    }
    /* Routes first: the device may interrupt as soon as RX buffers are posted. */
    b = bsp_vnet_irq_attach(n->f, n->dev, n->msix != 0, &ents, &n->vector);
    if (b != BSP_OK) {
        bsp_printf("NTEST nic%u interrupt setup: %d\n", idx, b);
        return 0;
    }
    err = virtio_net_initialize(n->dev);
    if (err != VNET_OK) {
        bsp_printf("NTEST nic%u initialize: %s\n", idx, vnet_strerror(err));
        return 0;
    }
    (void)virtio_net_get_mac(n->dev, n->mac);
    bsp_printf("NTEST nic%u %02x:%02x.%u device=0x%04x %s vector=0x%x mac=%02x:%02x:%02x:%02x:"
               "%02x:%02x features=0x%llx link=%s mtu=%u\n",
               idx, n->f->bus, n->f->dev, n->f->fn, n->f->device, n->msix ? "msix" : "intx",
               n->vector, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
               (unsigned long long)virtio_net_features(n->dev),
               virtio_net_link_up(n->dev) == 1 ? "up" : "down", (unsigned)virtio_net_mtu(n->dev));
    return 1;
}

static unsigned send_all(struct loop_nic *n)
{
    uint8_t frame[NET_LOOP_LEN];
    unsigned seq, sent = 0u, tries;

    memset(frame, 0, sizeof frame);
    memcpy(frame, n->peer_mac, 6u);
    memcpy(frame + 6, n->mac, 6u);
    frame[12] = (uint8_t)(NET_LOOP_TYPE >> 8);
    frame[13] = (uint8_t)NET_LOOP_TYPE;
    for (seq = 0u; seq < NET_LOOP_N; seq++) {
        frame[14] = (uint8_t)(seq >> 24);
        frame[15] = (uint8_t)(seq >> 16);
        frame[16] = (uint8_t)(seq >> 8);
        frame[17] = (uint8_t)seq;
        for (tries = 0u; tries < 100u; tries++) {
            vnet_err_t err = virtio_net_send(n->dev, frame, sizeof frame, 0u);
            if (err == VNET_OK) {
                sent++;
                break;
            }
            OSTimeDly(1u); /* ring full: completions are reclaimed on the next send */
        }
        if ((seq % 16u) == 15u) {
            OSTimeDly(1u); /* pace: the UDP socket between the NICs has finite buffering */
        }
    }
    return sent;
}

static void start_task(void *arg)
{
    void *heap;
    size_t heap_len;
    unsigned i, sent0, sent1, waited;
    uint32_t cnt0_0, cnt1_0;
    struct virtio_net_stats st[2];
    int ok;

    (void)arg;
    bsp_tick_start();
    bsp_free_ram(&heap, &heap_len);
    ok = osal_ucos2_heap_init(heap, heap_len) == VNET_OK;
    osal_ucos2_log = loop_log;
    ok = ok && bsp_virtio_net_count() == 2u;
    ok = ok && nic_up(0u, PRIO_RX0) && nic_up(1u, PRIO_RX1);
    ok = ok && nics[0].msix && !nics[1].msix; /* the QEMU command line sets this up */
    if (!ok) {
        bsp_printf("NTEST setup FAIL\n");
        bsp_exit(BSP_EXIT_FAIL);
    }
    memcpy(nics[0].peer_mac, nics[1].mac, 6u);
    memcpy(nics[1].peer_mac, nics[0].mac, 6u);
    cnt0_0 = bsp_int_count(nics[0].vector);
    cnt1_0 = bsp_int_count(nics[1].vector);

    sent0 = send_all(&nics[0]);
    sent1 = send_all(&nics[1]);
    for (waited = 0u; waited < 50u; waited++) {
        if (nics[0].rx_ok == NET_LOOP_N && nics[1].rx_ok == NET_LOOP_N) {
            break;
        }
        OSTimeDly(OS_TICKS_PER_SEC / 10u);
    }
    for (i = 0u; i < 2u; i++) {
        struct loop_nic *n = &nics[i];
        uint32_t ints = bsp_int_count(n->vector) - (i == 0u ? cnt0_0 : cnt1_0);
        (void)virtio_net_get_stats(n->dev, &st[i]);
        bsp_printf("NTEST nic%u %s sent=%u received=%u other=%u bad_seq=%u vector_ints=%u "
                   "driver_interrupts=%lu spurious=%lu\n",
                   i, n->msix ? "msix" : "intx", i == 0u ? sent0 : sent1, (unsigned)n->rx_ok,
                   (unsigned)n->rx_other, (unsigned)n->rx_bad_seq, (unsigned)ints, st[i].interrupts,
                   st[i].spurious_interrupts);
        ok = ok && n->rx_ok == NET_LOOP_N && n->rx_bad_seq == 0u && ints > 0u &&
             ints < STORM_LIMIT && st[i].interrupts > 0u;
    }
    ok = ok && sent0 == NET_LOOP_N && sent1 == NET_LOOP_N;
    bsp_printf("NTEST loop %s\n", ok ? "PASS" : "FAIL");
    bsp_exit(ok ? BSP_EXIT_PASS : BSP_EXIT_FAIL);
}

int main(void)
{
    INT8U err;

    bsp_printf("\nvnet-rtos net-loop-test on qemu-x86_64\n");
    OSInit();
    err = OSTaskCreateExt(start_task, NULL, &start_stk[START_STK_WORDS - 1u], PRIO_START,
                          PRIO_START, start_stk, START_STK_WORDS, NULL,
                          OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR);
    if (err != OS_ERR_NONE) {
        bsp_exit(BSP_EXIT_FAIL);
    }
    OSStart();
    return 0;
}
