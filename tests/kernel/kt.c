/*
 * kt.c - kernel test harness (see kt.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt.h"

static OS_STK kt_stacks[OS_LOWEST_PRIO + 1u][KT_STK_SIZE];
static int kt_failures;
static int kt_checks;
static char kt_logbuf[1024];
static const char *kt_cur_case = "(none)";

void kt_case(const char *name)
{
    kt_cur_case = name;
    printf("-- %s\n", name);
}

void kt_check(int ok, const char *expr, const char *file, int line)
{
    kt_checks++;
    if (!ok) {
        kt_failures++;
        printf("FAIL %s:%d [%s]: %s\n", file, line, kt_cur_case, expr);
    }
}

void kt_check_eq(long long got, long long want, const char *expr, const char *file, int line)
{
    kt_checks++;
    if (got != want) {
        kt_failures++;
        printf("FAIL %s:%d [%s]: %s == %lld, expected %lld\n", file, line, kt_cur_case, expr, got,
               want);
    }
}

void kt_log(const char *tag)
{
    size_t len = strlen(kt_logbuf);

    if (len + strlen(tag) + 2u < sizeof(kt_logbuf)) {
        if (len > 0u) {
            strcat(kt_logbuf, " ");
        }
        strcat(kt_logbuf, tag);
    }
}

void kt_log_clear(void)
{
    kt_logbuf[0] = '\0';
}

const char *kt_log_get(void)
{
    return kt_logbuf;
}

void kt_check_log(const char *want, const char *file, int line)
{
    kt_checks++;
    if (strcmp(kt_logbuf, want) != 0) {
        kt_failures++;
        printf("FAIL %s:%d [%s]: log \"%s\", expected \"%s\"\n", file, line, kt_cur_case, kt_logbuf,
               want);
    }
    kt_log_clear();
}

OS_STK *kt_stack(INT8U prio)
{
    return &kt_stacks[prio][0];
}

INT8U kt_spawn(void (*task)(void *p_arg), void *p_arg, INT8U prio)
{
    return OSTaskCreateExt(task, p_arg, &kt_stacks[prio][KT_STK_SIZE - 1u], prio, prio,
                           &kt_stacks[prio][0], KT_STK_SIZE, NULL,
                           OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR);
}

void kt_run(void (*main_task)(void *p_arg))
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    OSInit();
    if (kt_spawn(main_task, NULL, KT_MAIN_PRIO) != OS_ERR_NONE) {
        printf("FAIL: cannot create the main test task\n");
        exit(1);
    }
    OSStart();
    printf("FAIL: OSStart() returned\n");
    exit(1);
}

void kt_finish(void)
{
    printf("%d checks, %d failed\n", kt_checks, kt_failures);
    fflush(stdout);
    exit((kt_failures == 0 && kt_checks > 0) ? 0 : 1);
}
