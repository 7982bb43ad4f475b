/*
 * string.c - the few C library functions a freestanding image still needs: compilers emit
 * calls to memcpy/memset/memmove/memcmp for struct copies and initialisers even with
 * -ffreestanding (gcc manual, "C Dialect Options"), and shared code uses a few str* calls.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Built with -fno-builtin (bsp/CMakeLists.txt) so these loops are not turned back into calls
 * to themselves. */

/*
 * Frame copies (ISR into the software ring, send into the TX buffer) are the firmware's
 * hottest loop. Under QEMU TCG every guest instruction costs several host instructions,
 * so the instruction count decides: 8-byte moves, four per iteration, move a 1514-byte
 * frame in ~50 iterations where the byte loop took 1514. `rep movs` is no better under
 * TCG (it runs one iteration per pass through its translated block). x86-64 tolerates
 * unaligned 8-byte accesses, hence aligned(1); may_alias because the bytes may have any
 * type (C11 6.5p7).
 */
typedef uint64_t __attribute__((may_alias, aligned(1))) bsp_u64_any;

/* noinline: with link-time optimisation gcc would inline these into callers whose
 * destination it knows to be smaller than 8 bytes and warn about the 8-byte loop those
 * callers never reach; calls with a constant size are expanded by the compiler anyway. */
__attribute__((noinline)) void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n >= 32u) {
        uint64_t a = ((const bsp_u64_any *)s)[0];
        uint64_t b = ((const bsp_u64_any *)s)[1];
        uint64_t c = ((const bsp_u64_any *)s)[2];
        uint64_t e = ((const bsp_u64_any *)s)[3];
        ((bsp_u64_any *)d)[0] = a;
        ((bsp_u64_any *)d)[1] = b;
        ((bsp_u64_any *)d)[2] = c;
        ((bsp_u64_any *)d)[3] = e;
        d += 32;
        s += 32;
        n -= 32u;
    }
    while (n >= 8u) {
        *(bsp_u64_any *)d = *(const bsp_u64_any *)s;
        d += 8;
        s += 8;
        n -= 8u;
    }
    while (n-- > 0u) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d == s || n == 0u) {
        return dst;
    }
    if ((uintptr_t)d < (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n) {
        while (n-- > 0u) {
            *d++ = *s++;
        }
    } else {
        while (n-- > 0u) {
            d[n] = s[n];
        }
    }
    return dst;
}

__attribute__((noinline)) void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    /* Same reasoning as memcpy: 8 bytes per store (the byte replicated by multiplying). */
    uint64_t v = (uint64_t)(unsigned char)c * 0x0101010101010101ull;

    while (n >= 8u) {
        *(bsp_u64_any *)d = v;
        d += 8;
        n -= 8u;
    }
    while (n-- > 0u) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a;
    const unsigned char *q = b;

    for (; n > 0u; n--, p++, q++) {
        if (*p != *q) {
            return (int)*p - (int)*q;
        }
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0u;

    while (s[n] != '\0') {
        n++;
    }
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0u; n--, a++, b++) {
        if (*a != *b || *a == '\0') {
            return (int)(unsigned char)*a - (int)(unsigned char)*b;
        }
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c) {
            return (char *)(uintptr_t)s;
        }
        if (*s == '\0') {
            return NULL;
        }
    }
}
