/*
 * kt.h - tiny harness for the kernel tests. A test program runs one kernel instance: main()
 * calls kt_run(), which starts the kernel with the test's main task; that task runs the test
 * cases and ends the process with kt_finish(). Checks never abort, so one run reports every
 * failing check; a program that made no check at all fails too.
 */
#ifndef KT_H
#define KT_H

#include <stddef.h>

#include "ucos_ii.h"

#define KT_STK_SIZE  512u /* OS_STK entries per test task */
#define KT_MAIN_PRIO 8u   /* the test's main task */

void kt_check(int ok, const char *expr, const char *file, int line);
void kt_check_eq(long long got, long long want, const char *expr, const char *file, int line);

#define KT_CHECK(cond)   kt_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
#define KT_EQ(got, want) kt_check_eq((long long)(got), (long long)(want), #got, __FILE__, __LINE__)

/* Start the kernel; main_task runs at KT_MAIN_PRIO. Never returns. */
void kt_run(void (*main_task)(void *p_arg));

/* Print the summary and exit (status 1 on any failure or when nothing was checked). */
void kt_finish(void);

/* Create a helper task at prio on its own stack (one stack per priority), with stack checking
 * enabled. Returns the OSTaskCreateExt() result. */
INT8U kt_spawn(void (*task)(void *p_arg), void *p_arg, INT8U prio);
OS_STK *kt_stack(INT8U prio); /* base (lowest address) of prio's stack */

/* Event log: tasks append short tags; tests compare the sequence. */
void kt_log(const char *tag);
void kt_log_clear(void);
const char *kt_log_get(void);
#define KT_LOG_EQ(want) kt_check_log((want), __FILE__, __LINE__)
void kt_check_log(const char *want, const char *file, int line);

/* Announce a test case (printed, helps locate failures). */
void kt_case(const char *name);

#endif /* KT_H */
