/*
 * Internet checksum. Summing in a 32-bit accumulator defers the end-around carries: each
 * 16-bit add raises the sum by < 2^16, so 2^15 words (64 KiB, the largest IPv4 datagram)
 * cannot overflow it before net_csum_finish folds.
 */
#include "net/net_csum.h"

uint32_t net_csum_add(uint32_t acc, const uint8_t *data, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        acc += ((uint32_t)data[i] << 8) | data[i + 1];
    if (len & 1u)
        acc += (uint32_t)data[len - 1] << 8;
    /* Fold now so callers may chain many chunks without overflow. */
    acc = (acc & 0xffffu) + (acc >> 16);
    return acc;
}

uint16_t net_csum_finish(uint32_t acc)
{
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)~acc;
}

uint16_t net_csum(const uint8_t *data, size_t len)
{
    return net_csum_finish(net_csum_add(0, data, len));
}

uint16_t net_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    uint32_t sum = (uint32_t)(uint16_t)~csum + (uint16_t)~old_word + new_word;

    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}
