/*
 * Minimal check macros for the driver tests: a failed check prints and is counted, the
 * program carries on; tn_finish() exits non-zero on any failure or when nothing was checked.
 */
#ifndef VNET_TESTS_NET_TN_H
#define VNET_TESTS_NET_TN_H

#include <stdio.h>
#include <stdlib.h>

extern int tn_checks, tn_failures;

#define TN_CHECK(c)                                                                                \
    do {                                                                                           \
        tn_checks++;                                                                               \
        if (!(c)) {                                                                                \
            tn_failures++;                                                                         \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                                    \
        }                                                                                          \
    } while (0)

#define TN_EQ(got, want)                                                                           \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        tn_checks++;                                                                               \
        if (g_ != w_) {                                                                            \
            tn_failures++;                                                                         \
            printf("FAIL %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #got, g_, w_);   \
        }                                                                                          \
    } while (0)

#define TN_DEFINE_COUNTERS int tn_checks, tn_failures

static inline int tn_finish(void)
{
    printf("%d checks, %d failed\n", tn_checks, tn_failures);
    return (tn_failures == 0 && tn_checks > 0) ? 0 : 1;
}

static inline void tn_case(const char *name)
{
    printf("-- %s\n", name);
    fflush(stdout);
}

#endif
