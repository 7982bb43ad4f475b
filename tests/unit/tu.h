/*
 * Minimal test harness for host unit tests: checks that count failures and keep going,
 * a per-test leak check against the POSIX port's allocation counters, and a summary that
 * becomes the exit status (ctest: non-zero = failed). Nothing is ever "skipped as pass".
 */
#ifndef VNET_TESTS_TU_H
#define VNET_TESTS_TU_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "osal_posix.h"

static unsigned tu_failures;
static unsigned tu_checks;

#define TU_CHECK(cond)                                                                             \
    do {                                                                                           \
        tu_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            tu_failures++;                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define TU_CHECK_EQ(a, b)                                                                          \
    do {                                                                                           \
        long long tu_a_ = (long long)(a), tu_b_ = (long long)(b);                                  \
        tu_checks++;                                                                               \
        if (tu_a_ != tu_b_) {                                                                      \
            tu_failures++;                                                                         \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s (%lld) != %s (%lld)\n", __FILE__,          \
                    __LINE__, #a, tu_a_, #b, tu_b_);                                               \
        }                                                                                          \
    } while (0)

/* A check whose failure makes the rest of the test meaningless (e.g. setup). */
#define TU_REQUIRE(cond)                                                                           \
    do {                                                                                           \
        tu_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Run one test function and check it released every DMA and heap allocation. */
#define TU_RUN(fn)                                                                                 \
    do {                                                                                           \
        unsigned tu_before_ = tu_failures;                                                         \
        fn();                                                                                      \
        TU_CHECK_EQ(osal_posix_dma_outstanding(), 0);                                              \
        TU_CHECK_EQ(osal_posix_mem_outstanding(), 0);                                              \
        fprintf(stderr, "%-48s %s\n", #fn, tu_failures == tu_before_ ? "ok" : "FAILED");           \
    } while (0)

static inline int tu_summary(const char *name)
{
    fprintf(stderr, "%s: %u checks, %u failures\n", name, tu_checks, tu_failures);
    return tu_failures == 0 && tu_checks > 0 ? 0 : 1;
}

#endif /* VNET_TESTS_TU_H */
