/*
 * test_isr.c - interrupt-context rules: what an ISR may not do, and the switch at interrupt
 * exit when an ISR readies a more important task (via OSIntCtxSw, only at nesting 0 and with
 * the scheduler unlocked).
 */
#include <stdio.h>

#include "kt.h"

static OS_EVENT *g_sem;
static OS_EVENT *g_mutex;
static OS_EVENT *g_q;
static void *g_qstore[4];

/* Results collected inside the ISR, checked at task level. */
static INT8U r_sem_pend, r_q_pend, r_mutex_pend, r_mutex_post, r_mutex_accept;
static INT8U r_create, r_mutex_create, r_sem_del, r_q_del, r_task_del, r_hmsm;
static OS_EVENT *r_sem_create;
static OS_EVENT *r_q_create;
static INT32U r_time_before, r_time_after;
static INT8U r_nesting;

static void task_dummy(void *p_arg)
{
    (void)p_arg;
}

static void isr_forbidden(void *arg)
{
    INT8U err;

    (void)arg;
    r_nesting = OSIntNesting;
    OSSemPend(g_sem, 0u, &err);
    r_sem_pend = err;
    (void)OSQPend(g_q, 0u, &err);
    r_q_pend = err;
    OSMutexPend(g_mutex, 0u, &err);
    r_mutex_pend = err;
    r_mutex_post = OSMutexPost(g_mutex);
    (void)OSMutexAccept(g_mutex, &err);
    r_mutex_accept = err;
    r_create = kt_spawn(task_dummy, NULL, 30);
    r_sem_create = OSSemCreate(1u);
    r_q_create = OSQCreate(g_qstore, 4u);
    (void)OSMutexCreate(3u, &err);
    r_mutex_create = err;
    (void)OSSemDel(g_sem, OS_DEL_ALWAYS, &err);
    r_sem_del = err;
    (void)OSQDel(g_q, OS_DEL_ALWAYS, &err);
    r_q_del = err;
    r_task_del = OSTaskDel(OS_PRIO_SELF);
    r_hmsm = OSTimeDlyHMSM(0u, 0u, 1u, 0u);
    r_time_before = OSTimeGet();
    OSTimeDly(5u); /* must be a silent no-op */
    r_time_after = OSTimeGet();
}

static void case_forbidden_in_isr(void)
{
    INT8U err;

    kt_case("services refused in an ISR");
    g_sem = OSSemCreate(0u);
    g_q = OSQCreate(g_qstore, 4u);
    g_mutex = OSMutexCreate(4u, &err);
    KT_EQ(err, OS_ERR_NONE);
    OSHostIsr(isr_forbidden, NULL);
    KT_EQ(r_nesting, 1);
    KT_EQ(OSIntNesting, 0);
    KT_EQ(r_sem_pend, OS_ERR_PEND_ISR);
    KT_EQ(r_q_pend, OS_ERR_PEND_ISR);
    KT_EQ(r_mutex_pend, OS_ERR_PEND_ISR);
    KT_EQ(r_mutex_post, OS_ERR_POST_ISR);
    KT_EQ(r_mutex_accept, OS_ERR_PEND_ISR);
    KT_EQ(r_create, OS_ERR_TASK_CREATE_ISR);
    KT_CHECK(OSTCBPrioTbl[30] == NULL);
    KT_CHECK(r_sem_create == NULL);
    KT_CHECK(r_q_create == NULL);
    KT_EQ(r_mutex_create, OS_ERR_CREATE_ISR);
    KT_CHECK(OSTCBPrioTbl[3] == NULL); /* the refused mutex reserved nothing */
    KT_EQ(r_sem_del, OS_ERR_DEL_ISR);
    KT_EQ(r_q_del, OS_ERR_DEL_ISR);
    KT_EQ(r_task_del, OS_ERR_TASK_DEL_ISR);
    KT_EQ(r_hmsm, OS_ERR_TIME_DLY_ISR);
    KT_EQ(r_time_after, r_time_before);
    /* The interrupted task is still ready and running. */
    KT_CHECK(OSTCBCur == OSTCBPrioTbl[KT_MAIN_PRIO]);
    KT_EQ(OSTCBCur->OSTCBDly, 0);
    KT_CHECK((OSRdyTbl[KT_MAIN_PRIO >> 3] & (1u << (KT_MAIN_PRIO & 7u))) != 0u);
}

static void task_high_waiter(void *p_arg)
{
    INT8U err;

    (void)p_arg;
    for (;;) {
        OSSemPend(g_sem, 0u, &err);
        kt_log(err == OS_ERR_NONE ? "high" : "high-err");
    }
}

static void isr_post(void *arg)
{
    (void)arg;
    (void)OSSemPost(g_sem);
    kt_log("isr-end"); /* the woken task must not run inside the ISR */
}

static void isr_nested_inner(void *arg)
{
    (void)arg;
    (void)OSSemPost(g_sem);
    kt_log("inner-end");
}

/* Outer ISR: an inner interrupt posts; the switch must wait for the outer ISR to finish. */
static void isr_nested_outer(void *arg)
{
    (void)arg;
    OSIntEnter(); /* nested interrupt, as an ISR with interrupts re-enabled would see */
    isr_nested_inner(NULL);
    OSIntExit();
    kt_log("outer-end");
}

static void case_switch_at_int_exit(void)
{
    INT32U ictx;

    kt_case("post from ISR switches at interrupt exit");
    g_sem = OSSemCreate(0u);
    KT_EQ(kt_spawn(task_high_waiter, NULL, 5), OS_ERR_NONE); /* 4 is the mutex PIP */
    kt_log_clear();
    ictx = OSHostIntCtxSwCtr;
    OSHostIsr(isr_post, NULL);
    kt_log("main");
    KT_LOG_EQ("isr-end high main");
    KT_EQ(OSHostIntCtxSwCtr - ictx, 1);

    kt_case("nested ISRs switch only at nesting 0");
    ictx = OSHostIntCtxSwCtr;
    OSHostIsr(isr_nested_outer, NULL);
    kt_log("main");
    KT_LOG_EQ("inner-end outer-end high main");
    KT_EQ(OSHostIntCtxSwCtr - ictx, 1);

    kt_case("no switch at interrupt exit with the scheduler locked");
    ictx = OSHostIntCtxSwCtr;
    OSSchedLock();
    OSHostIsr(isr_post, NULL);
    kt_log("locked");
    OSSchedUnlock();
    kt_log("main");
    KT_LOG_EQ("isr-end locked high main");
    KT_EQ(OSHostIntCtxSwCtr - ictx, 0);

    kt_case("ISR readying a less important task does not switch");
    KT_EQ(OSTaskDel(4u), OS_ERR_TASK_DEL); /* a mutex ceiling, not a task */
    KT_EQ(OSTaskDel(5u), OS_ERR_NONE);
    KT_EQ(kt_spawn(task_high_waiter, NULL, 20), OS_ERR_NONE);
    OSTimeDly(1u); /* let it block */
    ictx = OSHostIntCtxSwCtr;
    OSHostIsr(isr_post, NULL);
    KT_EQ(OSHostIntCtxSwCtr - ictx, 0);
    kt_log("main");
    OSTimeDly(1u);
    KT_LOG_EQ("isr-end main high");
    KT_EQ(OSTaskDel(20u), OS_ERR_NONE);
}

/* OSIntEnter/OSIntExit saturate at 255 and never underflow. */
static void case_nesting_bounds(void)
{
    OS_CPU_SR cpu_sr = 0u;
    int i;

    kt_case("nesting counter bounds");
    OS_ENTER_CRITICAL();
    for (i = 0; i < 300; i++) {
        OSIntEnter();
    }
    KT_EQ(OSIntNesting, 255);
    for (i = 0; i < 255; i++) {
        OSIntNesting--;
    }
    OS_EXIT_CRITICAL();
    KT_EQ(OSIntNesting, 0);
    OSIntExit(); /* unbalanced exit: stays 0 */
    KT_EQ(OSIntNesting, 0);
}

static void main_task(void *p_arg)
{
    (void)p_arg;
    case_forbidden_in_isr();
    case_switch_at_int_exit();
    case_nesting_bounds();
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
