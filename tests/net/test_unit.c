/*
 * Unit tests of the driver's bring-up logic with a scripted transport (fake_tr): feature
 * negotiation, dependency rules, FEATURES_OK refusal, MTU validation, MAC fallback, and the
 * distinct errors and FAILED status of each failing init step. Every test ends with a leak
 * check of the POSIX port.
 */
#include <string.h>
#include "fake_tr.h"
#include "net/virtio_net_priv.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static void rx_discard(void *arg, uint8_t *frame, size_t len)
{
    (void)arg;
    (void)frame;
    (void)len;
}

static struct virtio_net_dev *attach(struct fake_tr *f, const uint8_t *fallback)
{
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = &f->base;
    cfg.rx_fn = rx_discard;
    cfg.rx_task_prio = 10;
    if (fallback)
        memcpy(cfg.fallback_mac, fallback, 6);
    struct virtio_net_dev *dev = NULL;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_OK);
    return dev;
}

static void detach_and_check_leaks(struct virtio_net_dev *dev)
{
    TN_EQ(virtio_net_detach(dev), VNET_OK);
    TN_EQ(osal_posix_dma_outstanding(), 0);
    TN_EQ(osal_posix_mem_outstanding(), 0);
}

static void test_negotiate_supported_only(void)
{
    tn_case("negotiate: never accepts a feature it does not handle");
    uint64_t f = 0;
    TN_EQ(virtio_net_negotiate(~0ull, 0, false, &f), VNET_OK);
    TN_EQ(f, VIRTIO_NET_DRIVER_FEATURES);
    TN_EQ(f & (VIRTIO_F_RING_PACKED | VIRTIO_F_ACCESS_PLATFORM | VIRTIO_NET_F_CTRL_VQ |
               VIRTIO_NET_F_MQ | VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_GUEST_CSUM |
               VIRTIO_RING_F_INDIRECT_DESC),
          0);
    /* Legacy: one 32-bit word, never VERSION_1. */
    TN_EQ(virtio_net_negotiate(~0ull, 0, true, &f), VNET_OK);
    TN_EQ(f >> 32, 0);
    TN_EQ(f, VIRTIO_NET_DRIVER_FEATURES & 0xffffffffull);
    /* The application's mask restricts further. */
    TN_EQ(virtio_net_negotiate(~0ull, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC, false, &f), VNET_OK);
    TN_EQ(f, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC);
    /* Only what the device offers. */
    TN_EQ(virtio_net_negotiate(VIRTIO_F_VERSION_1 | VIRTIO_NET_F_GUEST_TSO4, 0, false, &f),
          VNET_OK);
    TN_EQ(f, VIRTIO_F_VERSION_1);
}

static void test_negotiate_modern_needs_v1(void)
{
    tn_case("negotiate: modern transport requires VERSION_1");
    uint64_t f = 0;
    TN_EQ(virtio_net_negotiate(VIRTIO_NET_F_MAC, 0, false, &f), VNET_E_FEATURES);
    TN_EQ(virtio_net_negotiate(~0ull, VIRTIO_NET_F_MAC, false, &f), VNET_E_FEATURES);
    TN_EQ(virtio_net_negotiate(VIRTIO_NET_F_MAC, 0, true, &f), VNET_OK);
}

static void test_feature_deps(void)
{
    tn_case("feature dependency rules (spec 5.1.3.1)");
    TN_EQ(virtio_net_apply_feature_deps(VIRTIO_NET_F_GUEST_TSO4), 0);
    TN_EQ(virtio_net_apply_feature_deps(VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_CSUM),
          VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_CSUM);
    /* ECN depends on TSO which depends on CSUM: both fall, in two passes. */
    TN_EQ(virtio_net_apply_feature_deps(VIRTIO_NET_F_GUEST_ECN | VIRTIO_NET_F_GUEST_TSO6), 0);
    TN_EQ(virtio_net_apply_feature_deps(VIRTIO_NET_F_HOST_ECN | VIRTIO_NET_F_HOST_TSO4 |
                                        VIRTIO_NET_F_CSUM),
          VIRTIO_NET_F_HOST_ECN | VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_CSUM);
    TN_EQ(virtio_net_apply_feature_deps(VIRTIO_NET_F_CTRL_RX | VIRTIO_NET_F_MQ |
                                        VIRTIO_NET_F_CTRL_MAC_ADDR | VIRTIO_NET_F_MAC),
          VIRTIO_NET_F_MAC);
    TN_EQ(virtio_net_apply_feature_deps(VIRTIO_NET_F_CTRL_RX | VIRTIO_NET_F_CTRL_VQ),
          VIRTIO_NET_F_CTRL_RX | VIRTIO_NET_F_CTRL_VQ);
}

static void test_mtu_check(void)
{
    tn_case("MTU validation");
    TN_EQ(virtio_net_check_mtu(0), VNET_E_RANGE);
    TN_EQ(virtio_net_check_mtu(67), VNET_E_RANGE);
    TN_EQ(virtio_net_check_mtu(68), VNET_OK);
    TN_EQ(virtio_net_check_mtu(1500), VNET_OK);
    TN_EQ(virtio_net_check_mtu(9000), VNET_OK);
    TN_EQ(virtio_net_check_mtu(9001), VNET_E_RANGE);
    TN_EQ(virtio_net_check_mtu(65535), VNET_E_RANGE);
}

static void test_mac_fallback(void)
{
    tn_case("MAC fallback is a locally administered unicast address");
    static const uint8_t zero[6];
    uint8_t mac[6], prev[6] = {0};
    int differ = 0;
    for (int i = 0; i < 200; i++) {
        virtio_net_fallback_mac(zero, mac);
        TN_EQ(mac[0] & 0x01, 0); /* unicast */
        TN_EQ(mac[0] & 0x02, 2); /* locally administered */
        differ += memcmp(mac, prev, 6) != 0;
        memcpy(prev, mac, 6);
    }
    TN_CHECK(differ > 150);
    static const uint8_t given[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    virtio_net_fallback_mac(given, mac);
    TN_CHECK(memcmp(mac, given, 6) == 0);
}

static void test_init_ok_and_sequence(bool legacy)
{
    tn_case(legacy ? "init on a legacy fake: status sequence, features, halt"
                   : "init on a modern fake: status sequence, features, halt");
    struct fake_tr f;
    fake_tr_init(&f, legacy, ~0ull);
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_CHECK(virtio_net_is_running(dev));
    /* Spec 3.1.1 order: ACK, ACK|DRIVER, [+FEATURES_OK], +DRIVER_OK. */
    int i = 0;
    TN_EQ(f.status_log[i++], VIRTIO_STATUS_ACKNOWLEDGE);
    TN_EQ(f.status_log[i++], VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    if (!legacy)
        TN_EQ(f.status_log[i++],
              VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    TN_EQ(f.status_log[i] & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
    TN_EQ(f.status_writes, i + 1);
    TN_EQ(f.features_writes, 1);
    TN_EQ(f.driver_features & ~VIRTIO_NET_DRIVER_FEATURES, 0);
    TN_EQ(virtio_net_features(dev), f.driver_features);
    TN_EQ(f.queues_setup, 2);
    TN_CHECK(f.notifies >= 1); /* RX buffers announced after DRIVER_OK */
    uint8_t mac[6];
    TN_EQ(virtio_net_get_mac(dev, mac), VNET_OK);
    TN_CHECK(memcmp(mac, f.cfg, 6) == 0);
    TN_EQ(virtio_net_mtu(dev), 1500);
    TN_EQ(virtio_net_link_up(dev), 1);
    TN_EQ(virtio_net_initialize(dev), VNET_E_STATE);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    TN_EQ(virtio_net_halt(dev), VNET_E_STATE);
    TN_CHECK(!virtio_net_is_running(dev));
    struct virtio_net_stats st;
    TN_EQ(virtio_net_get_stats(dev, &st), VNET_OK);
    TN_EQ(st.resets, 1);
    detach_and_check_leaks(dev);
}

static void test_features_ok_refused(void)
{
    tn_case("FEATURES_OK refused -> VNET_E_FEATURES, FAILED written");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    f.refuse_features_ok = true;
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_E_FEATURES);
    TN_CHECK(f.status & VIRTIO_STATUS_FAILED);
    TN_CHECK(!fake_tr_status_written(&f, VIRTIO_STATUS_DRIVER_OK));
    TN_EQ(f.queues_setup, 0);
    TN_CHECK(!virtio_net_is_running(dev));
    /* Recovers once the device behaves. */
    f.refuse_features_ok = false;
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    detach_and_check_leaks(dev);
}

static void test_modern_without_v1(void)
{
    tn_case("modern device without VERSION_1 -> VNET_E_FEATURES");
    struct fake_tr f;
    fake_tr_init(&f, false, VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS);
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_E_FEATURES);
    TN_CHECK(f.status & VIRTIO_STATUS_FAILED);
    detach_and_check_leaks(dev);
}

static void test_reset_hangs(void)
{
    tn_case("reset never completes -> VNET_E_TIMEOUT, FAILED");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    f.reset_hangs = true;
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_E_TIMEOUT);
    TN_CHECK(f.status & VIRTIO_STATUS_FAILED);
    TN_CHECK(!fake_tr_status_written(&f, VIRTIO_STATUS_ACKNOWLEDGE));
    /* Halt of a running device whose reset then hangs keeps the memory, retry works. */
    f.reset_hangs = false;
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    f.reset_hangs = true;
    TN_EQ(virtio_net_halt(dev), VNET_E_TIMEOUT);
    TN_CHECK(osal_posix_dma_outstanding() > 0); /* not freed under a live device */
    TN_EQ(virtio_net_initialize(dev), VNET_E_STATE);
    f.reset_hangs = false;
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    detach_and_check_leaks(dev);
}

static void test_msix_refused(void)
{
    tn_case("MSI-X vector refused -> VNET_E_IO, FAILED, nothing leaked");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    f.refuse_vector = true;
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = &f.base;
    cfg.rx_fn = rx_discard;
    cfg.rx_task_prio = 10;
    static const uint16_t qv[] = {1};
    TN_EQ(virtio_transport_use_msix(&f.base, 0, qv, 1), VNET_OK);
    struct virtio_net_dev *dev = NULL;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_OK);
    TN_EQ(virtio_net_initialize(dev), VNET_E_IO);
    TN_CHECK(f.status & VIRTIO_STATUS_FAILED);
    TN_CHECK(!fake_tr_status_written(&f, VIRTIO_STATUS_DRIVER_OK));
    TN_EQ(osal_posix_dma_outstanding(), 0);
    detach_and_check_leaks(dev);
}

static void test_mtu_from_device(void)
{
    tn_case("device MTU < 68 -> VNET_E_RANGE; in range -> used; > 9000 -> feature declined");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    f.cfg[10] = 50;
    f.cfg[11] = 0;
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_E_RANGE);
    TN_CHECK(f.status & VIRTIO_STATUS_FAILED);
    f.cfg[10] = 9000 & 0xff;
    f.cfg[11] = 9000 >> 8;
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(virtio_net_mtu(dev), 9000);
    /* A 9000-byte MTU frame (+14) is accepted by send; one byte above the VLAN allowance
     * is refused. */
    static uint8_t big[9100];
    TN_EQ(virtio_net_send(dev, big, 9000 + 14, 0), VNET_OK);
    TN_EQ(virtio_net_send(dev, big, 9000 + 14 + 4 + 1, 0), VNET_E_TOOBIG);
    /* Legal but above what the driver supports: the feature is declined, not the device. */
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    f.cfg[10] = 9001 & 0xff;
    f.cfg[11] = 9001 >> 8;
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(virtio_net_mtu(dev), 1500);
    TN_CHECK(!(virtio_net_features(dev) & VIRTIO_NET_F_MTU));
    TN_CHECK(!(f.status & VIRTIO_STATUS_FAILED));
    detach_and_check_leaks(dev);
}

/* Review finding: shared-line mode on a function with MSI-X enabled would come up with
 * no interrupt at all; it is refused before the device is touched. */
static void test_shared_irq_with_msix_enabled(void)
{
    tn_case("shared line wired while MSI-X is enabled -> VNET_E_INVAL, device untouched");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    f.msix_on = true;
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_E_INVAL);
    TN_EQ(f.status_writes, 0);
    TN_EQ(f.resets, 0);
    f.msix_on = false;
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    detach_and_check_leaks(dev);
}

/* The board's wiring on the transport decides the vectors: RX always interrupts, TX on
 * the entry the board gave it (only TX space events use it), or none. */
static void test_irq_wiring(void)
{
    tn_case("MSI-X table entries come from the transport's wiring; TX only if given one");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_OK); /* shared line: no vector anywhere */
    TN_EQ(f.qvector[0], VIRTIO_PCI_NO_VECTOR);
    TN_EQ(f.qvector[1], VIRTIO_PCI_NO_VECTOR);
    TN_EQ(f.config_vector, VIRTIO_PCI_NO_VECTOR);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    static const uint16_t qv[] = {3, 4}; /* TX given entry 4: it carries TX space events */
    TN_EQ(virtio_transport_use_msix(&f.base, 2, qv, 2), VNET_OK);
    f.msix_on = true;
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(f.config_vector, 2);
    TN_EQ(f.qvector[0], 3);
    TN_EQ(f.qvector[1], 4);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    static const uint16_t rx_only[] = {3}; /* no TX entry: the TX queue never interrupts */
    TN_EQ(virtio_transport_use_msix(&f.base, 2, rx_only, 1), VNET_OK);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(f.qvector[0], 3);
    TN_EQ(f.qvector[1], VIRTIO_PCI_NO_VECTOR);
    detach_and_check_leaks(dev);
    /* Argument checks: too many queues, NULL table, a transport without MSI-X. */
    uint16_t many[VIRTIO_TRANSPORT_MSIX_QUEUES + 1] = {0};
    TN_EQ(virtio_transport_use_msix(&f.base, 0, many, VIRTIO_TRANSPORT_MSIX_QUEUES + 1),
          VNET_E_INVAL);
    TN_EQ(virtio_transport_use_msix(&f.base, 0, NULL, 1), VNET_E_INVAL);
    TN_EQ(virtio_transport_use_msix(NULL, 0, NULL, 0), VNET_E_INVAL);
    fake_tr_init(&f, false, ~0ull);
    f.base.kind = VIRTIO_TRANSPORT_MMIO_V2;
    TN_EQ(virtio_transport_use_msix(&f.base, 0, NULL, 0), VNET_E_INVAL);
}

static void test_no_mac_feature(void)
{
    tn_case("device without F_MAC: fallback / random LAA unicast, stable across re-init");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull & ~VIRTIO_NET_F_MAC);
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    uint8_t m1[6], m2[6];
    TN_EQ(virtio_net_get_mac(dev, m1), VNET_OK);
    TN_EQ(m1[0] & 3, 2);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(virtio_net_get_mac(dev, m2), VNET_OK);
    TN_CHECK(memcmp(m1, m2, 6) == 0);
    detach_and_check_leaks(dev);

    static const uint8_t given[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    dev = attach(&f, given);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(virtio_net_get_mac(dev, m1), VNET_OK);
    TN_CHECK(memcmp(m1, given, 6) == 0);
    detach_and_check_leaks(dev);
}

static void test_needs_reset_at_driver_ok(void)
{
    tn_case("DEVICE_NEEDS_RESET at DRIVER_OK -> VNET_E_IO, halted, nothing leaked");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    f.needs_reset_at_driver_ok = true;
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_E_IO);
    TN_CHECK(!virtio_net_is_running(dev));
    TN_CHECK(f.status & VIRTIO_STATUS_FAILED);
    TN_EQ(osal_posix_dma_outstanding(), 0);
    detach_and_check_leaks(dev);
}

static void test_fixed_queue_size(void)
{
    tn_case("legacy fixed queue size: ring = device size, posted = half (header alone)");
    struct fake_tr f;
    fake_tr_init(&f, true, ~0ull & ~VIRTIO_F_ANY_LAYOUT);
    f.qmax = 1024;
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(f.qsize[0], 1024);
    TN_CHECK(dev->hdr_separate);
    TN_EQ(dev->hdr_len, 10);
    TN_EQ(dev->rx.count, 512); /* header + frame descriptor per buffer */
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    f.qmax = 100; /* not a power of two: refused */
    TN_EQ(virtio_net_initialize(dev), VNET_E_RANGE);
    detach_and_check_leaks(dev);
}

static struct virtio_net_dev *attach_sized(struct fake_tr *f, uint16_t rx_posted, uint16_t tx_slots)
{
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = &f->base;
    cfg.rx_fn = rx_discard;
    cfg.rx_task_prio = 10;
    cfg.rx_posted = rx_posted;
    cfg.tx_slots = tx_slots;
    struct virtio_net_dev *dev = NULL;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_OK);
    return dev;
}

static void test_queue_size_from_device(void)
{
    tn_case("queue sizes: the device's (rx_queue_size=1024 is used), default capped at 1024");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    f.qmax = 1024;
    struct virtio_net_dev *dev = attach_sized(&f, 0, 0);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(f.qsize[0], 1024);
    TN_EQ(f.qsize[1], 1024);
    TN_EQ(dev->rx.count, 1024);
    TN_EQ(dev->tx.count, 1024);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    f.qmax = 4096; /* a larger device ring is not filled unless asked for */
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(f.qsize[0], 1024);
    TN_EQ(dev->rx.count, 1024);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    detach_and_check_leaks(dev);

    tn_case("queue sizes: explicit rx_posted/tx_slots beyond the default, and below the device's");
    fake_tr_init(&f, false, ~0ull);
    f.qmax = 4096;
    dev = attach_sized(&f, 4096, 100);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(f.qsize[0], 4096);
    TN_EQ(dev->rx.count, 4096);
    TN_EQ(f.qsize[1], 64); /* power of two below the request */
    TN_EQ(dev->tx.count, 64);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    detach_and_check_leaks(dev);

    tn_case("queue sizes: rx_posted above the split ring limit refused at attach");
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = &f.base;
    cfg.rx_fn = rx_discard;
    cfg.rx_task_prio = 10;
    cfg.rx_posted = 40000;
    dev = NULL;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_E_INVAL);
    TN_CHECK(dev == NULL);
}

static void test_attach_args(void)
{
    tn_case("attach argument checks");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    struct virtio_net_dev *dev = NULL;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_E_INVAL);
    cfg.transport = &f.base;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_E_INVAL); /* no rx_fn */
    cfg.rx_fn = rx_discard;
    cfg.rx_sw_ring_entries = 48;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_E_INVAL);
    TN_EQ(osal_posix_mem_outstanding(), 0);
    TN_EQ(virtio_net_send(NULL, "x", 1, 0), VNET_E_INVAL);
    /* Not a network device (a virtio-blk on a scanned bus): refused, the id reported. */
    tn_case("attach to a non-network device (type 2) -> VNET_E_UNSUPP, id logged");
    cfg.rx_sw_ring_entries = 0;
    f.base.device_id = 2;
    uint64_t logs = osal_posix_log_count();
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_E_UNSUPP);
    TN_EQ(osal_posix_log_count(), logs + 1);
    TN_EQ(osal_posix_mem_outstanding(), 0);
    TN_EQ(f.status, 0); /* device untouched */
    f.base.device_id = 1;
    TN_EQ(virtio_net_attach(&dev, &cfg), VNET_OK);
    TN_EQ(virtio_net_detach(dev), VNET_OK);
    /* Every ranged field: just outside its range -> VNET_E_INVAL, at its bounds -> OK
     * (one table, vnet_cfg_ranges, used by attach and documented in docs/driver.md). */
    tn_case("configuration ranges: out of range rejected with VNET_E_INVAL, bounds accepted");
    for (unsigned i = 0; i < vnet_cfg_range_count; i++) {
        const struct vnet_cfg_range *r = &vnet_cfg_ranges[i];
        uint32_t lim = r->size == 2 ? 0xffffu : UINT32_MAX;
        uint32_t probe[4] = {r->min - 1u, r->max + 1u, r->min, r->max};
        for (unsigned k = 0; k < 4; k++) {
            struct virtio_net_config c2 = cfg;
            if ((k == 0 && r->min <= 1u) || (k == 1 && r->max >= lim))
                continue; /* 0 means default; no value above the type's maximum */
            if (r->size == 2) {
                uint16_t v = (uint16_t)probe[k];
                memcpy((unsigned char *)&c2 + r->off, &v, sizeof(v));
            } else {
                memcpy((unsigned char *)&c2 + r->off, &probe[k], sizeof(probe[k]));
            }
            vnet_err_t e = virtio_net_attach(&dev, &c2);
            TN_EQ(e, k < 2 ? VNET_E_INVAL : VNET_OK);
            if (e == VNET_OK)
                TN_EQ(virtio_net_detach(dev), VNET_OK);
        }
    }
    TN_EQ(osal_posix_mem_outstanding(), 0);
}

struct stat_visit {
    unsigned n;
    int saw_drops, saw_resets, saw_cycles_total, saw_hist;
    uint64_t resets;
};

static void visit(void *arg, const char *name, uint64_t value)
{
    struct stat_visit *v = arg;
    v->n++;
    v->saw_drops += strcmp(name, "rx_queue_drops") == 0;
    v->saw_cycles_total += strcmp(name, "isr_cycles_total") == 0;
    v->saw_hist += strncmp(name, "isr_hist_", 9) == 0;
    if (strcmp(name, "resets") == 0) {
        v->saw_resets++;
        v->resets = value;
    }
}

static void test_stats_names(void)
{
    tn_case("stats_foreach visits every counter once, by name, with its value");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    struct virtio_net_dev *dev = attach(&f, NULL);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    TN_EQ(virtio_net_initialize(dev), VNET_OK);
    TN_EQ(virtio_net_halt(dev), VNET_OK);
    struct stat_visit v;
    memset(&v, 0, sizeof(v));
    virtio_net_stats_foreach(dev, visit, &v);
    virtio_net_stats_foreach(dev, NULL, NULL); /* tolerated */
    TN_EQ(v.n, virtio_net_stat_count());
    TN_EQ(v.n, 46 + VIRTIO_NET_ISR_HIST_BUCKETS);
    TN_EQ(v.saw_hist, VIRTIO_NET_ISR_HIST_BUCKETS);
    TN_EQ(v.saw_drops, 1);
    TN_EQ(v.saw_cycles_total, 1);
    TN_EQ(v.saw_resets, 1);
    TN_EQ(v.resets, 2); /* lifetime, survives the clears */
    detach_and_check_leaks(dev);
}

static void test_alloc_failure_sweep(void)
{
    tn_case("every allocation of initialize failing in turn: VNET_E_NOMEM, FAILED, no leak");
    struct fake_tr f;
    fake_tr_init(&f, false, ~0ull);
    struct virtio_net_dev *dev = attach(&f, NULL);
    size_t dma0 = osal_posix_dma_outstanding(), mem0 = osal_posix_mem_outstanding();
    unsigned n;
    for (n = 1; n < 64; n++) {
        f.status = 0;
        osal_posix_fail_alloc_after(n);
        vnet_err_t err = virtio_net_initialize(dev);
        bool fired = osal_posix_fail_alloc_fired();
        osal_posix_fail_alloc_after(0);
        if (!fired) {
            TN_EQ(err, VNET_OK);
            break;
        }
        TN_EQ(err, VNET_E_NOMEM);
        TN_CHECK(f.status & VIRTIO_STATUS_FAILED);
        TN_EQ(osal_posix_dma_outstanding(), dma0);
        TN_EQ(osal_posix_mem_outstanding(), mem0);
    }
    TN_CHECK(n > 5 && n < 64); /* rings, buffers, shadows and the software ring */
    detach_and_check_leaks(dev);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_negotiate_supported_only();
    test_negotiate_modern_needs_v1();
    test_feature_deps();
    test_mtu_check();
    test_mac_fallback();
    test_attach_args();
    test_init_ok_and_sequence(false);
    test_init_ok_and_sequence(true);
    test_features_ok_refused();
    test_modern_without_v1();
    test_reset_hangs();
    test_msix_refused();
    test_mtu_from_device();
    test_shared_irq_with_msix_enabled();
    test_irq_wiring();
    test_no_mac_feature();
    test_needs_reset_at_driver_ok();
    test_fixed_queue_size();
    test_queue_size_from_device();
    test_stats_names();
    test_alloc_failure_sweep();
    return tn_finish();
}
