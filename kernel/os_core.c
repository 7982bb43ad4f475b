/*
 * os_core.c - scheduler, interrupt bookkeeping, event wait lists, idle and statistics tasks.
 */
#include "os_priv.h"

/* ---------------------------------------------------------------------------------------------
 * Kernel state
 * ------------------------------------------------------------------------------------------- */
INT32U OSCtxSwCtr;
INT8U OSIntNesting;
INT8U OSLockNesting;

#if defined(OS_CPU_SCHED_LOCK_NO_CRIT) && OS_CPU_SCHED_LOCK_NO_CRIT > 0u
/*
 * Set when a switch was held back because the scheduler was locked (task level, or the
 * outermost ISR's exit): the final OSSchedUnlock() then reschedules. Written by ISRs and
 * tasks, read and cleared at task level; one byte, so every access is whole.
 */
static volatile INT8U OSSchedDeferred;
#define OS_SCHED_DEFER() (OSSchedDeferred = 1u)
#else
#define OS_SCHED_DEFER() ((void)0)
#endif
BOOLEAN OSRunning;
INT8U OSPrioCur;
INT8U OSPrioHighRdy;
OS_TCB *OSTCBCur;
OS_TCB *OSTCBHighRdy;
OS_TCB *OSTCBList;
OS_TCB *OSTCBFreeList;
OS_TCB *OSTCBPrioTbl[OS_LOWEST_PRIO + 1u];
OS_TCB OSTCBTbl[OS_MAX_TASKS + OS_N_SYS_TASKS];
INT8U OSTaskCtr;
INT8U OSRdyGrp;
INT8U OSRdyTbl[OS_RDY_TBL_SIZE];
volatile INT32U OSIdleCtr;
volatile INT32U OSTime;
OS_STK OSTaskIdleStk[OS_TASK_IDLE_STK_SIZE];
#if OS_TASK_STAT_EN > 0
INT8U OSCPUUsage;
INT32U OSIdleCtrMax;
INT32U OSIdleCtrRun;
BOOLEAN OSStatRdy;
OS_STK OSTaskStatStk[OS_TASK_STAT_STK_SIZE];
#endif

#if OS_MAX_EVENTS > 0
static OS_EVENT OSEventTbl[OS_MAX_EVENTS];
#endif
OS_EVENT *OSEventFreeList;

/* Index of the lowest set bit of a byte (0 for 0): lower bit = more important priority. */
INT8U const OSUnMapTbl[256] = {
    0u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 5u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 6u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    5u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 7u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 5u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    6u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 5u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
    4u, 0u, 1u, 0u, 2u, 0u, 1u, 0u, 3u, 0u, 1u, 0u, 2u, 0u, 1u, 0u,
};

static void OS_TaskIdle(void *p_arg);
#if OS_TASK_STAT_EN > 0
static void OS_TaskStat(void *p_arg);
#endif

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

/* Byte-wise clear: the kernel links against no C library, so no memset. */
void OS_MemClr(INT8U *pdest, INT32U size)
{
    while (size > 0u) {
        *pdest++ = 0u;
        size--;
    }
}

void OS_MemCopy(INT8U *pdest, const INT8U *psrc, INT32U size)
{
    while (size > 0u) {
        *pdest++ = *psrc++;
        size--;
    }
}

/* Select the highest ready priority. Caller holds the critical section; the idle task is
 * always ready, so OSRdyGrp is never 0 once OSInit() has run. */
void OS_SchedNew(void)
{
    OSPrioHighRdy = OS_BitmapHighest(OSRdyGrp, OSRdyTbl);
}

/* Recompute the ready-list coordinates cached in the TCB for a (new) priority. */
void OS_TCBPrioSet(OS_TCB *ptcb, INT8U prio)
{
    ptcb->OSTCBPrio = prio;
    ptcb->OSTCBY = (INT8U)(prio >> 3);
    ptcb->OSTCBX = (INT8U)(prio & 0x07u);
    ptcb->OSTCBBitY = (INT8U)(1u << ptcb->OSTCBY);
    ptcb->OSTCBBitX = (INT8U)(1u << ptcb->OSTCBX);
}

/* Task-level reschedule: run the highest ready task unless called from an ISR (OSIntExit()
 * does that) or with the scheduler locked. */
void OS_Sched(void)
{
    OS_CPU_SR cpu_sr = 0u;

    OS_ENTER_CRITICAL();
    if (OSIntNesting == 0u && OSLockNesting == 0u) {
        OS_SchedNew();
        OSTCBHighRdy = OSTCBPrioTbl[OSPrioHighRdy];
        if (OSPrioHighRdy != OSPrioCur) {
            OSTCBHighRdy->OSTCBCtxSwCtr++;
            OSCtxSwCtr++;
            OS_TASK_SW();
        }
    } else if (OSIntNesting == 0u) {
        OS_SCHED_DEFER();
    }
    OS_EXIT_CRITICAL();
}

/* ---------------------------------------------------------------------------------------------
 * Event control blocks and wait lists
 * ------------------------------------------------------------------------------------------- */

void OS_EventWaitListInit(OS_EVENT *pevent)
{
    INT8U i;

    pevent->OSEventGrp = 0u;
    for (i = 0u; i < OS_EVENT_TBL_SIZE; i++) {
        pevent->OSEventTbl[i] = 0u;
    }
}

/* Take an ECB from the free list; NULL from an ISR (objects are created at task level only,
 * as in uC/OS-II) or when all OS_MAX_EVENTS are in use. Caller holds the critical section. */
OS_EVENT *OS_EventAlloc(INT8U type)
{
    OS_EVENT *pevent;

    if (OSIntNesting > 0u) {
        return OS_NULL;
    }
    pevent = OSEventFreeList;
    if (pevent == OS_NULL) {
        return OS_NULL;
    }
    OSEventFreeList = (OS_EVENT *)pevent->OSEventPtr;
    pevent->OSEventType = type;
    pevent->OSEventPtr = OS_NULL;
    pevent->OSEventCnt = 0u;
    pevent->OSEventName = (INT8U *)"?";
    OS_EventWaitListInit(pevent);
    return pevent;
}

/* Return an ECB to the free list. Caller holds the critical section and has emptied the
 * wait list. */
void OS_EventFree(OS_EVENT *pevent)
{
    pevent->OSEventType = OS_EVENT_TYPE_UNUSED;
    pevent->OSEventCnt = 0u;
    pevent->OSEventName = (INT8U *)"?";
    pevent->OSEventPtr = OSEventFreeList;
    OSEventFreeList = pevent;
}

/* Make the current task wait on pevent: move it from the ready list to the wait list. The
 * caller has set OSTCBStat, OSTCBStatPend and OSTCBDly already. */
void OS_EventTaskWait(OS_EVENT *pevent)
{
    OS_TCB *ptcb = OSTCBCur;

    ptcb->OSTCBEventPtr = pevent;
    pevent->OSEventTbl[ptcb->OSTCBY] |= ptcb->OSTCBBitX;
    pevent->OSEventGrp |= ptcb->OSTCBBitY;
    OS_RdyRemove(ptcb);
}

/* Remove a task from a wait list (timeout, deletion, or priority change while waiting). */
void OS_EventTaskRemove(OS_TCB *ptcb, OS_EVENT *pevent)
{
    INT8U y = ptcb->OSTCBY;

    pevent->OSEventTbl[y] &= (INT8U)~ptcb->OSTCBBitX;
    if (pevent->OSEventTbl[y] == 0u) {
        pevent->OSEventGrp &= (INT8U)~ptcb->OSTCBBitY;
    }
    ptcb->OSTCBEventPtr = OS_NULL;
}

/*
 * Ready the highest-priority waiter of pevent, handing it pmsg and the pend outcome. Returns
 * its priority. The wait list must not be empty. A suspended waiter leaves the wait list but
 * stays off the ready list until OSTaskResume().
 */
INT8U OS_EventTaskRdy(OS_EVENT *pevent, void *pmsg, INT8U msk, INT8U pend_stat)
{
    INT8U prio = OS_BitmapHighest(pevent->OSEventGrp, pevent->OSEventTbl);
    OS_TCB *ptcb = OSTCBPrioTbl[prio];

    ptcb->OSTCBDly = 0u; /* cancel the timeout */
    ptcb->OSTCBMsg = pmsg;
    ptcb->OSTCBStat &= (INT8U)~msk;
    ptcb->OSTCBStatPend = pend_stat;
    if ((ptcb->OSTCBStat & OS_STAT_SUSPEND) == OS_STAT_RDY) {
        OS_RdyInsert(ptcb);
    }
    OS_EventTaskRemove(ptcb, pevent);
    return prio;
}

INT8U OS_EventPendAbort(OS_EVENT *pevent, INT8U type, INT8U stat, INT8U opt, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U nbr = 0u;
    INT8U err = OS_EventCheck(pevent, type);

    if (err != OS_ERR_NONE) {
        *perr = err;
        return 0u;
    }
    OS_ENTER_CRITICAL();
    while (pevent->OSEventGrp != 0u) {
        (void)OS_EventTaskRdy(pevent, OS_NULL, stat, OS_STAT_PEND_ABORT);
        nbr++;
        if (opt != OS_PEND_OPT_BROADCAST) {
            break;
        }
    }
    OS_EXIT_CRITICAL();
    if (nbr > 0u) {
        OS_Sched();
        *perr = OS_ERR_PEND_ABORT;
    } else {
        *perr = OS_ERR_NONE;
    }
    return nbr;
}

/*
 * After a pend resumed (OS_Sched() returned): turn the outcome into an error code and leave
 * the current TCB in the "not pending" state. A timed-out task is still on the wait list
 * (OSTimeTick() only readies it), so it takes itself off here. Critical section held.
 */
INT8U OS_PendResult(OS_EVENT *pevent)
{
    INT8U err;

    switch (OSTCBCur->OSTCBStatPend) {
    case OS_STAT_PEND_OK:
        err = OS_ERR_NONE;
        break;
    case OS_STAT_PEND_ABORT:
        err = OS_ERR_PEND_ABORT;
        break;
    case OS_STAT_PEND_TO:
    default:
        OS_EventTaskRemove(OSTCBCur, pevent);
        err = OS_ERR_TIMEOUT;
        break;
    }
    OSTCBCur->OSTCBStat = OS_STAT_RDY;
    OSTCBCur->OSTCBStatPend = OS_STAT_PEND_OK;
    OSTCBCur->OSTCBEventPtr = OS_NULL;
    return err;
}

void OSEventNameSet(OS_EVENT *pevent, INT8U *pname, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;

#if OS_ARG_CHK_EN > 0
    if (pevent == OS_NULL) {
        *perr = OS_ERR_PEVENT_NULL;
        return;
    }
    if (pname == OS_NULL) {
        *perr = OS_ERR_PNAME_NULL;
        return;
    }
#endif
    if (OSIntNesting > 0u) {
        *perr = OS_ERR_NAME_SET_ISR;
        return;
    }
    if (pevent->OSEventType == OS_EVENT_TYPE_UNUSED) {
        *perr = OS_ERR_EVENT_TYPE;
        return;
    }
    OS_ENTER_CRITICAL();
    pevent->OSEventName = pname;
    OS_EXIT_CRITICAL();
    *perr = OS_ERR_NONE;
}

INT8U OSEventNameGet(OS_EVENT *pevent, INT8U **pname, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U len = 0u;
    INT8U *p;

#if OS_ARG_CHK_EN > 0
    if (pevent == OS_NULL) {
        *perr = OS_ERR_PEVENT_NULL;
        return 0u;
    }
    if (pname == OS_NULL) {
        *perr = OS_ERR_PNAME_NULL;
        return 0u;
    }
#endif
    if (OSIntNesting > 0u) {
        *perr = OS_ERR_NAME_GET_ISR;
        return 0u;
    }
    if (pevent->OSEventType == OS_EVENT_TYPE_UNUSED) {
        *perr = OS_ERR_EVENT_TYPE;
        return 0u;
    }
    OS_ENTER_CRITICAL();
    *pname = pevent->OSEventName;
    OS_EXIT_CRITICAL();
    for (p = *pname; *p != OS_ASCII_NUL && len < 255u; p++) {
        len++;
    }
    *perr = OS_ERR_NONE;
    return len;
}

/* ---------------------------------------------------------------------------------------------
 * Initialisation and start
 * ------------------------------------------------------------------------------------------- */

static void OS_InitTCBList(void)
{
    INT16U i;

    OS_MemClr((INT8U *)OSTCBTbl, (INT32U)sizeof(OSTCBTbl));
    OS_MemClr((INT8U *)OSTCBPrioTbl, (INT32U)sizeof(OSTCBPrioTbl));
    for (i = 0u; i < (INT16U)(OS_MAX_TASKS + OS_N_SYS_TASKS - 1u); i++) {
        OSTCBTbl[i].OSTCBNext = &OSTCBTbl[i + 1u];
        OSTCBTbl[i].OSTCBTaskName = (INT8U *)"?";
    }
    OSTCBTbl[OS_MAX_TASKS + OS_N_SYS_TASKS - 1u].OSTCBNext = OS_NULL;
    OSTCBTbl[OS_MAX_TASKS + OS_N_SYS_TASKS - 1u].OSTCBTaskName = (INT8U *)"?";
    OSTCBList = OS_NULL;
    OSTCBFreeList = &OSTCBTbl[0];
}

static void OS_InitEventList(void)
{
#if OS_MAX_EVENTS > 0
    INT16U i;

    OS_MemClr((INT8U *)OSEventTbl, (INT32U)sizeof(OSEventTbl));
    OSEventFreeList = OS_NULL;
    /* Link back to front so ECB 0 is handed out first (easier to read in a debugger). */
    for (i = OS_MAX_EVENTS; i > 0u; i--) {
        OS_EventFree(&OSEventTbl[i - 1u]);
    }
#else
    OSEventFreeList = OS_NULL;
#endif
}

static void OS_InitTaskIdle(void)
{
    (void)OSTaskCreateExt(OS_TaskIdle, OS_NULL, OS_StkTop(OSTaskIdleStk, OS_TASK_IDLE_STK_SIZE),
                          OS_TASK_IDLE_PRIO, OS_TASK_IDLE_ID,
                          OS_StkBottom(OSTaskIdleStk, OS_TASK_IDLE_STK_SIZE), OS_TASK_IDLE_STK_SIZE,
                          OS_NULL, OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR);
    OSTCBPrioTbl[OS_TASK_IDLE_PRIO]->OSTCBTaskName = (INT8U *)"uC/OS-II Idle";
}

#if OS_TASK_STAT_EN > 0
static void OS_InitTaskStat(void)
{
    (void)OSTaskCreateExt(OS_TaskStat, OS_NULL, OS_StkTop(OSTaskStatStk, OS_TASK_STAT_STK_SIZE),
                          OS_TASK_STAT_PRIO, OS_TASK_STAT_ID,
                          OS_StkBottom(OSTaskStatStk, OS_TASK_STAT_STK_SIZE), OS_TASK_STAT_STK_SIZE,
                          OS_NULL, OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR);
    OSTCBPrioTbl[OS_TASK_STAT_PRIO]->OSTCBTaskName = (INT8U *)"uC/OS-II Stat";
}
#endif

void OSInit(void)
{
    OSInitHookBegin();

    OSTime = 0u;
    OSIntNesting = 0u;
    OSLockNesting = 0u;
    OSTaskCtr = 0u;
    OSRunning = OS_FALSE;
    OSCtxSwCtr = 0u;
    OSIdleCtr = 0u;
#if OS_TASK_STAT_EN > 0
    OSIdleCtrRun = 0u;
    OSIdleCtrMax = 0u;
    OSStatRdy = OS_FALSE;
    OSCPUUsage = 0u;
#endif

    OSRdyGrp = 0u;
    OS_MemClr(OSRdyTbl, (INT32U)sizeof(OSRdyTbl));
    OSPrioCur = 0u;
    OSPrioHighRdy = 0u;
    OSTCBHighRdy = OS_NULL;
    OSTCBCur = OS_NULL;

    OS_InitTCBList();
    OS_InitEventList();
#if OS_Q_EN > 0
    OS_QInit();
#endif
    OS_InitTaskIdle();
#if OS_TASK_STAT_EN > 0
    OS_InitTaskStat();
#endif

    OSInitHookEnd();
}

void OSStart(void)
{
    if (OSRunning == OS_FALSE) {
        OS_SchedNew();
        OSPrioCur = OSPrioHighRdy;
        OSTCBHighRdy = OSTCBPrioTbl[OSPrioHighRdy];
        OSTCBCur = OSTCBHighRdy;
        OSStartHighRdy(); /* does not return */
    }
}

INT16U OSVersion(void)
{
    return OS_VERSION;
}

/* ---------------------------------------------------------------------------------------------
 * Interrupts and scheduler lock
 * ------------------------------------------------------------------------------------------- */

/* Called with interrupts disabled at the start of an ISR (uC/OS-II convention), so no
 * critical section of its own. Saturates instead of wrapping at 255. */
void OSIntEnter(void)
{
    if (OSRunning == OS_TRUE) {
        if (OSIntNesting < 255u) {
            OSIntNesting++;
        }
    }
}

/*
 * Leaving the outermost ISR: if a higher-priority task was readied and the scheduler is not
 * locked, hand over to it through the port's OSIntCtxSw() instead of returning to the
 * interrupted task. Nested ISRs only unwind the count.
 */
void OSIntExit(void)
{
    OS_CPU_SR cpu_sr = 0u;

    if (OSRunning == OS_TRUE) {
        OS_ENTER_CRITICAL();
        if (OSIntNesting > 0u) {
            OSIntNesting--;
        }
        if (OSIntNesting == 0u && OSLockNesting == 0u) {
            OS_SchedNew();
            OSTCBHighRdy = OSTCBPrioTbl[OSPrioHighRdy];
            if (OSPrioHighRdy != OSPrioCur) {
                OSTCBHighRdy->OSTCBCtxSwCtr++;
                OSCtxSwCtr++;
                OSIntCtxSw();
            }
        } else if (OSIntNesting == 0u) {
            OS_SCHED_DEFER();
        }
        OS_EXIT_CRITICAL();
    }
}

#if defined(OS_CPU_SCHED_LOCK_NO_CRIT) && OS_CPU_SCHED_LOCK_NO_CRIT > 0u
/*
 * Uniprocessor ports: no critical section. Only task level writes OSLockNesting, and no
 * other task runs while it is non-zero; an ISR may read it at any instruction boundary and
 * sees the old or the new value, both consistent.
 */
void OSSchedLock(void)
{
    if (OSRunning == OS_TRUE && OSIntNesting == 0u && OSLockNesting < 255u) {
        OSLockNesting++;
        __asm__ __volatile__("" ::: "memory"); /* the locked region stays after this */
    }
}

void OSSchedUnlock(void)
{
    if (OSRunning == OS_TRUE && OSIntNesting == 0u && OSLockNesting > 0u) {
        __asm__ __volatile__("" ::: "memory"); /* the locked region stays before this */
        OSLockNesting--;
        /* An ISR after the decrement switches by itself (it sees 0); a switch held back
         * before it set OSSchedDeferred. */
        if (OSLockNesting == 0u && OSSchedDeferred != 0u) {
            OSSchedDeferred = 0u;
            OS_Sched();
        }
    }
}
#else
void OSSchedLock(void)
{
    OS_CPU_SR cpu_sr = 0u;

    if (OSRunning == OS_TRUE) {
        OS_ENTER_CRITICAL();
        /* Locking from an ISR is meaningless (ISRs never switch) and is ignored. */
        if (OSIntNesting == 0u && OSLockNesting < 255u) {
            OSLockNesting++;
        }
        OS_EXIT_CRITICAL();
    }
}

void OSSchedUnlock(void)
{
    OS_CPU_SR cpu_sr = 0u;

    if (OSRunning == OS_TRUE) {
        OS_ENTER_CRITICAL();
        if (OSIntNesting == 0u && OSLockNesting > 0u) {
            OSLockNesting--;
            if (OSLockNesting == 0u) {
                /* Tasks readied while locked may outrank us now. */
                OS_EXIT_CRITICAL();
                OS_Sched();
                return;
            }
        }
        OS_EXIT_CRITICAL();
    }
}

#endif

/* ---------------------------------------------------------------------------------------------
 * Task creation back end
 * ------------------------------------------------------------------------------------------- */

/*
 * Take a free TCB, fill it in and make the task ready. The caller has reserved
 * OSTCBPrioTbl[prio] with OS_TCB_RESERVED so that no one else can claim the priority while
 * the stack is being prepared outside the critical section.
 */
INT8U OS_TCBInit(INT8U prio, OS_STK *ptos, OS_STK *pbos, INT16U id, INT32U stk_size, void *pext,
                 INT16U opt)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;

    OS_ENTER_CRITICAL();
    ptcb = OSTCBFreeList;
    if (ptcb == OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_NO_MORE_TCB;
    }
    OSTCBFreeList = ptcb->OSTCBNext;
    OS_EXIT_CRITICAL();

    ptcb->OSTCBStkPtr = ptos;
    ptcb->OSTCBExtPtr = pext;
    ptcb->OSTCBStkBottom = pbos;
    ptcb->OSTCBStkSize = stk_size;
    ptcb->OSTCBOpt = opt;
    ptcb->OSTCBId = id;
    ptcb->OSTCBEventPtr = OS_NULL;
    ptcb->OSTCBMsg = OS_NULL;
    ptcb->OSTCBDly = 0u;
    ptcb->OSTCBStat = OS_STAT_RDY;
    ptcb->OSTCBStatPend = OS_STAT_PEND_OK;
    ptcb->OSTCBDelReq = OS_ERR_NONE;
    ptcb->OSTCBCtxSwCtr = 0u;
    ptcb->OSTCBStkUsed = 0u;
    ptcb->OSTCBTaskName = (INT8U *)"?";
    OS_TCBPrioSet(ptcb, prio);

    OSTCBInitHook(ptcb);
    OSTaskCreateHook(ptcb);

    OS_ENTER_CRITICAL();
    OSTCBPrioTbl[prio] = ptcb;
    ptcb->OSTCBNext = OSTCBList;
    ptcb->OSTCBPrev = OS_NULL;
    if (OSTCBList != OS_NULL) {
        OSTCBList->OSTCBPrev = ptcb;
    }
    OSTCBList = ptcb;
    OS_RdyInsert(ptcb);
    OSTaskCtr++;
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

/* A task function returned: the port's initial stack frame makes that return land here. */
void OS_TaskReturn(void)
{
    OSTaskReturnHook(OSTCBCur);
#if OS_TASK_DEL_EN > 0
    (void)OSTaskDel(OS_PRIO_SELF);
#else
    for (;;) {
        OSTimeDly(OS_TICKS_PER_SEC);
    }
#endif
}

/* ---------------------------------------------------------------------------------------------
 * Idle and statistics tasks
 * ------------------------------------------------------------------------------------------- */

/* Runs when nothing else can. OSIdleCtr counts loop passes; the statistics task compares the
 * passes per 1/10 s against the count measured by OSStatInit() with the CPU otherwise idle. */
static void OS_TaskIdle(void *p_arg)
{
    OS_CPU_SR cpu_sr = 0u;

    (void)p_arg;
    for (;;) {
        OS_ENTER_CRITICAL();
        OSIdleCtr++;
        OS_EXIT_CRITICAL();
        OSTaskIdleHook();
    }
}

#if OS_TASK_STAT_EN > 0
/*
 * Calibrate the idle counter: called once by the first application task while it is the only
 * task besides idle and statistics. The first delay aligns with a tick edge so that the
 * measured window is a whole 1/10 s.
 */
void OSStatInit(void)
{
    OS_CPU_SR cpu_sr = 0u;

    OSTimeDly(2u);
    OS_ENTER_CRITICAL();
    OSIdleCtr = 0u;
    OS_EXIT_CRITICAL();
    OSTimeDly(OS_TICKS_PER_SEC / 10u);
    OS_ENTER_CRITICAL();
    OSIdleCtrMax = OSIdleCtr;
    OSStatRdy = OS_TRUE;
    OS_EXIT_CRITICAL();
}

#if OS_TASK_STAT_STK_CHK_EN > 0
/* Refresh OSTCBStkUsed of every task created with OS_TASK_OPT_STK_CHK. */
static void OS_TaskStatStkChk(void)
{
    INT8U prio;
    OS_STK_DATA stk_data;

    for (prio = 0u; prio <= OS_TASK_IDLE_PRIO; prio++) {
        if (OSTaskStkChk(prio, &stk_data) == OS_ERR_NONE) {
            OSTCBPrioTbl[prio]->OSTCBStkUsed = stk_data.OSUsed;
        }
    }
}
#endif

static void OS_TaskStat(void *p_arg)
{
    OS_CPU_SR cpu_sr = 0u;
    INT32U max;
    INT32U run;

    (void)p_arg;
    while (OSStatRdy == OS_FALSE) {
        OSTimeDly(2u * OS_TICKS_PER_SEC / 10u); /* wait for OSStatInit() */
    }
    for (;;) {
        OS_ENTER_CRITICAL();
        OSIdleCtrRun = OSIdleCtr;
        OSIdleCtr = 0u;
        OS_EXIT_CRITICAL();
        /* Divide the max first so the product cannot overflow 32 bits. */
        max = OSIdleCtrMax / 100u;
        if (max > 0u) {
            run = OSIdleCtrRun / max;
            OSCPUUsage = (run >= 100u) ? 0u : (INT8U)(100u - run);
        } else {
            OSCPUUsage = 0u;
        }
        OSTaskStatHook();
#if OS_TASK_STAT_STK_CHK_EN > 0
        OS_TaskStatStkChk();
#endif
        OSTimeDly(OS_TICKS_PER_SEC / 10u);
    }
}
#endif
