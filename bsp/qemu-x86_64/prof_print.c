/*
 * prof_print.c - the tick sampler's dump in bench/perf/sample.sh's format. Portable C over
 * the board's bsp_prof_stop() and bsp_snprintf(), shared by both QEMU boards (the aarch64
 * board's sampler records nothing, so its dump is the "prof samples=0" line).
 */
#include <stddef.h>
#include <stdint.h>
#include "bsp.h"

void bsp_prof_stop_print(void (*puts_fn)(const char *s))
{
    const uint64_t *rip;
    uint32_t n = bsp_prof_stop(&rip);
    char line[160]; /* "prof" + 4 x " rip/top" of up to 16 + 16 hex digits + newline */
    (void)bsp_snprintf(line, sizeof(line), "prof samples=%lu\n", (unsigned long)n);
    puts_fn(line);
    for (uint32_t i = 0; i < n; i += 4u) {
        size_t at = (size_t)bsp_snprintf(line, sizeof(line), "prof");
        for (uint32_t j = i; j < n && j < i + 4u; j++)
            at += (size_t)bsp_snprintf(line + at, sizeof(line) - at, " %lx/%lx",
                                       (unsigned long)rip[2u * j], (unsigned long)rip[2u * j + 1u]);
        (void)bsp_snprintf(line + at, sizeof(line) - at, "\n");
        puts_fn(line);
    }
}
