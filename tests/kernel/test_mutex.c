/*
 * test_mutex.c - mutexes: ceiling reservation, ownership, priority raising to the ceiling
 * (bounded inversion), OS_ERR_PIP_LOWER, timeouts, accept, query and delete.
 */
#include "kt.h"

#define PIP    4u
#define P_HIGH 10u
#define P_MED  20u
#define P_LOW  30u

static OS_EVENT *g_mutex;
static OS_EVENT *g_go;
static volatile INT8U g_low_prio_seen;
static volatile INT8U g_err;

static void task_dummy(void *p_arg)
{
    (void)p_arg;
    OSTimeDly(1u);
}

static void case_create_errors(void)
{
    OS_EVENT *m;
    INT8U err;

    kt_case("create: the ceiling priority must be free");
    m = OSMutexCreate(KT_MAIN_PRIO, &err); /* a task has it */
    KT_CHECK(m == NULL);
    KT_EQ(err, OS_ERR_PRIO_EXIST);
    m = OSMutexCreate(OS_LOWEST_PRIO, &err);
    KT_CHECK(m == NULL);
    KT_EQ(err, OS_ERR_PRIO_INVALID);
    g_mutex = OSMutexCreate(PIP, &err);
    KT_CHECK(g_mutex != NULL);
    KT_EQ(err, OS_ERR_NONE);
    KT_CHECK(OSTCBPrioTbl[PIP] == OS_TCB_RESERVED);
    m = OSMutexCreate(PIP, &err); /* another mutex has it */
    KT_CHECK(m == NULL);
    KT_EQ(err, OS_ERR_PRIO_EXIST);
    KT_EQ(kt_spawn(task_dummy, NULL, PIP), OS_ERR_PRIO_EXIST); /* tasks cannot take it */
    KT_EQ(OSTaskDel(PIP), OS_ERR_TASK_DEL);
    KT_EQ(OSTaskSuspend(PIP), OS_ERR_TASK_NOT_EXIST);
    OSMutexPend(NULL, 0u, &err);
    KT_EQ(err, OS_ERR_PEVENT_NULL);
    KT_EQ(OSMutexPost(NULL), OS_ERR_PEVENT_NULL);
    m = OSSemCreate(1u);
    OSMutexPend(m, 0u, &err);
    KT_EQ(err, OS_ERR_EVENT_TYPE);
    KT_EQ(OSMutexPost(m), OS_ERR_EVENT_TYPE);
    (void)OSSemDel(m, OS_DEL_ALWAYS, &err);
}

/* Low takes the mutex, signals, then works until told to release. */
static void task_low(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    OSMutexPend(g_mutex, 0u, &err);
    kt_log("L-got");
    OSSemPend(g_go, 0u, &err); /* main lets us continue once H waits */
    g_low_prio_seen = OSTCBCur->OSTCBPrio;
    kt_log("L-release");
    g_err = OSMutexPost(g_mutex);
    g_low_prio_seen = OSTCBCur->OSTCBPrio; /* back to its own priority? */
    kt_log("L-end");
}

static void task_med(void *p_arg)
{
    (void)p_arg;
    kt_log("M");
}

static void task_high(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    kt_log("H-wait");
    OSMutexPend(g_mutex, 0u, &err);
    kt_log(err == OS_ERR_NONE ? "H-got" : "H-err");
    KT_EQ(OSMutexPost(g_mutex), OS_ERR_NONE);
}

/*
 * The classic inversion: L owns, H blocks on it, M becomes ready. With the ceiling, L runs at
 * PIP ahead of M, releases, H gets the mutex, and only then M runs.
 */
static void case_priority_ceiling(void)
{
    OS_MUTEX_DATA md;
    INT8U err;

    kt_case("owner raised to the ceiling (bounded inversion)");
    g_go = OSSemCreate(0u);
    kt_log_clear();
    KT_EQ(kt_spawn(task_low, NULL, P_LOW), OS_ERR_NONE);
    OSTimeDly(1u); /* L takes the mutex and waits for g_go */
    KT_EQ(OSMutexQuery(g_mutex, &md), OS_ERR_NONE);
    KT_EQ(md.OSValue, OS_FALSE);
    KT_EQ(md.OSOwnerPrio, P_LOW);
    KT_EQ(md.OSMutexPIP, PIP);
    /* Only the owner may release. */
    KT_EQ(OSMutexPost(g_mutex), OS_ERR_NOT_MUTEX_OWNER);
    KT_EQ(kt_spawn(task_high, NULL, P_HIGH), OS_ERR_NONE);
    OSTimeDly(1u); /* H blocks on the mutex; L gets raised */
    KT_EQ(OSTCBPrioTbl[P_LOW]->OSTCBPrio, PIP);
    KT_CHECK(OSTCBPrioTbl[PIP] == OSTCBPrioTbl[P_LOW]);
    /* A raised owner cannot be deleted through either of its priorities. */
    KT_EQ(OSTaskDel(P_LOW), OS_ERR_TASK_DEL);
    KT_EQ(OSTaskDel(PIP), OS_ERR_TASK_DEL);
    KT_EQ(kt_spawn(task_med, NULL, P_MED), OS_ERR_NONE); /* ready, but below PIP */
    KT_EQ(OSSemPost(g_go), OS_ERR_NONE);                 /* L at PIP outranks main: runs now */
    OSTimeDly(1u);
    KT_LOG_EQ("L-got H-wait L-release H-got M L-end");
    KT_EQ(g_err, OS_ERR_NONE);
    KT_EQ(g_low_prio_seen, P_LOW);
    KT_CHECK(OSTCBPrioTbl[PIP] == OS_TCB_RESERVED);
    KT_EQ(OSMutexQuery(g_mutex, &md), OS_ERR_NONE);
    KT_EQ(md.OSValue, OS_TRUE);
    KT_EQ(md.OSEventGrp, 0);
    (void)OSSemDel(g_go, OS_DEL_ALWAYS, &err);
}

/* Without a more important waiter the owner keeps its own priority. */
static void case_no_raise_without_contention(void)
{
    INT8U err;

    kt_case("no raise without a more important waiter");
    OSMutexPend(g_mutex, 0u, &err);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(OSTCBCur->OSTCBPrio, KT_MAIN_PRIO);
    KT_EQ(kt_spawn(task_high, NULL, P_HIGH), OS_ERR_NONE); /* less important than main */
    kt_log_clear();
    OSTimeDly(1u);
    KT_LOG_EQ("H-wait");
    KT_EQ(OSTCBCur->OSTCBPrio, KT_MAIN_PRIO);
    KT_EQ(OSMutexPost(g_mutex), OS_ERR_NONE); /* hands over to H; no switch (H < main) */
    kt_log("main");
    OSTimeDly(1u);
    KT_LOG_EQ("main H-got");
}

static void task_pip_lower(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    OSMutexPend(g_mutex, 0u, &err);
    g_err = err;
    if (err == OS_ERR_PIP_LOWER) {
        (void)OSMutexPost(g_mutex); /* it does own the mutex */
    }
}

static void case_pip_lower(void)
{
    OS_MUTEX_DATA md;

    kt_case("OS_ERR_PIP_LOWER: caller above the ceiling still gets the mutex");
    g_err = 0xEEu;
    KT_EQ(kt_spawn(task_pip_lower, NULL, 3u), OS_ERR_NONE);
    KT_EQ(g_err, OS_ERR_PIP_LOWER);
    KT_EQ(OSMutexQuery(g_mutex, &md), OS_ERR_NONE);
    KT_EQ(md.OSValue, OS_TRUE); /* released again by the task */
}

static void task_hold(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    OSMutexPend(g_mutex, 0u, &err);
    OSTimeDly(50u);
    (void)OSMutexPost(g_mutex);
}

static void case_timeout_accept(void)
{
    OS_MUTEX_DATA md;
    INT32U t0;
    INT8U err;

    kt_case("timeout and accept");
    KT_EQ(kt_spawn(task_hold, NULL, 3u), OS_ERR_NONE); /* takes it (PIP_LOWER), sleeps */
    KT_EQ(OSMutexAccept(g_mutex, &err), OS_FALSE);
    KT_EQ(err, OS_ERR_NONE);
    t0 = OSTimeGet();
    OSMutexPend(g_mutex, 10u, &err);
    KT_EQ(err, OS_ERR_TIMEOUT);
    KT_EQ(OSTimeGet() - t0, 10u);
    KT_EQ(OSMutexQuery(g_mutex, &md), OS_ERR_NONE);
    KT_EQ(md.OSEventGrp, 0); /* the timed-out waiter left */
    OSTimeDly(50u);
    KT_EQ(OSMutexAccept(g_mutex, &err), OS_TRUE);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(OSMutexPost(g_mutex), OS_ERR_NONE);
}

static void task_wait_mutex(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    OSMutexPend(g_mutex, 0u, &err);
    g_err = err;
    if (err == OS_ERR_NONE) {
        (void)OSMutexPost(g_mutex);
    }
}

static void case_delete(void)
{
    INT8U err;

    kt_case("delete frees the ceiling priority");
    OSMutexPend(g_mutex, 0u, &err);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(kt_spawn(task_wait_mutex, NULL, 5u), OS_ERR_NONE); /* outranks main: raises it */
    KT_EQ(OSTCBCur->OSTCBPrio, PIP);
    KT_EQ(OSPrioCur, PIP);
    KT_CHECK(OSMutexDel(g_mutex, OS_DEL_NO_PEND, &err) == g_mutex);
    KT_EQ(err, OS_ERR_TASK_WAITING);
    g_err = 0xEEu;
    KT_CHECK(OSMutexDel(g_mutex, OS_DEL_ALWAYS, &err) == NULL);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(g_err, OS_ERR_PEND_ABORT); /* the waiter ran at once: it outranks main again */
    KT_EQ(OSTCBCur->OSTCBPrio, KT_MAIN_PRIO);
    KT_EQ(OSPrioCur, KT_MAIN_PRIO);
    KT_CHECK(OSTCBPrioTbl[PIP] == NULL);
    KT_EQ(kt_spawn(task_dummy, NULL, PIP), OS_ERR_NONE); /* the priority is usable again */

    kt_case("mutex without ceiling");
    g_mutex = OSMutexCreate(OS_PRIO_MUTEX_CEIL_DIS, &err);
    KT_CHECK(g_mutex != NULL);
    OSMutexPend(g_mutex, 0u, &err);
    KT_EQ(err, OS_ERR_NONE);
    g_err = 0xEEu;
    KT_EQ(kt_spawn(task_wait_mutex, NULL, 5u), OS_ERR_NONE);
    KT_EQ(OSTCBCur->OSTCBPrio, KT_MAIN_PRIO); /* no raise */
    KT_EQ(OSMutexPost(g_mutex), OS_ERR_NONE);
    KT_EQ(g_err, OS_ERR_NONE);                                   /* handed over; the waiter ran */
    KT_CHECK(OSMutexDel(g_mutex, OS_DEL_NO_PEND, &err) == NULL); /* released by the waiter */
    KT_EQ(err, OS_ERR_NONE);
}

static void main_task(void *p_arg)
{
    (void)p_arg;
    case_create_errors();
    case_priority_ceiling();
    case_no_raise_without_contention();
    case_pip_lower();
    case_timeout_accept();
    case_delete();
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
