/*
 * Barrier verification of the virtqueue core (issue 15): src/virtio/virtq.c built with
 * VIRTQ_TEST_HOOKS keeps, per queue, a model of the CPU's store buffer (see virtq.c) and
 * counts, at each load that must follow a full barrier and at the avail->idx store that
 * must follow the publish barrier, whether that barrier ran since the store it orders.
 * This test drives every such path (with and without EVENT_IDX) and asserts each was
 * checked and none was violated: deleting any one of the five barriers
 *   kick_prepare: vnet_wmb() before avail->idx, vnet_mb() before avail_event/flags;
 *   virtq_get (EVENT_IDX, callbacks on): vnet_mb() after the used_event store;
 *   virtq_enable_cb: vnet_mb() between the re-arm and the re-check
 *   virtq_enable_cb_delayed (the TX space re-arm): vnet_mb() between re-arm and re-check
 * makes it fail, deterministically (no timing, no luck with the hardware).
 */
#include <string.h>
#include "osal.h"
#include "osal_posix.h"
#include "tu.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtq.h"
#include "virtio/virtq_test.h"

#define QSZ 8u

struct ring {
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t last_avail;
};

static void ring_init(struct ring *r, struct virtq *vq)
{
    uint64_t d, a, u;
    virtq_ring_addrs(vq, &d, &a, &u);
    r->avail = osal_posix_dma_ptr(a, virtq_avail_bytes(QSZ));
    r->used = osal_posix_dma_ptr(u, virtq_used_bytes(QSZ));
    TU_REQUIRE(r->avail != NULL && r->used != NULL);
    r->last_avail = 0;
}

/* The device completes every published buffer (len 16). */
static unsigned ring_complete_all(struct ring *r)
{
    unsigned n = 0;
    while (r->last_avail != r->avail->idx) {
        uint16_t head = r->avail->ring[r->last_avail % QSZ];
        r->used->ring[r->used->idx % QSZ].id = head;
        r->used->ring[r->used->idx % QSZ].len = 16;
        r->used->idx++;
        r->last_avail++;
        n++;
    }
    return n;
}

static void run(unsigned flags)
{
    struct virtq *vq = NULL;
    TU_REQUIRE(virtq_create(&vq, 0, QSZ, flags) == VNET_OK);
    struct ring r;
    ring_init(&r, vq);
    uint64_t dma;
    void *buf = osal_dma_alloc(64, 8, &dma);
    TU_REQUIRE(buf != NULL);
    for (int round = 0; round < 4; round++) {
        struct virtq_seg s = {.addr = dma, .len = 64, .device_writes = true};
        TU_CHECK_EQ(virtq_add(vq, &s, 1, buf), VNET_OK);
        (void)virtq_kick_prepare(vq); /* PUBLISH, KICK */
        virtq_disable_cb(vq);
        TU_CHECK_EQ(ring_complete_all(&r), 1);
        /* Re-arm with the entry already there: the re-check must see it (ENABLE). */
        TU_CHECK(virtq_enable_cb(vq));
        void *cookie;
        uint32_t len;
        TU_CHECK_EQ(virtq_get(vq, &cookie, &len), 1); /* GET_EVENT check, then re-arm */
        TU_CHECK(cookie == buf);
        TU_CHECK_EQ(virtq_get(vq, &cookie, &len), 0); /* GET_EVENT after that re-arm */
        /* The TX space re-arm: a buffer in flight, callbacks off, the delayed re-arm must
         * re-check after its barrier (ENABLE_DELAYED), then see the completion. */
        TU_CHECK_EQ(virtq_add(vq, &s, 1, buf), VNET_OK);
        (void)virtq_kick_prepare(vq);
        virtq_disable_cb(vq);
        TU_CHECK(!virtq_enable_cb_delayed(vq));
        virtq_disable_cb(vq);
        TU_CHECK_EQ(ring_complete_all(&r), 1);
        TU_CHECK(virtq_enable_cb_delayed(vq));
        virtq_disable_cb(vq);
        TU_CHECK_EQ(virtq_get(vq, &cookie, &len), 1);
        TU_CHECK(cookie == buf);
    }
    osal_dma_free(buf, 64);
    virtq_destroy(vq);
}

static void test_order(void)
{
    memset(&virtq_test_order, 0, sizeof(virtq_test_order));
    run(VIRTQ_EVENT_IDX);
    run(0);
    static const char *const name[VIRTQ_ORD_SITES] = {
        "publish (wmb before avail->idx)", "kick (mb before avail_event/flags)",
        "enable_cb (mb before re-check)", "get, EVENT_IDX (mb after used_event)",
        "enable_cb_delayed (mb before re-check)"};
    for (unsigned i = 0; i < VIRTQ_ORD_SITES; i++) {
        fprintf(stderr, "  %-40s checks %llu violations %llu\n", name[i],
                (unsigned long long)virtq_test_order.checks[i],
                (unsigned long long)virtq_test_order.violations[i]);
        TU_CHECK(virtq_test_order.checks[i] >= 4);
        TU_CHECK_EQ(virtq_test_order.violations[i], 0);
    }
}

int main(void)
{
    osal_posix_log_quiet(true);
    TU_RUN(test_order);
    return tu_summary("test_barriers");
}
