/*
 * test_time.c - delays, the tick counter, pend timeouts (including 0 = forever) and
 * OSTimeDlyResume(). The hosted port's virtual clock makes tick counts exact.
 */
#include "kt.h"

static OS_EVENT *g_sem;
static volatile int g_woke;
static volatile INT8U g_err;

static void case_dly(void)
{
    INT32U t0;
    INT32U i;

    kt_case("OSTimeDly");
    for (i = 1u; i <= 5u; i++) {
        t0 = OSTimeGet();
        OSTimeDly(i);
        KT_EQ(OSTimeGet() - t0, i);
    }
    t0 = OSTimeGet();
    OSTimeDly(0u); /* no delay, no switch */
    KT_EQ(OSTimeGet(), t0);
}

static void case_time_set_get(void)
{
    INT32U t0;

    kt_case("OSTimeSet/OSTimeGet");
    OSTimeSet(0xFFFFFFFEu);
    KT_EQ(OSTimeGet(), 0xFFFFFFFEu);
    OSTimeDly(3u); /* wraps like the real 32-bit counter */
    KT_EQ(OSTimeGet(), 1u);
    OSTimeSet(1000u);
    t0 = OSTimeGet();
    KT_EQ(t0, 1000u);
}

static void case_hmsm(void)
{
    INT32U t0;

    kt_case("OSTimeDlyHMSM");
    t0 = OSTimeGet();
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 0u, 100u), OS_ERR_NONE);
    KT_EQ(OSTimeGet() - t0, OS_TICKS_PER_SEC / 10u);
    t0 = OSTimeGet();
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 1u, 0u), OS_ERR_NONE);
    KT_EQ(OSTimeGet() - t0, OS_TICKS_PER_SEC);
    t0 = OSTimeGet();
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 0u, 14u), OS_ERR_NONE); /* 1.4 ticks rounds to 1 */
    KT_EQ(OSTimeGet() - t0, 1u);
    t0 = OSTimeGet();
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 0u, 15u), OS_ERR_NONE); /* 1.5 ticks rounds to 2 */
    KT_EQ(OSTimeGet() - t0, 2u);
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 0u, 0u), OS_ERR_TIME_ZERO_DLY);
    KT_EQ(OSTimeDlyHMSM(0u, 60u, 0u, 0u), OS_ERR_TIME_INVALID_MINUTES);
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 60u, 0u), OS_ERR_TIME_INVALID_SECONDS);
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 0u, 1000u), OS_ERR_TIME_INVALID_MS);
}

static void case_pend_timeout(void)
{
    OS_SEM_DATA sd;
    INT32U t0;
    INT8U err;

    kt_case("pend timeout");
    g_sem = OSSemCreate(0u);
    t0 = OSTimeGet();
    OSSemPend(g_sem, 7u, &err);
    KT_EQ(err, OS_ERR_TIMEOUT);
    KT_EQ(OSTimeGet() - t0, 7u);
    /* The timed-out task must have left the wait list. */
    KT_EQ(OSSemQuery(g_sem, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSEventGrp, 0);
    KT_EQ(sd.OSCnt, 0);
    KT_EQ(OSTCBCur->OSTCBStat, OS_STAT_RDY);
    KT_CHECK(OSTCBCur->OSTCBEventPtr == NULL);
    /* A later post is counted, not lost to the departed waiter. */
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE);
    OSSemPend(g_sem, 1u, &err);
    KT_EQ(err, OS_ERR_NONE);
}

static void task_pend_forever(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    OSSemPend(g_sem, 0u, &err);
    g_err = err;
    g_woke = 1;
}

/* Timeout 0 waits forever: 1000 ticks pass without a wake-up, then a post wakes it. */
static void case_pend_forever(void)
{
    kt_case("timeout 0 = forever");
    g_woke = 0;
    KT_EQ(kt_spawn(task_pend_forever, NULL, 5), OS_ERR_NONE);
    OSTimeDly(1000u);
    KT_EQ(g_woke, 0);
    KT_EQ(OSTCBPrioTbl[5]->OSTCBStat, OS_STAT_SEM);
    KT_EQ(OSTCBPrioTbl[5]->OSTCBDly, 0);
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE);
    KT_EQ(g_woke, 1); /* prio 5 outranks main: ran inside the post */
    KT_EQ(g_err, OS_ERR_NONE);
}

static void task_long_dly(void *p_arg)
{
    (void)p_arg;
    OSTimeDly(100000u);
    g_woke = 1;
}

static void task_long_pend(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    OSSemPend(g_sem, 100000u, &err);
    g_err = err;
    g_woke = 1;
}

static void case_dly_resume(void)
{
    INT32U t0;

    kt_case("OSTimeDlyResume");
    g_woke = 0;
    t0 = OSTimeGet();
    KT_EQ(kt_spawn(task_long_dly, NULL, 5), OS_ERR_NONE);
    KT_EQ(OSTimeDlyResume(KT_MAIN_PRIO), OS_ERR_TIME_NOT_DLY);
    KT_EQ(OSTimeDlyResume(33u), OS_ERR_TASK_NOT_EXIST);
    KT_EQ(OSTimeDlyResume(OS_LOWEST_PRIO), OS_ERR_PRIO_INVALID);
    KT_EQ(OSTimeDlyResume(5u), OS_ERR_NONE);
    KT_EQ(g_woke, 1);
    KT_EQ(OSTimeGet(), t0);

    /* Resuming a timed pend ends it as a timeout. */
    g_woke = 0;
    KT_EQ(kt_spawn(task_long_pend, NULL, 5), OS_ERR_NONE);
    KT_EQ(OSTimeDlyResume(5u), OS_ERR_NONE);
    KT_EQ(g_woke, 1);
    KT_EQ(g_err, OS_ERR_TIMEOUT);
}

static void main_task(void *p_arg)
{
    (void)p_arg;
    case_dly();
    case_time_set_get();
    case_hmsm();
    case_pend_timeout();
    case_pend_forever();
    case_dly_resume();
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
