/*
 * cmdline.h - the kernel command line's "key=value" words, for both QEMU boards' bsp.c
 * (portable C like the rest of libc/: no board state).
 */
#ifndef BSP_LIBC_CMDLINE_H
#define BSP_LIBC_CMDLINE_H

#include <stddef.h>

/* The value of the first word "key=value" of `cmdline` (words split by spaces), copied
 * into buf (at most size - 1 bytes, NUL-terminated when size > 0). Returns the value's
 * full length (it was cut when >= size), or -1 when no such word exists. */
int bsp_cmdline_word(const char *cmdline, const char *key, char *buf, size_t size);

#endif /* BSP_LIBC_CMDLINE_H */
