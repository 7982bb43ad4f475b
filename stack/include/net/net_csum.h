/*
 * vnet-rtos router stack: Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624). Byte-order independent: data is summed as big-endian 16-bit words and the
 * results are the values to store big-endian in a header.
 */
#ifndef NET_CSUM_H
#define NET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add `len` bytes to a running 32-bit ones'-complement accumulator (start with 0). An odd
   length is padded with a zero byte, so only the last chunk may be odd. */
uint32_t net_csum_add(uint32_t acc, const uint8_t *data, size_t len);

/* Fold an accumulator to 16 bits and complement it: the checksum field value. */
uint16_t net_csum_finish(uint32_t acc);

/* Checksum of one buffer: net_csum_finish(net_csum_add(0, data, len)). A buffer holding a
   correct checksum field yields 0. */
uint16_t net_csum(const uint8_t *data, size_t len);

/*
 * RFC 1624 eqn. 3: new checksum after one 16-bit word of the covered data changed from
 * `old_word` to `new_word`: HC' = ~(~HC + ~m + m'). Gives the value a full recomputation
 * gives (never 0xffff for a header that is not all zeros).
 */
uint16_t net_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

#endif /* NET_CSUM_H */
