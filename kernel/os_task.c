/*
 * os_task.c - task creation, deletion, suspension, names and stack checking.
 */
#include "os_priv.h"

/*
 * Resolve a priority argument to a TCB. OS_PRIO_SELF means the caller. Returns OS_ERR_NONE
 * with *pptcb set, or the error for "no such task": not_exist_err for an empty slot, and
 * OS_ERR_TASK_NOT_EXIST for a slot that only reserves a mutex ceiling priority.
 * Critical section held by the caller.
 */
static INT8U OS_TaskLookup(INT8U prio, INT8U not_exist_err, OS_TCB **pptcb)
{
    OS_TCB *ptcb;

    if (prio == OS_PRIO_SELF) {
        *pptcb = OSTCBCur;
        return OS_ERR_NONE;
    }
    ptcb = OSTCBPrioTbl[prio];
    if (ptcb == OS_NULL) {
        return not_exist_err;
    }
    if (ptcb == OS_TCB_RESERVED) {
        return OS_ERR_TASK_NOT_EXIST;
    }
    *pptcb = ptcb;
    return OS_ERR_NONE;
}

/* Common front end of OSTaskCreate() and OSTaskCreateExt(). */
static INT8U OS_TaskCreate(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT8U prio,
                           INT16U id, OS_STK *pbos, INT32U stk_size, void *pext, INT16U opt)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_STK *psp;
    INT8U err;

#if OS_ARG_CHK_EN > 0
    if (prio > OS_LOWEST_PRIO) {
        return OS_ERR_PRIO_INVALID;
    }
#endif
    OS_ENTER_CRITICAL();
    if (OSIntNesting > 0u) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_CREATE_ISR;
    }
    if (OSTCBPrioTbl[prio] != OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_ERR_PRIO_EXIST;
    }
    /* Claim the priority now; the stack is prepared with interrupts enabled. */
    OSTCBPrioTbl[prio] = OS_TCB_RESERVED;
    OS_EXIT_CRITICAL();

    /* OS_TASK_OPT_STK_CLR only takes effect together with OS_TASK_OPT_STK_CHK, as in
     * uC/OS-II: clearing is pointless unless someone will scan the stack. */
    if (pbos != OS_NULL && stk_size > 0u && (opt & OS_TASK_OPT_STK_CHK) != 0u &&
        (opt & OS_TASK_OPT_STK_CLR) != 0u) {
        OS_MemClr((INT8U *)OS_StkLowest(pbos, stk_size), stk_size * (INT32U)sizeof(OS_STK));
    }
    psp = OSTaskStkInit(task, p_arg, ptos, opt);
    err = OS_TCBInit(prio, psp, pbos, id, stk_size, pext, opt);
    if (err != OS_ERR_NONE) {
        OS_ENTER_CRITICAL();
        OSTCBPrioTbl[prio] = OS_NULL;
        OS_EXIT_CRITICAL();
        return err;
    }
    if (OSRunning == OS_TRUE) {
        OS_Sched(); /* the new task may outrank its creator */
    }
    return OS_ERR_NONE;
}

INT8U OSTaskCreate(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT8U prio)
{
    return OS_TaskCreate(task, p_arg, ptos, prio, 0u, OS_NULL, 0u, OS_NULL, OS_TASK_OPT_NONE);
}

INT8U OSTaskCreateExt(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT8U prio, INT16U id,
                      OS_STK *pbos, INT32U stk_size, void *pext, INT16U opt)
{
    return OS_TaskCreate(task, p_arg, ptos, prio, id, pbos, stk_size, pext, opt);
}

/*
 * Stack usage by the high-water method: count the entries at the far end of the stack that
 * are still zero since OS_TASK_OPT_STK_CLR cleared them. A task that writes zeros at its
 * deepest point is under-reported, as with uC/OS-II.
 */
INT8U OSTaskStkChk(INT8U prio, OS_STK_DATA *p_stk_data)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;
    OS_STK *pchk;
    INT32U nfree = 0u;
    INT32U size;
    INT8U err;

#if OS_ARG_CHK_EN > 0
    if (prio > OS_LOWEST_PRIO && prio != OS_PRIO_SELF) {
        return OS_ERR_PRIO_INVALID;
    }
    if (p_stk_data == OS_NULL) {
        return OS_ERR_PDATA_NULL;
    }
#endif
    p_stk_data->OSFree = 0u;
    p_stk_data->OSUsed = 0u;
    OS_ENTER_CRITICAL();
    err = OS_TaskLookup(prio, OS_ERR_TASK_NOT_EXIST, &ptcb);
    if (err != OS_ERR_NONE) {
        OS_EXIT_CRITICAL();
        return err;
    }
    if ((ptcb->OSTCBOpt & OS_TASK_OPT_STK_CHK) == 0u || ptcb->OSTCBStkBottom == OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_OPT;
    }
    size = ptcb->OSTCBStkSize;
    pchk = ptcb->OSTCBStkBottom;
    OS_EXIT_CRITICAL();

    /* Scanned outside the critical section: the stack memory outlives a racing deletion of
     * the task, and the result is an estimate anyway. */
    /* The far end is OSTCBStkBottom itself; the scan moves against the growth direction. */
    while (nfree < size && *pchk == (OS_STK)0) {
#if OS_STK_GROWTH == 1
        pchk++;
#else
        pchk--;
#endif
        nfree++;
    }
    p_stk_data->OSFree = nfree * (INT32U)sizeof(OS_STK);
    p_stk_data->OSUsed = (size - nfree) * (INT32U)sizeof(OS_STK);
    return OS_ERR_NONE;
}

INT8U OSTaskQuery(INT8U prio, OS_TCB *p_task_data)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;
    INT8U err;

#if OS_ARG_CHK_EN > 0
    if (prio > OS_LOWEST_PRIO && prio != OS_PRIO_SELF) {
        return OS_ERR_PRIO_INVALID;
    }
    if (p_task_data == OS_NULL) {
        return OS_ERR_PDATA_NULL;
    }
#endif
    OS_ENTER_CRITICAL();
    err = OS_TaskLookup(prio, OS_ERR_PRIO, &ptcb);
    if (err == OS_ERR_NONE) {
        OS_MemCopy((INT8U *)p_task_data, (const INT8U *)ptcb, (INT32U)sizeof(OS_TCB));
    }
    OS_EXIT_CRITICAL();
    return err;
}

void OSTaskNameSet(INT8U prio, INT8U *pname, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;
    INT8U err;

#if OS_ARG_CHK_EN > 0
    if (prio > OS_LOWEST_PRIO && prio != OS_PRIO_SELF) {
        *perr = OS_ERR_PRIO_INVALID;
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
    OS_ENTER_CRITICAL();
    err = OS_TaskLookup(prio, OS_ERR_TASK_NOT_EXIST, &ptcb);
    if (err == OS_ERR_NONE) {
        ptcb->OSTCBTaskName = pname;
    }
    OS_EXIT_CRITICAL();
    *perr = err;
}

INT8U OSTaskNameGet(INT8U prio, INT8U **pname, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;
    INT8U err;
    INT8U len = 0u;
    INT8U *p;

#if OS_ARG_CHK_EN > 0
    if (prio > OS_LOWEST_PRIO && prio != OS_PRIO_SELF) {
        *perr = OS_ERR_PRIO_INVALID;
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
    OS_ENTER_CRITICAL();
    err = OS_TaskLookup(prio, OS_ERR_TASK_NOT_EXIST, &ptcb);
    if (err == OS_ERR_NONE) {
        *pname = ptcb->OSTCBTaskName;
    }
    OS_EXIT_CRITICAL();
    *perr = err;
    if (err != OS_ERR_NONE) {
        return 0u;
    }
    for (p = *pname; *p != OS_ASCII_NUL && len < 255u; p++) {
        len++;
    }
    return len;
}

#if OS_TASK_DEL_EN > 0
/*
 * Delete a task: it leaves the ready list, any wait list and the delay list, its TCB returns to
 * the free list and its priority becomes free. Resources it holds (mutexes, memory) are NOT
 * released; uC/OS-II recommends OSTaskDelReq() so that the task cleans up and deletes itself.
 */
INT8U OSTaskDel(INT8U prio)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;
    INT8U i;

    if (OSIntNesting > 0u) {
        return OS_ERR_TASK_DEL_ISR;
    }
    if (prio == OS_TASK_IDLE_PRIO) {
        return OS_ERR_TASK_DEL_IDLE;
    }
#if OS_ARG_CHK_EN > 0
    if (prio >= OS_LOWEST_PRIO && prio != OS_PRIO_SELF) {
        return OS_ERR_PRIO_INVALID;
    }
#endif
    OS_ENTER_CRITICAL();
    if (prio == OS_PRIO_SELF) {
        prio = OSTCBCur->OSTCBPrio;
    }
    ptcb = OSTCBPrioTbl[prio];
    if (ptcb == OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_NOT_EXIST;
    }
    if (ptcb == OS_TCB_RESERVED) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_DEL; /* the priority is a mutex ceiling, not a task */
    }
    /* A task running at a mutex ceiling occupies two slots (its own and the PIP); deleting it
     * now would leave one of them pointing at a freed TCB. It must release the mutex first. */
    for (i = 0u; i <= OS_LOWEST_PRIO; i++) {
        if (i != prio && OSTCBPrioTbl[i] == ptcb) {
            OS_EXIT_CRITICAL();
            return OS_ERR_TASK_DEL;
        }
    }

    OS_RdyRemove(ptcb);
    if (ptcb->OSTCBEventPtr != OS_NULL) {
        OS_EventTaskRemove(ptcb, ptcb->OSTCBEventPtr);
    }
    ptcb->OSTCBDly = 0u;
    ptcb->OSTCBStat = OS_STAT_RDY;
    ptcb->OSTCBStatPend = OS_STAT_PEND_OK;

    OSTaskDelHook(ptcb);
    OSTaskCtr--;
    OSTCBPrioTbl[prio] = OS_NULL;
    if (ptcb->OSTCBPrev == OS_NULL) {
        OSTCBList = ptcb->OSTCBNext;
    } else {
        ptcb->OSTCBPrev->OSTCBNext = ptcb->OSTCBNext;
    }
    if (ptcb->OSTCBNext != OS_NULL) {
        ptcb->OSTCBNext->OSTCBPrev = ptcb->OSTCBPrev;
    }
    ptcb->OSTCBNext = OSTCBFreeList;
    ptcb->OSTCBPrev = OS_NULL;
    ptcb->OSTCBTaskName = (INT8U *)"?";
    OSTCBFreeList = ptcb;
    OS_EXIT_CRITICAL();

    if (OSRunning == OS_TRUE) {
        OS_Sched(); /* never returns if the caller deleted itself */
    }
    return OS_ERR_NONE;
}

/*
 * Cooperative deletion: another task asks (prio = the victim), the victim polls with
 * OS_PRIO_SELF and gets OS_ERR_TASK_DEL_REQ once asked, releases what it holds, and calls
 * OSTaskDel(OS_PRIO_SELF).
 */
INT8U OSTaskDelReq(INT8U prio)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;
    INT8U stat;

    if (prio == OS_TASK_IDLE_PRIO) {
        return OS_ERR_TASK_DEL_IDLE;
    }
#if OS_ARG_CHK_EN > 0
    if (prio >= OS_LOWEST_PRIO && prio != OS_PRIO_SELF) {
        return OS_ERR_PRIO_INVALID;
    }
#endif
    OS_ENTER_CRITICAL();
    if (prio == OS_PRIO_SELF) {
        stat = OSTCBCur->OSTCBDelReq;
        OS_EXIT_CRITICAL();
        return stat;
    }
    ptcb = OSTCBPrioTbl[prio];
    if (ptcb == OS_NULL || ptcb == OS_TCB_RESERVED) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_NOT_EXIST;
    }
    ptcb->OSTCBDelReq = OS_ERR_TASK_DEL_REQ;
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}
#endif

#if OS_TASK_SUSPEND_EN > 0
INT8U OSTaskSuspend(INT8U prio)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;
    BOOLEAN self;

    if (prio == OS_TASK_IDLE_PRIO) {
        return OS_ERR_TASK_SUSPEND_IDLE;
    }
#if OS_ARG_CHK_EN > 0
    if (prio >= OS_LOWEST_PRIO && prio != OS_PRIO_SELF) {
        return OS_ERR_PRIO_INVALID;
    }
#endif
    OS_ENTER_CRITICAL();
    if (prio == OS_PRIO_SELF) {
        prio = OSTCBCur->OSTCBPrio;
    }
    ptcb = OSTCBPrioTbl[prio];
    if (ptcb == OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_SUSPEND_PRIO;
    }
    if (ptcb == OS_TCB_RESERVED) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_NOT_EXIST;
    }
    self = (BOOLEAN)(ptcb == OSTCBCur);
    OS_RdyRemove(ptcb);
    ptcb->OSTCBStat |= OS_STAT_SUSPEND;
    OS_EXIT_CRITICAL();
    if (self == OS_TRUE) {
        OS_Sched();
    }
    return OS_ERR_NONE;
}

INT8U OSTaskResume(INT8U prio)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;

#if OS_ARG_CHK_EN > 0
    if (prio >= OS_LOWEST_PRIO) {
        return OS_ERR_PRIO_INVALID;
    }
#endif
    OS_ENTER_CRITICAL();
    ptcb = OSTCBPrioTbl[prio];
    if (ptcb == OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_RESUME_PRIO;
    }
    if (ptcb == OS_TCB_RESERVED) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_NOT_EXIST;
    }
    if ((ptcb->OSTCBStat & OS_STAT_SUSPEND) == 0u) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_NOT_SUSPENDED;
    }
    ptcb->OSTCBStat &= (INT8U)~OS_STAT_SUSPEND;
    /* Still pending or delayed: it becomes ready when that ends, not now. */
    if ((ptcb->OSTCBStat & OS_STAT_PEND_ANY) == 0u && ptcb->OSTCBDly == 0u) {
        OS_RdyInsert(ptcb);
        OS_EXIT_CRITICAL();
        if (OSRunning == OS_TRUE) {
            OS_Sched();
        }
        return OS_ERR_NONE;
    }
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}
#endif
