/*
 * Unit tests of the split virtqueue core (src/virtio/virtq.c) against a minimal fake
 * device written here that reads the real rings through osal_posix_dma_ptr().
 */
#include <string.h>
#include "osal.h"
#include "osal_posix.h"
#include "tu.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtq.h"
#include "virtio/virtq_test.h"

/* --- fake device --------------------------------------------------------------------- */

struct fdev {
    struct virtq *vq;
    uint16_t size;
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t last_avail; /* device's next avail index to read */
    uint16_t used_idx;   /* device's next used index to write */
};

static void fdev_init(struct fdev *fd, struct virtq *vq)
{
    uint64_t d, a, u;
    uint16_t n = virtq_size(vq);

    memset(fd, 0, sizeof(*fd));
    fd->vq = vq;
    fd->size = n;
    virtq_ring_addrs(vq, &d, &a, &u);
    fd->desc = osal_posix_dma_ptr(d, virtq_desc_bytes(n));
    fd->avail = osal_posix_dma_ptr(a, virtq_avail_bytes(n));
    fd->used = osal_posix_dma_ptr(u, virtq_used_bytes(n));
    TU_REQUIRE(fd->desc != NULL && fd->avail != NULL && fd->used != NULL);
    fd->last_avail = fd->avail->idx;
    fd->used_idx = fd->used->idx;
}

/* Next published head, or -1. */
static int fdev_pop(struct fdev *fd)
{
    int head;

    if (fd->avail->idx == fd->last_avail)
        return -1;
    head = fd->avail->ring[fd->last_avail % fd->size];
    fd->last_avail++;
    return head;
}

/* Walk a chain: number of descriptors and total writable bytes; -1 on a malformed one. */
static int fdev_walk(struct fdev *fd, uint16_t head, uint32_t *wlen)
{
    uint16_t i = head;
    int n = 0;

    *wlen = 0;
    for (;;) {
        const struct virtq_desc *d = &fd->desc[i];

        if (++n > fd->size)
            return -1;
        if (osal_posix_dma_ptr(d->addr, d->len) == NULL)
            return -1;
        if (d->flags & VIRTQ_DESC_F_WRITE)
            *wlen += d->len;
        if (!(d->flags & VIRTQ_DESC_F_NEXT))
            return n;
        i = d->next;
        if (i >= fd->size)
            return -1;
    }
}

static void fdev_push_noidx(struct fdev *fd, uint32_t id, uint32_t len, uint16_t slot)
{
    fd->used->ring[slot % fd->size].id = id;
    fd->used->ring[slot % fd->size].len = len;
}

/* Complete one entry; returns whether the device would interrupt (flags/EVENT_IDX). */
static bool fdev_push(struct fdev *fd, uint32_t id, uint32_t len, bool event_idx)
{
    uint16_t old = fd->used_idx;

    fdev_push_noidx(fd, id, len, fd->used_idx);
    fd->used_idx++;
    fd->used->idx = fd->used_idx;
    if (event_idx)
        return virtq_need_event(*virtq_used_event_ptr(fd->avail, fd->size), fd->used_idx, old);
    return !(fd->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* --- buffers ------------------------------------------------------------------------- */

struct buf {
    void *cpu;
    uint64_t dma;
    uint32_t len;
};

static void buf_alloc(struct buf *b, uint32_t len)
{
    b->cpu = osal_dma_alloc(len, 8, &b->dma);
    b->len = len;
    TU_REQUIRE(b->cpu != NULL);
}

static void buf_free(struct buf *b)
{
    osal_dma_free(b->cpu, b->len);
}

static struct virtq *mkq(uint16_t size, unsigned flags)
{
    struct virtq *vq = NULL;

    TU_REQUIRE(virtq_create(&vq, 0, size, flags) == VNET_OK);
    return vq;
}

static vnet_err_t add1(struct virtq *vq, const struct buf *b, bool wr, void *cookie)
{
    struct virtq_seg s = {.addr = b->dma, .len = b->len, .device_writes = wr};

    return virtq_add(vq, &s, 1, cookie);
}

/* --- tests --------------------------------------------------------------------------- */

static void test_create_args(void)
{
    struct virtq *vq = NULL;

    TU_CHECK_EQ(virtq_create(&vq, 0, 0, 0), VNET_E_INVAL);
    TU_CHECK_EQ(virtq_create(&vq, 0, 3, 0), VNET_E_INVAL);
    TU_CHECK_EQ(virtq_create(&vq, 0, 8, 0x80), VNET_E_INVAL);
    TU_CHECK_EQ(virtq_create(NULL, 0, 8, 0), VNET_E_INVAL);
    for (unsigned n = 1; n <= 4; n++) {
        osal_posix_fail_alloc_after(n);
        TU_CHECK(virtq_create(&vq, 0, 8, 0) == VNET_E_NOMEM || !osal_posix_fail_alloc_fired());
        if (!osal_posix_fail_alloc_fired())
            virtq_destroy(vq);
    }
    osal_posix_fail_alloc_after(0);
    TU_CHECK_EQ(virtq_create(&vq, 5, 32768, 0), VNET_OK);
    TU_CHECK_EQ(virtq_index(vq), 5);
    TU_CHECK_EQ(virtq_num_free(vq), 32768);
    virtq_destroy(vq);
}

static void test_add_get_basic(void)
{
    struct virtq *vq = mkq(8, 0);
    struct fdev fd;
    struct buf hdr, data;
    struct virtq_seg segs[2];
    void *cookie = NULL;
    uint32_t len = 0, wlen = 0;
    int head;
    uint64_t d;

    fdev_init(&fd, vq);
    buf_alloc(&hdr, 12);
    buf_alloc(&data, 1514);
    segs[0] = (struct virtq_seg){hdr.dma, hdr.len, false};
    segs[1] = (struct virtq_seg){data.dma, data.len, true};
    TU_CHECK_EQ(virtq_add(vq, segs, 2, &hdr), VNET_OK);
    TU_CHECK_EQ(virtq_num_free(vq), 6);
    /* Added but not published: the device cannot see it yet. */
    TU_CHECK_EQ(fdev_pop(&fd), -1);
    TU_CHECK(virtq_kick_prepare(vq));
    TU_CHECK(!virtq_kick_prepare(vq)); /* nothing new */
    head = fdev_pop(&fd);
    TU_REQUIRE(head >= 0);
    TU_CHECK_EQ(fd.desc[head].addr, hdr.dma);
    TU_CHECK_EQ(fd.desc[head].flags, VIRTQ_DESC_F_NEXT);
    TU_CHECK_EQ(fd.desc[fd.desc[head].next].addr, data.dma);
    TU_CHECK_EQ(fd.desc[fd.desc[head].next].flags, VIRTQ_DESC_F_WRITE);
    TU_CHECK_EQ(fdev_walk(&fd, (uint16_t)head, &wlen), 2);
    TU_CHECK_EQ(wlen, 1514);
    /* The device sees DMA addresses, which the POSIX port keeps distinct from pointers. */
    virtq_ring_addrs(vq, &d, NULL, NULL);
    TU_CHECK(d != (uint64_t)(uintptr_t)fd.desc);
    TU_CHECK(hdr.dma != (uint64_t)(uintptr_t)hdr.cpu);

    TU_CHECK(!virtq_has_used(vq));
    TU_CHECK_EQ(virtq_get(vq, &cookie, &len), 0);
    fdev_push(&fd, (uint32_t)head, 1000, false);
    TU_CHECK(virtq_has_used(vq));
    TU_CHECK_EQ(virtq_get(vq, &cookie, &len), 1);
    TU_CHECK(cookie == &hdr);
    TU_CHECK_EQ(len, 1000);
    TU_CHECK_EQ(virtq_get(vq, &cookie, &len), 0);
    TU_CHECK_EQ(virtq_num_free(vq), 8);
    TU_CHECK(!virtq_is_broken(vq));

    struct virtq_stats st;
    virtq_get_stats(vq, &st);
    TU_CHECK_EQ(st.added, 1);
    TU_CHECK_EQ(st.completed, 1);
    TU_CHECK_EQ(st.notify_needed, 1);
    virtq_destroy(vq);
    buf_free(&hdr);
    buf_free(&data);
}

static void test_add_rejects(void)
{
    struct virtq *vq = mkq(4, 0);
    struct buf b[6];
    struct virtq_seg s[5];
    int cookie;

    for (int i = 0; i < 6; i++)
        buf_alloc(&b[i], 64);
    s[0] = (struct virtq_seg){b[0].dma, 64, true};
    s[1] = (struct virtq_seg){b[1].dma, 64, false}; /* readable after writable */
    TU_CHECK_EQ(virtq_add(vq, s, 2, &cookie), VNET_E_INVAL);
    s[1].device_writes = true;
    TU_CHECK_EQ(virtq_add(vq, s, 2, NULL), VNET_E_INVAL);
    TU_CHECK_EQ(virtq_add(vq, s, 0, &cookie), VNET_E_INVAL);
    for (int i = 0; i < 5; i++)
        s[i] = (struct virtq_seg){b[i].dma, 64, false};
    TU_CHECK_EQ(virtq_add(vq, s, 5, &cookie), VNET_E_INVAL); /* longer than the queue */
    s[0].len = 0;
    TU_CHECK_EQ(virtq_add(vq, s, 1, &cookie), VNET_E_INVAL);
    TU_CHECK_EQ(virtq_num_free(vq), 4);

    /* Free-list exhaustion. */
    for (int i = 0; i < 4; i++)
        TU_CHECK_EQ(add1(vq, &b[i], false, &b[i]), VNET_OK);
    TU_CHECK_EQ(virtq_num_free(vq), 0);
    TU_CHECK_EQ(add1(vq, &b[4], false, &b[4]), VNET_E_NOSPC);
    TU_CHECK(virtq_kick_prepare(vq));

    struct fdev fd;
    void *c;
    uint32_t len;
    fdev_init(&fd, vq);
    fd.last_avail = (uint16_t)(fd.avail->idx - 4);
    int h0 = fdev_pop(&fd), h1 = fdev_pop(&fd);
    fdev_push(&fd, (uint32_t)h1, 0, false);
    TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    TU_CHECK(c == &b[1]);
    s[0] = (struct virtq_seg){b[4].dma, 64, false};
    s[1] = (struct virtq_seg){b[5].dma, 64, true};
    TU_CHECK_EQ(virtq_add(vq, s, 2, &b[4]), VNET_E_NOSPC); /* one free, two needed */
    fdev_push(&fd, (uint32_t)h0, 0, false);
    TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    TU_CHECK(c == &b[0]);
    TU_CHECK_EQ(virtq_add(vq, s, 2, &b[4]), VNET_OK);
    TU_CHECK_EQ(virtq_num_free(vq), 0);
    /* Reclaim the rest after a "reset". */
    int n = 0;
    while ((c = virtq_detach_unused(vq)) != NULL)
        n++;
    TU_CHECK_EQ(n, 3);
    TU_CHECK_EQ(virtq_num_free(vq), 4);
    virtq_destroy(vq);
    for (int i = 0; i < 6; i++)
        buf_free(&b[i]);
}

/* Random multi-segment chains completed out of order over many rounds: every cookie comes
 * back exactly once with the device's len, and the free list never loses a descriptor. */
static void test_multiseg_random(void)
{
    enum { QN = 16, NB = 64 };
    struct virtq *vq = mkq(QN, 0);
    struct fdev fd;
    struct buf pool[NB];
    int posted[NB] = {0};
    int heads[QN];
    unsigned cookie_of_head[QN], nseg_of_head[QN];
    int nheads = 0;
    uint32_t rng = 12345;
    uint64_t total_done = 0;

    fdev_init(&fd, vq);
    for (int i = 0; i < NB; i++)
        buf_alloc(&pool[i], 32 + (uint32_t)i);

    for (int round = 0; round < 4000; round++) {
        rng = rng * 1103515245u + 12345u;
        unsigned nseg = 1 + (rng >> 16) % 5;
        unsigned first = (rng >> 8) % (NB - 5);
        struct virtq_seg s[5];
        uint32_t wexp = 0;
        bool busy = false;

        for (unsigned k = 0; k < nseg; k++)
            busy |= posted[first + k] != 0;
        if (!busy) {
            unsigned nread = (rng >> 4) % (nseg + 1);
            for (unsigned k = 0; k < nseg; k++) {
                s[k].addr = pool[first + k].dma;
                s[k].len = pool[first + k].len;
                s[k].device_writes = k >= nread;
                if (s[k].device_writes)
                    wexp += s[k].len;
            }
            vnet_err_t rc = virtq_add(vq, s, (uint16_t)nseg, &pool[first]);
            if (rc == VNET_OK) {
                for (unsigned k = 0; k < nseg; k++)
                    posted[first + k] = 1;
                virtq_kick_prepare(vq);
                int h = fdev_pop(&fd);
                uint32_t w;
                TU_REQUIRE(h >= 0);
                TU_CHECK_EQ(fdev_walk(&fd, (uint16_t)h, &w), (int)nseg);
                TU_CHECK_EQ(w, wexp);
                heads[nheads] = h;
                cookie_of_head[nheads] = first;
                nseg_of_head[nheads] = nseg;
                nheads++;
            } else {
                TU_CHECK_EQ(rc, VNET_E_NOSPC);
                TU_CHECK(virtq_num_free(vq) < nseg);
            }
        }
        /* Complete a random outstanding chain now and then. */
        if (nheads > 0 && ((rng >> 20) & 1)) {
            int pick = (int)((rng >> 21) % (unsigned)nheads);
            uint32_t w;
            void *c;
            uint32_t len;
            fdev_walk(&fd, (uint16_t)heads[pick], &w);
            fdev_push(&fd, (uint32_t)heads[pick], w, false);
            TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
            TU_CHECK(c == &pool[cookie_of_head[pick]]);
            TU_CHECK_EQ(len, w);
            for (unsigned k = 0; k < nseg_of_head[pick]; k++)
                posted[cookie_of_head[pick] + k] = 0;
            heads[pick] = heads[nheads - 1];
            cookie_of_head[pick] = cookie_of_head[nheads - 1];
            nseg_of_head[pick] = nseg_of_head[nheads - 1];
            nheads--;
            total_done++;
        }
    }
    TU_CHECK(total_done > 500);
    TU_CHECK(!virtq_is_broken(vq));
    int left = 0;
    while (virtq_detach_unused(vq) != NULL)
        left++;
    TU_CHECK_EQ(left, nheads);
    TU_CHECK_EQ(virtq_num_free(vq), QN);
    virtq_destroy(vq);
    for (int i = 0; i < NB; i++)
        buf_free(&pool[i]);
}

enum misbehave { MB_BAD_ID, MB_MEMBER_ID, MB_NEVER_POSTED, MB_DUP, MB_LEN, MB_IDX, MB_UNPUBLISHED };

/* Every validation failure: counted, broken (sticky), no crash, everything reclaimable. */
static void check_misbehaviour(enum misbehave mb, enum virtq_broken_reason expect)
{
    struct virtq *vq = mkq(8, 0);
    struct fdev fd;
    struct buf b[4];
    struct virtq_stats st;
    void *c = NULL;
    uint32_t len = 0;
    int h[4];

    fdev_init(&fd, vq);
    for (int i = 0; i < 4; i++)
        buf_alloc(&b[i], 256);
    /* Two single-descriptor RX buffers and one two-descriptor chain. */
    TU_CHECK_EQ(add1(vq, &b[0], true, &b[0]), VNET_OK);
    TU_CHECK_EQ(add1(vq, &b[1], true, &b[1]), VNET_OK);
    struct virtq_seg s[2] = {{b[2].dma, 256, false}, {b[3].dma, 256, true}};
    TU_CHECK_EQ(virtq_add(vq, s, 2, &b[2]), VNET_OK);
    if (mb != MB_UNPUBLISHED)
        virtq_kick_prepare(vq);
    for (int i = 0; i < 3; i++)
        h[i] = fdev_pop(&fd);

    switch (mb) {
    case MB_BAD_ID:
        fdev_push(&fd, 8, 10, false);
        break;
    case MB_MEMBER_ID:
        fdev_push(&fd, fd.desc[h[2]].next, 10, false);
        break;
    case MB_NEVER_POSTED:
        fdev_push(&fd, 7, 10, false); /* in range, never used as a head */
        break;
    case MB_DUP:
        fdev_push(&fd, (uint32_t)h[0], 10, false);
        TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
        TU_CHECK(c == &b[0]);
        fdev_push(&fd, (uint32_t)h[0], 10, false);
        break;
    case MB_LEN:
        fdev_push(&fd, (uint32_t)h[2], 257, false); /* 256 writable in that chain */
        break;
    case MB_IDX:
        fdev_push(&fd, (uint32_t)h[1], 10, false);
        fd.used->idx = (uint16_t)(fd.used->idx + 3); /* 4 pending, 3 in flight */
        break;
    case MB_UNPUBLISHED:
        h[0] = 0;
        fdev_push(&fd, 0, 10, false); /* completes something never made available */
        break;
    }
    TU_CHECK_EQ(virtq_get(vq, &c, &len), VNET_E_BROKEN);
    TU_CHECK(virtq_is_broken(vq));
    TU_CHECK_EQ(virtq_broken_reason(vq), expect);
    virtq_get_stats(vq, &st);
    TU_CHECK_EQ(st.bad_id, expect == VIRTQ_BAD_ID);
    TU_CHECK_EQ(st.bad_len, expect == VIRTQ_BAD_LEN);
    TU_CHECK_EQ(st.bad_idx, expect == VIRTQ_BAD_IDX);
    TU_CHECK_EQ(st.duplicate, expect == VIRTQ_DUPLICATE);
    /* Sticky: nothing works any more, silently. */
    TU_CHECK_EQ(virtq_get(vq, &c, &len), VNET_E_BROKEN);
    TU_CHECK_EQ(add1(vq, &b[0], true, &b[0]), VNET_E_BROKEN);
    TU_CHECK(!virtq_kick_prepare(vq));
    TU_CHECK(!virtq_enable_cb(vq));
    TU_CHECK(!virtq_has_used(vq));
    /* A further, valid-looking completion does not "repair" it. */
    fdev_push(&fd, (uint32_t)h[1], 1, false);
    TU_CHECK_EQ(virtq_get(vq, &c, &len), VNET_E_BROKEN);
    virtq_get_stats(vq, &st);
    TU_CHECK_EQ(st.bad_id + st.bad_len + st.bad_idx + st.duplicate, 1);
    /* Halt path: every cookie still posted comes back exactly once. */
    int seen[4] = {0}, n = 0;
    while ((c = virtq_detach_unused(vq)) != NULL) {
        for (int i = 0; i < 4; i++)
            if (c == &b[i])
                seen[i]++;
        n++;
    }
    TU_CHECK_EQ(n, mb == MB_DUP ? 2 : 3);
    TU_CHECK_EQ(seen[0], mb == MB_DUP ? 0 : 1);
    TU_CHECK_EQ(seen[1], 1);
    TU_CHECK_EQ(seen[2], 1);
    TU_CHECK_EQ(virtq_num_free(vq), 8);
    virtq_destroy(vq);
    for (int i = 0; i < 4; i++)
        buf_free(&b[i]);
}

static void test_validation(void)
{
    check_misbehaviour(MB_BAD_ID, VIRTQ_BAD_ID);
    check_misbehaviour(MB_MEMBER_ID, VIRTQ_BAD_ID);
    check_misbehaviour(MB_NEVER_POSTED, VIRTQ_BAD_ID);
    check_misbehaviour(MB_DUP, VIRTQ_DUPLICATE);
    check_misbehaviour(MB_LEN, VIRTQ_BAD_LEN);
    check_misbehaviour(MB_IDX, VIRTQ_BAD_IDX);
    check_misbehaviour(MB_UNPUBLISHED, VIRTQ_BAD_IDX);
}

/* A TX chain has no writable bytes: any non-zero len is a violation; 0 is accepted. */
static void test_readonly_len(void)
{
    struct virtq *vq = mkq(2, 0);
    struct fdev fd;
    struct buf b;
    void *c;
    uint32_t len;

    fdev_init(&fd, vq);
    buf_alloc(&b, 100);
    TU_CHECK_EQ(add1(vq, &b, false, &b), VNET_OK);
    TU_CHECK_EQ(add1(vq, &b, false, &fd), VNET_OK);
    virtq_kick_prepare(vq);
    int h0 = fdev_pop(&fd), h1 = fdev_pop(&fd);
    fdev_push(&fd, (uint32_t)h0, 0, false);
    TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    fdev_push(&fd, (uint32_t)h1, 1, false);
    TU_CHECK_EQ(virtq_get(vq, &c, &len), VNET_E_BROKEN);
    TU_CHECK_EQ(virtq_broken_reason(vq), VIRTQ_BAD_LEN);
    TU_CHECK(virtq_detach_unused(vq) == &fd);
    TU_CHECK(virtq_detach_unused(vq) == NULL);
    virtq_destroy(vq);
    buf_free(&b);
}

/* Legacy devices may report the bytes they read on a TX chain: tolerated (and counted)
 * only on a legacy-layout queue; the len is reported as 0 to the caller. */
static void test_readonly_len_legacy(void)
{
    struct virtq *vq = mkq(4, VIRTQ_LEGACY_LAYOUT);
    struct fdev fd;
    struct buf b;
    struct virtq_stats st;
    void *c;
    uint32_t len = 99;

    fdev_init(&fd, vq);
    buf_alloc(&b, 100);
    TU_CHECK_EQ(add1(vq, &b, false, &b), VNET_OK);
    virtq_kick_prepare(vq);
    fdev_push(&fd, (uint32_t)fdev_pop(&fd), 60, false);
    TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    TU_CHECK(c == &b);
    TU_CHECK_EQ(len, 0);
    TU_CHECK(!virtq_is_broken(vq));
    virtq_get_stats(vq, &st);
    TU_CHECK_EQ(st.ignored_len, 1);
    virtq_destroy(vq);
    buf_free(&b);
}

/*
 * Regression (review finding "duplicate across a re-add"): the driver takes a batch of
 * completions and re-adds each buffer at once, publishing only at the end of its pass. A
 * used entry that repeats an earlier completion of a head now re-added but not yet
 * published must be caught as a duplicate, not delivered as a fresh frame.
 */
static void test_duplicate_of_unpublished_readd(void)
{
    struct virtq *vq = mkq(64, 0);
    struct fdev fd;
    struct buf b[40];
    int heads[40];
    void *c[40];
    uint32_t len;

    fdev_init(&fd, vq);
    for (int i = 0; i < 40; i++) {
        buf_alloc(&b[i], 100);
        TU_CHECK_EQ(add1(vq, &b[i], true, &b[i]), VNET_OK);
    }
    virtq_kick_prepare(vq);
    for (int i = 0; i < 40; i++)
        heads[i] = fdev_pop(&fd);
    for (int i = 0; i < 32; i++)
        fdev_push(&fd, (uint32_t)heads[i], 50, false);
    for (int i = 0; i < 32; i++)
        TU_CHECK_EQ(virtq_get(vq, &c[i], &len), 1);
    for (int i = 0; i < 32; i++)
        TU_CHECK_EQ(add1(vq, c[i], true, c[i]), VNET_OK); /* re-added, not published */
    fdev_push(&fd, (uint32_t)heads[3], 50, false);        /* repeats completion #3 */
    TU_CHECK_EQ(virtq_get(vq, &c[0], &len), VNET_E_BROKEN);
    TU_CHECK_EQ(virtq_broken_reason(vq), VIRTQ_DUPLICATE);
    /* Every buffer is still reclaimable exactly once: 8 published + 32 unpublished. */
    int n = 0;
    while (virtq_detach_unused(vq) != NULL)
        n++;
    TU_CHECK_EQ(n, 40);
    virtq_destroy(vq);
    for (int i = 0; i < 40; i++)
        buf_free(&b[i]);
}

/* After publishing, the same re-added heads are the device's again: completing them is
 * legal (the check above must not reject a legitimate later completion). */
static void test_readd_then_publish_completes(void)
{
    struct virtq *vq = mkq(8, 0);
    struct fdev fd;
    struct buf b;
    void *c;
    uint32_t len;

    fdev_init(&fd, vq);
    buf_alloc(&b, 100);
    for (int round = 0; round < 100; round++) {
        TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
        virtq_kick_prepare(vq);
        fdev_push(&fd, (uint32_t)fdev_pop(&fd), 10, false);
        TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    }
    TU_CHECK(!virtq_is_broken(vq));
    virtq_destroy(vq);
    buf_free(&b);
}

/* Used idx distance exactly equal to what is in flight is fine, across the wrap. */
static void test_idx_bound_wrap(void)
{
    struct virtq *vq = mkq(8, 0);
    struct fdev fd;
    struct buf b[8];
    void *c;
    uint32_t len;

    TU_CHECK_EQ(virtq_test_set_indices(vq, 0xFFFC), VNET_OK);
    fdev_init(&fd, vq);
    TU_CHECK_EQ(fd.last_avail, 0xFFFC);
    for (int i = 0; i < 8; i++) {
        buf_alloc(&b[i], 64);
        TU_CHECK_EQ(add1(vq, &b[i], true, &b[i]), VNET_OK);
    }
    TU_CHECK_EQ(virtq_test_set_indices(vq, 0), VNET_E_STATE);
    virtq_kick_prepare(vq);
    for (int i = 0; i < 8; i++) {
        int h = fdev_pop(&fd);
        fdev_push_noidx(&fd, (uint32_t)h, 64, (uint16_t)(fd.used_idx + i));
    }
    fd.used_idx = (uint16_t)(fd.used_idx + 8);
    fd.used->idx = fd.used_idx; /* 0x0004: all eight at once, crossing the wrap */
    for (int i = 0; i < 8; i++) {
        TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
        TU_CHECK(c == &b[i]);
    }
    TU_CHECK_EQ(virtq_get(vq, &c, &len), 0);
    TU_CHECK(!virtq_is_broken(vq));
    uint16_t ai, pub, lu;
    virtq_test_indices(vq, &ai, &pub, &lu);
    TU_CHECK_EQ(ai, 4);
    TU_CHECK_EQ(pub, 4);
    TU_CHECK_EQ(lu, 4);
    virtq_destroy(vq);
    for (int i = 0; i < 8; i++)
        buf_free(&b[i]);
}

static void test_detach_unused(void)
{
    struct virtq *vq = mkq(16, 0);
    struct fdev fd;
    struct buf b[10];
    int seen[10] = {0};
    void *c;
    uint32_t len;

    fdev_init(&fd, vq);
    for (int i = 0; i < 10; i++) {
        buf_alloc(&b[i], 64);
        TU_CHECK_EQ(add1(vq, &b[i], true, &b[i]), VNET_OK);
        if (i == 6)
            virtq_kick_prepare(vq); /* 7 published, 3 only added */
    }
    for (int i = 0; i < 3; i++)
        fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, false);
    for (int i = 0; i < 3; i++)
        TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    while ((c = virtq_detach_unused(vq)) != NULL) {
        int k = (int)((struct buf *)c - b);
        TU_REQUIRE(k >= 0 && k < 10);
        seen[k]++;
    }
    for (int i = 0; i < 10; i++)
        TU_CHECK_EQ(seen[i], i < 3 ? 0 : 1);
    TU_CHECK(virtq_detach_unused(vq) == NULL);
    TU_CHECK_EQ(virtq_num_free(vq), 16);
    virtq_destroy(vq);
    for (int i = 0; i < 10; i++)
        buf_free(&b[i]);
}

/* Reference: is `event` one of the indices old, old+1, ..., new-1 (mod 2^16)? */
static bool need_event_ref(uint16_t event, uint16_t new_idx, uint16_t old)
{
    uint16_t dist = (uint16_t)(new_idx - old);

    for (uint32_t k = 0; k < dist; k++)
        if ((uint16_t)(old + k) == event)
            return true;
    return false;
}

static void test_need_event_property(void)
{
    static const uint16_t olds[] = {0, 1, 2, 0x7FFE, 0x7FFF, 0x8000, 0xFFF0, 0xFFFE, 0xFFFF};
    static const uint16_t dists[] = {0, 1, 2, 3, 7, 8, 16, 255, 256};
    unsigned mismatches = 0, trues = 0;
    uint32_t rng = 99;

    for (size_t o = 0; o < sizeof(olds) / sizeof(olds[0]) + 40; o++) {
        uint16_t old;
        if (o < sizeof(olds) / sizeof(olds[0])) {
            old = olds[o];
        } else {
            rng = rng * 1664525u + 1013904223u;
            old = (uint16_t)(rng >> 16);
        }
        for (size_t d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
            uint16_t new_idx = (uint16_t)(old + dists[d]);
            for (uint32_t ev = 0; ev <= 0xFFFF; ev++) {
                bool got = virtq_need_event((uint16_t)ev, new_idx, old);
                if (got != need_event_ref((uint16_t)ev, new_idx, old))
                    mismatches++;
                trues += got;
            }
        }
    }
    TU_CHECK_EQ(mismatches, 0);
    TU_CHECK(trues > 0);
    /* Hand-picked cases around the wrap. */
    TU_CHECK(virtq_need_event(0xFFFF, 0x0000, 0xFFFF));
    TU_CHECK(virtq_need_event(0x0000, 0x0001, 0xFFFF));
    TU_CHECK(!virtq_need_event(0x0001, 0x0001, 0xFFFF));
    TU_CHECK(!virtq_need_event(0xFFFE, 0x0001, 0xFFFF));
    TU_CHECK(!virtq_need_event(5, 5, 5));
}

/* EVENT_IDX kick decisions, indices starting near the wrap. */
static void test_event_idx_kick(void)
{
    struct virtq *vq = mkq(8, VIRTQ_EVENT_IDX);
    struct fdev fd;
    struct buf b;
    volatile uint16_t *avail_event;
    void *c;
    uint32_t len;
    unsigned kicks = 0, expected = 0;

    TU_CHECK_EQ(virtq_test_set_indices(vq, 0xFFF0), VNET_OK);
    fdev_init(&fd, vq);
    buf_alloc(&b, 64);
    avail_event = virtq_avail_event_ptr(fd.used, 8);
    /* The device asks for a kick only when the index passes 0xFFF0 + 3. */
    *avail_event = 0xFFF3;
    for (int i = 0; i < 6; i++) {
        uint16_t before = fd.avail->idx;
        TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
        bool k = virtq_kick_prepare(vq);
        TU_CHECK_EQ(k, before == 0xFFF3);
        kicks += k;
    }
    TU_CHECK_EQ(kicks, 1);
    /* Device drains and re-arms at its position, then a batch crossing the wrap. */
    for (int h; (h = fdev_pop(&fd)) >= 0;)
        fdev_push(&fd, (uint32_t)h, 0, true);
    for (int i = 0; i < 6; i++)
        (void)virtq_get(vq, &c, &len);
    TU_CHECK(!virtq_is_broken(vq));
    kicks = 0;
    for (int round = 0; round < 40; round++) {
        uint16_t old = fd.avail->idx;
        int nadd = 1 + round % 5;
        *avail_event = (uint16_t)(fd.last_avail + (round % 3)); /* sometimes far ahead */
        for (int i = 0; i < nadd; i++)
            TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
        bool k = virtq_kick_prepare(vq);
        bool want = need_event_ref(*avail_event, (uint16_t)(old + nadd), old);
        TU_CHECK_EQ(k, want);
        kicks += k;
        expected += want;
        for (int h; (h = fdev_pop(&fd)) >= 0;)
            fdev_push(&fd, (uint32_t)h, 0, true);
        while (virtq_get(vq, &c, &len) == 1) {
        }
    }
    TU_CHECK(fd.avail->idx < 0x100); /* crossed the wrap */
    TU_CHECK(kicks > 0 && kicks < 40);
    TU_CHECK_EQ(kicks, expected);
    struct virtq_stats st;
    virtq_get_stats(vq, &st);
    TU_CHECK_EQ(st.notify_needed, kicks + 1);
    TU_CHECK_EQ(st.notify_needed + st.notify_suppressed, 46);
    TU_CHECK(!virtq_is_broken(vq));
    virtq_destroy(vq);
    buf_free(&b);
}

/* Device-side interrupt decisions against the driver's used_event, across the wrap. */
static void test_event_idx_interrupts(void)
{
    struct virtq *vq = mkq(8, VIRTQ_EVENT_IDX);
    struct fdev fd;
    struct buf b;
    void *c;
    uint32_t len;

    TU_CHECK_EQ(virtq_test_set_indices(vq, 0xFFF0), VNET_OK);
    fdev_init(&fd, vq);
    buf_alloc(&b, 64);
    for (int round = 0; round < 12; round++) {
        /* Post 4; interrupts enabled -> the first completion interrupts, and since the
         * driver consumes each before the next, every completion does. */
        for (int i = 0; i < 4; i++)
            TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
        virtq_kick_prepare(vq);
        for (int i = 0; i < 4; i++) {
            bool irq = fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, true);
            TU_CHECK(irq);
            TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
        }
        /* Disabled: no completion asks for an interrupt, however many. */
        virtq_disable_cb(vq);
        for (int i = 0; i < 4; i++)
            TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
        virtq_kick_prepare(vq);
        for (int i = 0; i < 4; i++) {
            TU_CHECK(!fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, true));
            if (i == 1) { /* consuming while disabled keeps it suppressed */
                TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
                TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
            }
        }
        /* Re-enable with two pending: the re-check reports them. */
        TU_CHECK(virtq_enable_cb(vq));
        TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
        TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
        TU_CHECK_EQ(virtq_get(vq, &c, &len), 0);
        TU_CHECK(!virtq_enable_cb(vq));
        /* Batched completions while enabled but not yet consumed: only the first of the
         * batch interrupts (used_event == last_used). */
        for (int i = 0; i < 3; i++)
            TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
        virtq_kick_prepare(vq);
        TU_CHECK(fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, true));
        TU_CHECK(!fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, true));
        TU_CHECK(!fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, true));
        for (int i = 0; i < 3; i++)
            TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    }
    TU_CHECK(fd.used_idx < 0xFFF0); /* wrapped */
    TU_CHECK(!virtq_is_broken(vq));
    virtq_destroy(vq);
    buf_free(&b);
}

/* Without EVENT_IDX: the flags in both directions. */
static void test_flags_suppression(void)
{
    struct virtq *vq = mkq(4, 0);
    struct fdev fd;
    struct buf b;
    void *c;
    uint32_t len;

    fdev_init(&fd, vq);
    buf_alloc(&b, 64);
    fd.used->flags = VIRTQ_USED_F_NO_NOTIFY;
    TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
    TU_CHECK(!virtq_kick_prepare(vq));
    fd.used->flags = 0;
    TU_CHECK_EQ(add1(vq, &b, true, &b), VNET_OK);
    TU_CHECK(virtq_kick_prepare(vq));
    TU_CHECK_EQ(fd.avail->flags, 0);
    virtq_disable_cb(vq);
    TU_CHECK_EQ(fd.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    TU_CHECK(!fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, false));
    TU_CHECK(virtq_enable_cb(vq)); /* raced-in completion reported */
    TU_CHECK_EQ(fd.avail->flags, 0);
    TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    TU_CHECK(!virtq_enable_cb(vq));
    TU_CHECK(fdev_push(&fd, (uint32_t)fdev_pop(&fd), 1, false));
    TU_CHECK_EQ(virtq_get(vq, &c, &len), 1);
    virtq_destroy(vq);
    buf_free(&b);
}

static void test_layouts(void)
{
    for (unsigned n = 1; n <= 1024; n <<= 1) {
        struct virtq *vq;
        uint64_t d, a, u;

        vq = mkq((uint16_t)n, VIRTQ_LEGACY_LAYOUT);
        virtq_ring_addrs(vq, &d, &a, &u);
        TU_CHECK_EQ(d % 4096, 0);
        TU_CHECK_EQ(a, d + 16 * n);
        TU_CHECK_EQ(u % 4096, 0);
        TU_CHECK_EQ(u - d, virtq_legacy_used_offset(n));
        TU_CHECK(u - d >= 16 * n + 6 + 2 * n);
        /* The whole legacy area lies in one DMA block the device can reach from PFN. */
        TU_CHECK(osal_posix_dma_ptr(d, virtq_legacy_bytes(n)) != NULL);
        virtq_destroy(vq);

        vq = mkq((uint16_t)n, VIRTQ_EVENT_IDX);
        virtq_ring_addrs(vq, &d, &a, &u);
        TU_CHECK_EQ(d % 16, 0);
        TU_CHECK_EQ(a % 2, 0);
        TU_CHECK_EQ(u % 4, 0);
        TU_CHECK(a >= d + 16 * n);
        TU_CHECK(u >= a + virtq_avail_bytes(n));
        TU_CHECK(osal_posix_dma_ptr(u, virtq_used_bytes(n)) != NULL);
        virtq_destroy(vq);
    }
    /* Legacy example from the spec's arithmetic: 256 entries -> used at 8192. */
    TU_CHECK_EQ(virtq_legacy_used_offset(256), 8192);
    TU_CHECK_EQ(virtq_legacy_bytes(256), 8192 + 4 + 8 * 256 + 2);
}

int main(void)
{
    osal_posix_log_quiet(true);
    TU_RUN(test_create_args);
    TU_RUN(test_add_get_basic);
    TU_RUN(test_add_rejects);
    TU_RUN(test_multiseg_random);
    TU_RUN(test_validation);
    TU_RUN(test_readonly_len);
    TU_RUN(test_readonly_len_legacy);
    TU_RUN(test_duplicate_of_unpublished_readd);
    TU_RUN(test_readd_then_publish_completes);
    TU_RUN(test_idx_bound_wrap);
    TU_RUN(test_detach_unused);
    TU_RUN(test_need_event_property);
    TU_RUN(test_event_idx_kick);
    TU_RUN(test_event_idx_interrupts);
    TU_RUN(test_flags_suppression);
    TU_RUN(test_layouts);
    return tu_summary("test_virtq");
}
