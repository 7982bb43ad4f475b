/*
 * test_q.c - message queues: FIFO/LIFO order, full/empty, direct hand-over to a waiter,
 * broadcast, flush, query, timeout, delete and the OS_MAX_QS pool.
 */
#include <stdint.h>

#include "kt.h"

#define MSG(n) ((void *)(uintptr_t)(n))
#define NUM(p) ((int)(uintptr_t)(p))

static OS_EVENT *g_q;
static void *g_store[4];
static volatile int g_got[OS_LOWEST_PRIO + 1u];
static volatile INT8U g_err[OS_LOWEST_PRIO + 1u];

static void case_fifo_lifo_full_empty(void)
{
    OS_Q_DATA qd;
    INT8U err;
    int i;

    kt_case("FIFO, LIFO, full, empty");
    g_q = OSQCreate(g_store, 4u);
    KT_CHECK(g_q != NULL);
    (void)OSQAccept(g_q, &err);
    KT_EQ(err, OS_ERR_Q_EMPTY);
    KT_EQ(OSQPost(g_q, MSG(1)), OS_ERR_NONE);
    KT_EQ(OSQPost(g_q, MSG(2)), OS_ERR_NONE);
    KT_EQ(OSQPostFront(g_q, MSG(3)), OS_ERR_NONE); /* jumps the queue */
    KT_EQ(OSQPost(g_q, MSG(4)), OS_ERR_NONE);
    KT_EQ(OSQPost(g_q, MSG(5)), OS_ERR_Q_FULL);
    KT_EQ(OSQPostFront(g_q, MSG(5)), OS_ERR_Q_FULL);
    KT_EQ(OSQQuery(g_q, &qd), OS_ERR_NONE);
    KT_EQ(qd.OSNMsgs, 4);
    KT_EQ(qd.OSQSize, 4);
    KT_EQ(NUM(qd.OSMsg), 3);
    KT_EQ(NUM(OSQPend(g_q, 0u, &err)), 3);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(NUM(OSQAccept(g_q, &err)), 1);
    KT_EQ(NUM(OSQPend(g_q, 0u, &err)), 2);
    KT_EQ(NUM(OSQPend(g_q, 0u, &err)), 4);
    (void)OSQAccept(g_q, &err);
    KT_EQ(err, OS_ERR_Q_EMPTY);
    /* Wrap around the ring many times in both directions. */
    for (i = 0; i < 20; i++) {
        KT_EQ(OSQPost(g_q, MSG(100 + i)), OS_ERR_NONE);
        KT_EQ(OSQPostFront(g_q, MSG(200 + i)), OS_ERR_NONE);
        KT_EQ(NUM(OSQAccept(g_q, &err)), 200 + i);
        KT_EQ(NUM(OSQAccept(g_q, &err)), 100 + i);
    }
    KT_EQ(OSQQuery(g_q, &qd), OS_ERR_NONE);
    KT_EQ(qd.OSNMsgs, 0);
    KT_CHECK(qd.OSMsg == NULL);
}

static void task_q_waiter(void *p_arg)
{
    INT8U err;
    void *m;

    (void)p_arg;
    m = OSQPend(g_q, 0u, &err);
    g_err[OSPrioCur] = err;
    g_got[OSPrioCur] = NUM(m);
}

static void case_direct_and_broadcast(void)
{
    INT8U err;
    int p;

    kt_case("direct hand-over and broadcast");
    KT_EQ(kt_spawn(task_q_waiter, NULL, 5u), OS_ERR_NONE); /* outranks main: waits now */
    KT_EQ(OSQPost(g_q, MSG(42)), OS_ERR_NONE);             /* goes straight to it */
    KT_EQ(g_got[5], 42);
    KT_EQ(g_err[5], OS_ERR_NONE);
    KT_EQ(OSQAccept(g_q, &err), NULL); /* nothing was queued */
    KT_EQ(err, OS_ERR_Q_EMPTY);

    for (p = 20; p < 23; p++) {
        KT_EQ(kt_spawn(task_q_waiter, NULL, (INT8U)p), OS_ERR_NONE);
    }
    OSTimeDly(1u);
    KT_EQ(OSQPostOpt(g_q, MSG(7), OS_POST_OPT_BROADCAST), OS_ERR_NONE);
    OSTimeDly(1u);
    for (p = 20; p < 23; p++) {
        KT_EQ(g_got[p], 7);
    }

    /* Without broadcast only the most important waiter gets it. */
    for (p = 20; p < 23; p++) {
        g_got[p] = 0;
        KT_EQ(kt_spawn(task_q_waiter, NULL, (INT8U)p), OS_ERR_NONE);
    }
    OSTimeDly(1u);
    KT_EQ(OSQPostOpt(g_q, MSG(8), OS_POST_OPT_NO_SCHED), OS_ERR_NONE);
    KT_EQ(OSQPostOpt(g_q, MSG(9), OS_POST_OPT_NONE), OS_ERR_NONE);
    OSTimeDly(1u);
    KT_EQ(g_got[20], 8);
    KT_EQ(g_got[21], 9);
    KT_EQ(g_got[22], 0);
    KT_EQ(OSQPendAbort(g_q, OS_PEND_OPT_NONE, &err), 1);
    KT_EQ(err, OS_ERR_PEND_ABORT);
    OSTimeDly(1u);
    KT_EQ(g_err[22], OS_ERR_PEND_ABORT);
}

static void case_flush_timeout_delete(void)
{
    INT32U t0;
    INT8U err;

    kt_case("flush, timeout, delete");
    KT_EQ(OSQPost(g_q, MSG(1)), OS_ERR_NONE);
    KT_EQ(OSQPost(g_q, MSG(2)), OS_ERR_NONE);
    KT_EQ(OSQFlush(g_q), OS_ERR_NONE);
    t0 = OSTimeGet();
    KT_CHECK(OSQPend(g_q, 4u, &err) == NULL);
    KT_EQ(err, OS_ERR_TIMEOUT);
    KT_EQ(OSTimeGet() - t0, 4u);

    KT_EQ(kt_spawn(task_q_waiter, NULL, 20u), OS_ERR_NONE);
    OSTimeDly(1u);
    KT_CHECK(OSQDel(g_q, OS_DEL_NO_PEND, &err) == g_q);
    KT_EQ(err, OS_ERR_TASK_WAITING);
    KT_CHECK(OSQDel(g_q, OS_DEL_ALWAYS, &err) == NULL);
    KT_EQ(err, OS_ERR_NONE);
    OSTimeDly(1u);
    KT_EQ(g_err[20], OS_ERR_PEND_ABORT);
    KT_EQ(OSQPost(g_q, MSG(1)), OS_ERR_EVENT_TYPE);
    KT_EQ(OSQPost(NULL, MSG(1)), OS_ERR_PEVENT_NULL);
    KT_CHECK(OSQCreate(NULL, 4u) == NULL);
    KT_CHECK(OSQCreate(g_store, 0u) == NULL);
}

/* Exactly OS_MAX_QS queues; a failed create returns its ECB to the pool. */
static void case_q_pool(void)
{
    static OS_EVENT *qs[OS_MAX_QS];
    static void *store[OS_MAX_QS][2];
    OS_EVENT *sem;
    INT8U err;
    INT32U i;

    kt_case("queue pool limit");
    for (i = 0u; i < OS_MAX_QS; i++) {
        qs[i] = OSQCreate(store[i], 2u);
        KT_CHECK(qs[i] != NULL);
    }
    KT_CHECK(OSQCreate(g_store, 4u) == NULL);
    /* No ECB leaked by the failure: all remaining ECBs can still become semaphores. */
    for (i = 0u; i < OS_MAX_EVENTS - OS_MAX_QS; i++) {
        sem = OSSemCreate(0u);
        KT_CHECK(sem != NULL);
    }
    KT_CHECK(OSSemCreate(0u) == NULL);
    (void)OSQDel(qs[0], OS_DEL_NO_PEND, &err);
    KT_EQ(err, OS_ERR_NONE);
    qs[0] = OSQCreate(store[0], 2u);
    KT_CHECK(qs[0] != NULL);
}

static void main_task(void *p_arg)
{
    (void)p_arg;
    case_fifo_lifo_full_empty();
    case_direct_and_broadcast();
    case_flush_timeout_delete();
    case_q_pool();
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
