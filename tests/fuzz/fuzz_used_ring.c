/*
 * libFuzzer harness: the virtqueue's used-ring consumer against a hostile device.
 *
 * The input is a script. Between driver calls (add, kick, get, enable/disable, has_used)
 * it writes arbitrary used-ring entries, used->idx, used->flags and avail_event — the
 * fields a device controls. Invariants (abort on violation):
 *   - never crash (ASan/UBSan watch memory);
 *   - virtq_get never returns a cookie that is not outstanding, nor a len above the
 *     chain's writable size;
 *   - broken is sticky: once broken every get is VNET_E_BROKEN, add fails, enable_cb is
 *     false;
 *   - every posted cookie is reclaimed exactly once, by get or by detach_unused, and
 *     the free list is whole again afterwards; no DMA or heap memory leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "osal.h"
#include "osal_posix.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtq.h"
#include "virtio/virtq_test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_NCOOKIE 64
#define FZ_BUFLEN  256u
#define FZ_MAXOPS  4096

struct fz_in {
    const uint8_t *p;
    size_t n;
};

static uint8_t fz_u8(struct fz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static uint16_t fz_u16(struct fz_in *in)
{
    return (uint16_t)(fz_u8(in) | (fz_u8(in) << 8));
}

static uint32_t fz_u32(struct fz_in *in)
{
    return (uint32_t)fz_u16(in) | ((uint32_t)fz_u16(in) << 16);
}

#define FZ_ASSERT(c)                                                                               \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_used_ring: invariant failed: %s (line %d)\n", #c, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { FZ_FREE = 0, FZ_POSTED, FZ_RECLAIMED };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    static uint8_t tags[FZ_NCOOKIE];
    uint8_t state[FZ_NCOOKIE] = {0};
    uint32_t wlen[FZ_NCOOKIE] = {0};
    void *bufs[3];
    uint64_t dma[3];
    struct virtq *vq = NULL;
    struct virtq_used *used;
    struct virtq_avail *avail;
    uint64_t da, aa, ua;
    size_t dma_before = osal_posix_dma_outstanding(), mem_before = osal_posix_mem_outstanding();
    uint8_t hdr = fz_u8(&in);
    uint16_t qsize = (uint16_t)(1u << (hdr % 7)); /* 1..64 */
    unsigned flags = (hdr & 0x80) ? VIRTQ_EVENT_IDX : 0;
    bool was_broken = false;

    osal_posix_log_quiet(true);
    if (hdr & 0x40)
        flags |= VIRTQ_LEGACY_LAYOUT;
    if (virtq_create(&vq, 0, qsize, flags) != VNET_OK)
        return 0;
    if (hdr & 0x20)
        FZ_ASSERT(virtq_test_set_indices(vq, (uint16_t)(0xFFFF - (hdr & 0x1F))) == VNET_OK);
    for (int i = 0; i < 3; i++) {
        bufs[i] = osal_dma_alloc(FZ_BUFLEN, 8, &dma[i]);
        FZ_ASSERT(bufs[i] != NULL);
    }
    virtq_ring_addrs(vq, &da, &aa, &ua);
    used = osal_posix_dma_ptr(ua, virtq_used_bytes(qsize));
    avail = osal_posix_dma_ptr(aa, virtq_avail_bytes(qsize));
    FZ_ASSERT(used != NULL && avail != NULL);

    for (int op = 0; op < FZ_MAXOPS && in.n > 0; op++) {
        uint8_t b = fz_u8(&in);

        was_broken = was_broken || virtq_is_broken(vq);
        switch (b & 7) {
        case 0: { /* post a chain of 1..3 segments, some device-writable */
            int c = -1;
            uint16_t nseg = (uint16_t)(1 + (b >> 3) % 3);
            uint16_t nwr = (uint16_t)((b >> 5) % (nseg + 1));
            struct virtq_seg segs[3];
            uint32_t w = 0;

            for (int i = 0; i < FZ_NCOOKIE; i++) {
                if (state[i] == FZ_FREE) {
                    c = i;
                    break;
                }
            }
            if (c < 0)
                break;
            for (uint16_t s = 0; s < nseg; s++) {
                segs[s].addr = dma[s];
                segs[s].len = FZ_BUFLEN - s;
                segs[s].device_writes = s >= nseg - nwr;
                if (segs[s].device_writes)
                    w += segs[s].len;
            }
            vnet_err_t rc = virtq_add(vq, segs, nseg, &tags[c]);
            if (was_broken)
                FZ_ASSERT(rc == VNET_E_BROKEN);
            if (rc == VNET_OK) {
                state[c] = FZ_POSTED;
                wlen[c] = w;
            } else {
                FZ_ASSERT(rc == VNET_E_NOSPC || rc == VNET_E_BROKEN ||
                          (rc == VNET_E_INVAL && nseg > qsize));
            }
            break;
        }
        case 1:
            if (virtq_kick_prepare(vq))
                FZ_ASSERT(!was_broken);
            break;
        case 2: { /* device writes a used entry */
            uint16_t slot = fz_u16(&in);
            used->ring[slot % qsize].id = fz_u16(&in) % (2u * qsize + 1);
            used->ring[slot % qsize].len = (b & 0x80) ? fz_u32(&in) : fz_u16(&in) % 300;
            break;
        }
        case 3: /* device moves used->idx: small steps mostly, sometimes anywhere */
            if (b & 0x80)
                used->idx = fz_u16(&in);
            else
                used->idx = (uint16_t)(used->idx + ((b >> 3) & 0xF));
            break;
        case 4: { /* driver consumes */
            void *cookie = NULL;
            uint32_t len = 0;
            int rc = virtq_get(vq, &cookie, &len);

            if (was_broken) {
                FZ_ASSERT(rc == VNET_E_BROKEN);
            } else if (rc == 1) {
                FZ_ASSERT(cookie != NULL);
                long c = (uint8_t *)cookie - tags;
                FZ_ASSERT(c >= 0 && c < FZ_NCOOKIE);
                FZ_ASSERT(state[c] == FZ_POSTED);
                FZ_ASSERT(len <= wlen[c]);
                state[c] = FZ_FREE; /* reclaimed; may be posted again */
            } else if (rc == VNET_E_BROKEN) {
                FZ_ASSERT(virtq_is_broken(vq));
            } else {
                FZ_ASSERT(rc == 0);
            }
            break;
        }
        case 5:
            if (b & 8) {
                bool pending = virtq_enable_cb(vq);
                if (was_broken)
                    FZ_ASSERT(!pending);
            } else {
                virtq_disable_cb(vq);
            }
            break;
        case 6:
            if (virtq_has_used(vq))
                FZ_ASSERT(!was_broken);
            break;
        case 7: /* other device-owned fields */
            used->flags = (uint16_t)(b >> 3);
            *virtq_avail_event_ptr(used, qsize) = fz_u16(&in);
            break;
        }
        if (was_broken)
            FZ_ASSERT(virtq_is_broken(vq));
    }

    /* Device reset: everything still posted comes back exactly once. */
    void *cookie;
    while ((cookie = virtq_detach_unused(vq)) != NULL) {
        long c = (uint8_t *)cookie - tags;
        FZ_ASSERT(c >= 0 && c < FZ_NCOOKIE);
        FZ_ASSERT(state[c] == FZ_POSTED);
        state[c] = FZ_RECLAIMED;
    }
    for (int i = 0; i < FZ_NCOOKIE; i++)
        FZ_ASSERT(state[i] != FZ_POSTED);
    FZ_ASSERT(virtq_num_free(vq) == qsize);
    virtq_destroy(vq);
    for (int i = 0; i < 3; i++)
        osal_dma_free(bufs[i], FZ_BUFLEN);
    FZ_ASSERT(osal_posix_dma_outstanding() == dma_before);
    FZ_ASSERT(osal_posix_mem_outstanding() == mem_before);
    return 0;
}
