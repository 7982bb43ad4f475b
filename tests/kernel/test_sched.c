/*
 * test_sched.c - scheduling: system tasks, priority order, preemption, scheduler lock,
 * task creation/deletion errors, suspend/resume, returning tasks.
 */
#include <stdio.h>

#include "kt.h"

static OS_EVENT *g_sem;
static OS_EVENT *g_done;
static OS_EVENT *g_q;
static OS_EVENT *g_mutex;
static void *g_qstore[2];

/* Logs its priority once it runs, then ends by returning. */
static void task_log_prio(void *p_arg)
{
    char tag[8];

    (void)p_arg;
    snprintf(tag, sizeof(tag), "t%u", (unsigned)OSPrioCur);
    kt_log(tag);
}

/* Waits on g_sem, logs, signals g_done. */
static void task_sem_waiter(void *p_arg)
{
    char tag[8];
    INT8U err;

    (void)p_arg;
    OSSemPend(g_sem, 0u, &err);
    snprintf(tag, sizeof(tag), "w%u", (unsigned)OSPrioCur);
    kt_log(tag);
    KT_EQ(err, OS_ERR_NONE);
    (void)OSSemPost(g_done);
}

static void case_system_tasks(void)
{
    INT8U *name;
    INT8U err;

    kt_case("system tasks");
    KT_EQ(OSVersion(), 29200);
    KT_CHECK(OSRunning == OS_TRUE);
    KT_CHECK(OSTCBPrioTbl[OS_TASK_IDLE_PRIO] != NULL);
    KT_CHECK(OSTCBPrioTbl[OS_TASK_STAT_PRIO] != NULL);
    KT_EQ(OSTCBPrioTbl[OS_TASK_IDLE_PRIO]->OSTCBId, OS_TASK_IDLE_ID);
    KT_EQ(OSTCBPrioTbl[OS_TASK_STAT_PRIO]->OSTCBId, OS_TASK_STAT_ID);
    KT_EQ(OSTaskCtr, 3); /* idle, stat, main */
    KT_EQ(OSTaskNameGet(OS_TASK_IDLE_PRIO, &name, &err), 13);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(OSPrioCur, KT_MAIN_PRIO);
    KT_CHECK(OSTCBCur == OSTCBPrioTbl[KT_MAIN_PRIO]);
    OSTaskNameSet(OS_PRIO_SELF, (INT8U *)"main", &err);
    KT_EQ(err, OS_ERR_NONE);
    KT_EQ(OSTaskNameGet(OS_PRIO_SELF, &name, &err), 4);
}

/* Lower-priority tasks created by main run only once main blocks, most important first. */
static void case_priority_order(void)
{
    kt_case("priority order");
    kt_log_clear();
    KT_EQ(kt_spawn(task_log_prio, NULL, 30), OS_ERR_NONE);
    KT_EQ(kt_spawn(task_log_prio, NULL, 12), OS_ERR_NONE);
    KT_EQ(kt_spawn(task_log_prio, NULL, 40), OS_ERR_NONE);
    KT_EQ(kt_spawn(task_log_prio, NULL, 9), OS_ERR_NONE);
    KT_LOG_EQ(""); /* nothing ran yet: main outranks all of them */
    OSTimeDly(1u);
    KT_LOG_EQ("t9 t12 t30 t40");
    /* They returned, so OS_TaskReturn deleted them and their priorities are free. */
    KT_CHECK(OSTCBPrioTbl[9] == NULL && OSTCBPrioTbl[12] == NULL);
    KT_CHECK(OSTCBPrioTbl[30] == NULL && OSTCBPrioTbl[40] == NULL);
    KT_EQ(OSHostTaskReturns, 4);
    KT_EQ(OSTaskCtr, 3);
}

/* Creating a more important task switches to it before OSTaskCreate() returns. */
static void case_preempt_on_create(void)
{
    kt_case("preemption on create");
    kt_log_clear();
    KT_EQ(kt_spawn(task_log_prio, NULL, 3), OS_ERR_NONE);
    kt_log("main");
    KT_LOG_EQ("t3 main");
}

/* Waiters are woken most important first, whatever order they started waiting in; a post that
 * readies a more important task switches to it before OSSemPost() returns. */
static void case_waiters_by_priority(void)
{
    INT8U err;
    int i;

    kt_case("highest-priority waiter first, preemption on post");
    g_sem = OSSemCreate(0u);
    g_done = OSSemCreate(0u);
    KT_CHECK(g_sem != NULL && g_done != NULL);
    /* Start them lowest first so wait order differs from priority order. */
    KT_EQ(kt_spawn(task_sem_waiter, NULL, 20), OS_ERR_NONE);
    OSTimeDly(1u);
    KT_EQ(kt_spawn(task_sem_waiter, NULL, 6), OS_ERR_NONE);
    KT_EQ(kt_spawn(task_sem_waiter, NULL, 15), OS_ERR_NONE);
    OSTimeDly(1u);
    kt_log_clear();
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE); /* 6 outranks main: runs now */
    kt_log("main");
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE); /* 15 does not: waits for main to block */
    KT_EQ(OSSemPost(g_sem), OS_ERR_NONE);
    kt_log("main");
    /* The first pend consumes w6's earlier signal; the next two block until w15, w20 ran. */
    for (i = 0; i < 3; i++) {
        OSSemPend(g_done, 10u, &err);
        KT_EQ(err, OS_ERR_NONE);
    }
    KT_LOG_EQ("w6 main main w15 w20");
    (void)OSSemDel(g_sem, OS_DEL_NO_PEND, &err);
    (void)OSSemDel(g_done, OS_DEL_NO_PEND, &err);
}

static void case_sched_lock(void)
{
    INT32U t0;
    INT8U err;

    kt_case("scheduler lock");
    g_sem = OSSemCreate(0u);
    g_q = OSQCreate(g_qstore, 2u);
    g_mutex = OSMutexCreate(OS_PRIO_MUTEX_CEIL_DIS, &err);
    KT_CHECK(g_q != NULL && g_mutex != NULL);
    kt_log_clear();
    OSSchedLock();
    KT_EQ(OSLockNesting, 1);
    OSSchedLock();
    KT_EQ(OSLockNesting, 2);
    KT_EQ(kt_spawn(task_log_prio, NULL, 4), OS_ERR_NONE);
    kt_log("locked");
    OSSemPend(g_sem, 5u, &err);
    KT_EQ(err, OS_ERR_PEND_LOCKED);
    KT_CHECK(OSQPend(g_q, 5u, &err) == NULL);
    KT_EQ(err, OS_ERR_PEND_LOCKED);
    OSMutexPend(g_mutex, 5u, &err);
    KT_EQ(err, OS_ERR_PEND_LOCKED);
    t0 = OSTimeGet();
    OSTimeDly(10u); /* silently ignored while locked */
    KT_EQ(OSTimeGet(), t0);
    KT_EQ(OSTimeDlyHMSM(0u, 0u, 1u, 0u), OS_ERR_SCHED_LOCKED);
    OSSchedUnlock();
    kt_log("still");
    OSSchedUnlock(); /* the last unlock lets task 4 run at once */
    kt_log("unlocked");
    KT_LOG_EQ("locked still t4 unlocked");
    KT_EQ(OSLockNesting, 0);
    OSSchedUnlock(); /* unbalanced unlock is harmless */
    KT_EQ(OSLockNesting, 0);
    (void)OSSemDel(g_sem, OS_DEL_NO_PEND, &err);
}

static void task_forever(void *p_arg)
{
    (void)p_arg;
    for (;;) {
        kt_log("f");
        OSTimeDly(1u);
    }
}

static void case_create_delete_errors(void)
{
    kt_case("create/delete errors");
    KT_EQ(kt_spawn(task_forever, NULL, KT_MAIN_PRIO), OS_ERR_PRIO_EXIST);
    KT_EQ(kt_spawn(task_forever, NULL, OS_TASK_IDLE_PRIO), OS_ERR_PRIO_EXIST);
    KT_EQ(OSTaskCreate(task_forever, NULL, kt_stack(21) + KT_STK_SIZE - 1u, OS_LOWEST_PRIO + 1u),
          OS_ERR_PRIO_INVALID);
    KT_EQ(OSTaskCreate(task_forever, NULL, kt_stack(21) + KT_STK_SIZE - 1u, 200u),
          OS_ERR_PRIO_INVALID);
    KT_EQ(OSTaskDel(OS_TASK_IDLE_PRIO), OS_ERR_TASK_DEL_IDLE);
    KT_EQ(OSTaskDel(OS_LOWEST_PRIO + 1u), OS_ERR_PRIO_INVALID);
    KT_EQ(OSTaskDel(33u), OS_ERR_TASK_NOT_EXIST);
    KT_EQ(OSTaskSuspend(OS_TASK_IDLE_PRIO), OS_ERR_TASK_SUSPEND_IDLE);
    KT_EQ(OSTaskSuspend(33u), OS_ERR_TASK_SUSPEND_PRIO);
    KT_EQ(OSTaskResume(33u), OS_ERR_TASK_RESUME_PRIO);
    KT_EQ(OSTaskResume(KT_MAIN_PRIO), OS_ERR_TASK_NOT_SUSPENDED);
    KT_EQ(OSTaskDelReq(33u), OS_ERR_TASK_NOT_EXIST);
}

/* Deleting another task (blocked, then never run) frees its priority for reuse at once. */
static void case_delete_other(void)
{
    kt_case("delete another task");
    kt_log_clear();
    KT_EQ(kt_spawn(task_forever, NULL, 25), OS_ERR_NONE);
    OSTimeDly(3u);
    KT_CHECK(kt_log_get()[0] == 'f');
    KT_EQ(OSTaskDel(25u), OS_ERR_NONE);
    KT_CHECK(OSTCBPrioTbl[25] == NULL);
    kt_log_clear();
    OSTimeDly(3u);
    KT_LOG_EQ(""); /* it really is gone */
    /* Same priority, same stack, right away. */
    KT_EQ(kt_spawn(task_forever, NULL, 25), OS_ERR_NONE);
    KT_EQ(OSTaskDel(25u), OS_ERR_NONE); /* deleted before it ever ran */
    KT_EQ(kt_spawn(task_log_prio, NULL, 25), OS_ERR_NONE);
    OSTimeDly(1u);
    KT_LOG_EQ("t25");
}

static void task_del_req(void *p_arg)
{
    (void)p_arg;
    while (OSTaskDelReq(OS_PRIO_SELF) != OS_ERR_TASK_DEL_REQ) {
        OSTimeDly(1u);
    }
    kt_log("cleanup");
    (void)OSTaskDel(OS_PRIO_SELF);
    kt_log("not reached");
}

static void case_delete_request(void)
{
    kt_case("cooperative delete");
    kt_log_clear();
    KT_EQ(kt_spawn(task_del_req, NULL, 26), OS_ERR_NONE);
    OSTimeDly(2u);
    KT_EQ(OSTaskDelReq(26u), OS_ERR_NONE);
    OSTimeDly(3u);
    KT_LOG_EQ("cleanup");
    KT_CHECK(OSTCBPrioTbl[26] == NULL);
}

static void case_suspend_resume(void)
{
    kt_case("suspend/resume");
    kt_log_clear();
    KT_EQ(kt_spawn(task_forever, NULL, 27), OS_ERR_NONE);
    OSTimeDly(1u);
    KT_EQ(OSTaskSuspend(27u), OS_ERR_NONE);
    kt_log_clear();
    OSTimeDly(5u);
    KT_LOG_EQ("");
    KT_EQ(OSTaskResume(27u), OS_ERR_NONE);
    OSTimeDly(2u);
    KT_CHECK(kt_log_get()[0] == 'f');
    KT_EQ(OSTaskDel(27u), OS_ERR_NONE);
}

static void main_task(void *p_arg)
{
    (void)p_arg;
    case_system_tasks();
    case_priority_order();
    case_preempt_on_create();
    case_waiters_by_priority();
    case_sched_lock();
    case_create_delete_errors();
    case_delete_other();
    case_delete_request();
    case_suspend_resume();
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
