/*
 * test_sem.c - counting semaphores: counting, accept, overflow at 65535, set, delete, pend
 * abort, query, bad arguments and the event pool limit.
 */
#include "kt.h"

static OS_EVENT *g_sem;
static volatile INT8U g_err[OS_LOWEST_PRIO + 1u];
static volatile int g_woken;

static void task_waiter(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    OSSemPend(g_sem, 0u, &err);
    g_err[OSPrioCur] = err;
    g_woken++;
}

static void case_counting(void)
{
    INT8U err;
    int i;

    kt_case("counting");
    g_sem = OSSemCreate(3u);
    KT_CHECK(g_sem != NULL);
    for (i = 0; i < 3; i++) {
        OSSemPend(g_sem, 1u, &err);
        KT_EQ(err, OS_ERR_NONE);
    }
    OSSemPend(g_sem, 1u, &err);
    KT_EQ(err, OS_ERR_TIMEOUT);
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE);
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE);
    KT_EQ(OSSemAccept(g_sem), 2); /* returns the count before taking one */
    KT_EQ(OSSemAccept(g_sem), 1);
    KT_EQ(OSSemAccept(g_sem), 0); /* nothing to take */
    KT_EQ(OSSemAccept(g_sem), 0);
    (void)OSSemDel(g_sem, OS_DEL_NO_PEND, &err);
    KT_EQ(err, OS_ERR_NONE);
}

static void case_overflow(void)
{
    OS_SEM_DATA sd;
    INT8U err;

    kt_case("overflow at 65535");
    g_sem = OSSemCreate(65534u);
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE);
    KT_EQ(OSSemPost(g_sem), OS_ERR_SEM_OVF);
    KT_EQ(OSSemQuery(g_sem, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSCnt, 65535);
    OSSemPend(g_sem, 0u, &err);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE);
    KT_EQ(OSSemAccept(g_sem), 65535);
    (void)OSSemDel(g_sem, OS_DEL_NO_PEND, &err);
}

static void case_set_query(void)
{
    OS_SEM_DATA sd;
    INT8U err;

    kt_case("set and query");
    g_sem = OSSemCreate(0u);
    OSSemSet(g_sem, 7u, &err);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(OSSemQuery(g_sem, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSCnt, 7);
    OSSemSet(g_sem, 0u, &err);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(kt_spawn(task_waiter, NULL, 20), OS_ERR_NONE);
    OSTimeDly(1u); /* let it wait */
    KT_EQ(OSSemQuery(g_sem, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSEventGrp, 1u << (20u >> 3));
    KT_EQ(sd.OSEventTbl[20u >> 3], 1u << (20u & 7u));
    OSSemSet(g_sem, 5u, &err); /* a waiter would never see the count */
    KT_EQ(err, OS_ERR_TASK_WAITING);
    KT_EQ(OSSemQuery(g_sem, NULL), OS_ERR_PDATA_NULL);
    /* NO_PEND refuses with a waiter, ALWAYS aborts it. */
    KT_CHECK(OSSemDel(g_sem, OS_DEL_NO_PEND, &err) == g_sem);
    KT_EQ(err, OS_ERR_TASK_WAITING);
    KT_CHECK(OSSemDel(g_sem, 9u, &err) == g_sem);
    KT_EQ(err, OS_ERR_INVALID_OPT);
    g_woken = 0;
    KT_CHECK(OSSemDel(g_sem, OS_DEL_ALWAYS, &err) == NULL);
    KT_EQ(err, OS_ERR_NONE);
    OSTimeDly(1u);
    KT_EQ(g_woken, 1);
    KT_EQ(g_err[20], OS_ERR_PEND_ABORT);
    /* The handle now names a free ECB: any use reports the wrong type. */
    KT_EQ(OSSemPost(g_sem), OS_ERR_EVENT_TYPE);
}

static void case_pend_abort(void)
{
    INT8U err;

    kt_case("pend abort");
    g_sem = OSSemCreate(0u);
    g_woken = 0;
    KT_EQ(OSSemPendAbort(g_sem, OS_PEND_OPT_NONE, &err), 0);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(kt_spawn(task_waiter, NULL, 20), OS_ERR_NONE);
    KT_EQ(kt_spawn(task_waiter, NULL, 21), OS_ERR_NONE);
    KT_EQ(kt_spawn(task_waiter, NULL, 22), OS_ERR_NONE);
    OSTimeDly(1u);
    KT_EQ(OSSemPendAbort(g_sem, OS_PEND_OPT_NONE, &err), 1); /* the most important only */
    KT_EQ(err, OS_ERR_PEND_ABORT);
    OSTimeDly(1u);
    KT_EQ(g_woken, 1);
    KT_EQ(g_err[20], OS_ERR_PEND_ABORT);
    KT_CHECK(OSTCBPrioTbl[21] != NULL && OSTCBPrioTbl[22] != NULL);
    KT_EQ(OSSemPendAbort(g_sem, OS_PEND_OPT_BROADCAST, &err), 2);
    OSTimeDly(1u);
    KT_EQ(g_woken, 3);
    KT_EQ(g_err[21], OS_ERR_PEND_ABORT);
    KT_EQ(g_err[22], OS_ERR_PEND_ABORT);
    (void)OSSemDel(g_sem, OS_DEL_NO_PEND, &err);
    KT_EQ(err, OS_ERR_NONE);
}

static void case_bad_args(void)
{
    void *qstore[2];
    OS_EVENT *q;
    INT8U err;

    kt_case("bad arguments");
    OSSemPend(NULL, 0u, &err);
    KT_EQ(err, OS_ERR_PEVENT_NULL);
    KT_EQ(OSSemPost(NULL), OS_ERR_PEVENT_NULL);
    KT_EQ(OSSemAccept(NULL), 0);
    OSSemSet(NULL, 1u, &err);
    KT_EQ(err, OS_ERR_PEVENT_NULL);
    KT_CHECK(OSSemDel(NULL, OS_DEL_ALWAYS, &err) == NULL);
    KT_EQ(err, OS_ERR_PEVENT_NULL);
    q = OSQCreate(qstore, 2u);
    KT_CHECK(q != NULL);
    OSSemPend(q, 0u, &err);
    KT_EQ(err, OS_ERR_EVENT_TYPE);
    KT_EQ(OSSemPost(q), OS_ERR_EVENT_TYPE);
    KT_EQ(OSSemAccept(q), 0);
    KT_CHECK(OSSemDel(q, OS_DEL_ALWAYS, &err) == q);
    KT_EQ(err, OS_ERR_EVENT_TYPE);
    (void)OSQDel(q, OS_DEL_ALWAYS, &err);
    KT_EQ(err, OS_ERR_NONE);
}

/* Exactly OS_MAX_EVENTS objects exist at once; deleting one makes room again. */
static void case_event_pool(void)
{
    static OS_EVENT *sems[OS_MAX_EVENTS];
    INT8U err;
    INT32U i;

    kt_case("event pool limit");
    for (i = 0u; i < OS_MAX_EVENTS; i++) {
        sems[i] = OSSemCreate(0u);
        KT_CHECK(sems[i] != NULL);
    }
    KT_CHECK(OSSemCreate(0u) == NULL);
    (void)OSSemDel(sems[3], OS_DEL_NO_PEND, &err);
    KT_EQ(err, OS_ERR_NONE);
    sems[3] = OSSemCreate(0u);
    KT_CHECK(sems[3] != NULL);
    KT_CHECK(OSSemCreate(0u) == NULL);
    for (i = 0u; i < OS_MAX_EVENTS; i++) {
        (void)OSSemDel(sems[i], OS_DEL_NO_PEND, &err);
        KT_EQ(err, OS_ERR_NONE);
    }
}

static void case_names(void)
{
    INT8U *name;
    INT8U err;

    kt_case("event names");
    g_sem = OSSemCreate(0u);
    KT_EQ(OSEventNameGet(g_sem, &name, &err), 1); /* "?" until named */
    OSEventNameSet(g_sem, (INT8U *)"rx-sem", &err);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(OSEventNameGet(g_sem, &name, &err), 6);
    KT_EQ(name[0], 'r');
    (void)OSSemDel(g_sem, OS_DEL_NO_PEND, &err);
}

static void main_task(void *p_arg)
{
    (void)p_arg;
    case_counting();
    case_overflow();
    case_set_query();
    case_pend_abort();
    case_bad_args();
    case_event_pool();
    case_names();
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
