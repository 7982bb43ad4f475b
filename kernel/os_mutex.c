/*
 * os_mutex.c - mutual exclusion semaphores with a priority ceiling, as in uC/OS-II 2.9x.
 *
 * Each mutex reserves one otherwise unused priority, its PIP (priority inheritance priority),
 * which must be higher (numerically lower) than every task that uses the mutex. When a more
 * important task blocks on a mutex, the owner runs at the PIP until it releases the mutex, so
 * a medium-priority task cannot starve it (bounded priority inversion). OSEventCnt keeps the
 * PIP in its upper byte and the owner's original priority (or OS_MUTEX_AVAILABLE) in the lower
 * one; OSEventPtr points to the owner's TCB.
 */
#include "os_priv.h"

#if OS_MUTEX_EN > 0

/*
 * Create a mutex whose ceiling is 'prio', which must not belong to any task or other mutex;
 * it is reserved here. OS_PRIO_MUTEX_CEIL_DIS creates a mutex without a ceiling.
 */
OS_EVENT *OSMutexCreate(INT8U prio, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_EVENT *pevent;

#if OS_ARG_CHK_EN > 0
    if (prio != OS_PRIO_MUTEX_CEIL_DIS && prio >= OS_LOWEST_PRIO) {
        *perr = OS_ERR_PRIO_INVALID;
        return OS_NULL;
    }
#endif
    if (OSIntNesting > 0u) {
        *perr = OS_ERR_CREATE_ISR;
        return OS_NULL;
    }
    OS_ENTER_CRITICAL();
    if (prio != OS_PRIO_MUTEX_CEIL_DIS && OSTCBPrioTbl[prio] != OS_NULL) {
        OS_EXIT_CRITICAL();
        *perr = OS_ERR_PRIO_EXIST;
        return OS_NULL;
    }
    pevent = OS_EventAlloc(OS_EVENT_TYPE_MUTEX);
    if (pevent == OS_NULL) {
        OS_EXIT_CRITICAL();
        *perr = OS_ERR_PEVENT_NULL;
        return OS_NULL;
    }
    if (prio != OS_PRIO_MUTEX_CEIL_DIS) {
        OSTCBPrioTbl[prio] = OS_TCB_RESERVED;
    }
    pevent->OSEventCnt = (INT16U)(((INT16U)prio << 8) | OS_MUTEX_AVAILABLE);
    pevent->OSEventPtr = OS_NULL;
    OS_EXIT_CRITICAL();
    *perr = OS_ERR_NONE;
    return pevent;
}

/*
 * Move a task to another priority wherever it currently sits: the ready list, or the wait list
 * of the event it pends on (a suspended or delayed task is on neither). Critical section held.
 */
static void OS_MutexTaskPrioChange(OS_TCB *ptcb, INT8U prio)
{
    OS_EVENT *pevent = ptcb->OSTCBEventPtr;
    BOOLEAN rdy = OS_IsRdy(ptcb);

    if (rdy == OS_TRUE) {
        OS_RdyRemove(ptcb);
    } else if (pevent != OS_NULL) {
        OS_EventTaskRemove(ptcb, pevent);
    }
    OS_TCBPrioSet(ptcb, prio);
    OSTCBPrioTbl[prio] = ptcb;
    if (ptcb == OSTCBCur) {
        OSPrioCur = prio; /* else OS_Sched() would see a "switch" to the running task */
    }
    if (rdy == OS_TRUE) {
        OS_RdyInsert(ptcb);
    } else if (pevent != OS_NULL) {
        ptcb->OSTCBEventPtr = pevent;
        pevent->OSEventTbl[ptcb->OSTCBY] |= ptcb->OSTCBBitX;
        pevent->OSEventGrp |= ptcb->OSTCBBitY;
    }
}

/* Take an available mutex for the current task. Critical section held. */
static INT8U OS_MutexTake(OS_EVENT *pevent, INT8U pip)
{
    pevent->OSEventCnt &= OS_MUTEX_KEEP_UPPER_8;
    pevent->OSEventCnt |= OSTCBCur->OSTCBPrio;
    pevent->OSEventPtr = OSTCBCur;
    /* The caller already outranks the ceiling: the ceiling was configured wrongly for this
     * task. The mutex IS taken; the error only reports the misconfiguration. */
    if (pip != OS_PRIO_MUTEX_CEIL_DIS && OSTCBCur->OSTCBPrio <= pip) {
        return OS_ERR_PIP_LOWER;
    }
    return OS_ERR_NONE;
}

void OSMutexPend(OS_EVENT *pevent, INT32U timeout, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *owner;
    INT8U pip;
    INT8U mprio;
    INT8U err;

    err = OS_PendCheck(pevent, OS_EVENT_TYPE_MUTEX);
    if (err != OS_ERR_NONE) {
        *perr = err;
        return;
    }
    OS_ENTER_CRITICAL();
    pip = (INT8U)(pevent->OSEventCnt >> 8);
    if ((pevent->OSEventCnt & OS_MUTEX_KEEP_LOWER_8) == OS_MUTEX_AVAILABLE) {
        *perr = OS_MutexTake(pevent, pip);
        OS_EXIT_CRITICAL();
        return;
    }
    if (pip != OS_PRIO_MUTEX_CEIL_DIS) {
        owner = (OS_TCB *)pevent->OSEventPtr;
        mprio = (INT8U)(pevent->OSEventCnt & OS_MUTEX_KEEP_LOWER_8);
        /* Raise the owner to the ceiling if we outrank it and it is not there already. */
        if (owner->OSTCBPrio > pip && mprio > OSTCBCur->OSTCBPrio) {
            OS_MutexTaskPrioChange(owner, pip);
        }
    }
    *perr = OS_PendWait(pevent, OS_STAT_MUTEX, timeout, &cpu_sr);
    OS_EXIT_CRITICAL();
}

/*
 * Release: only the owner may. An owner running at the ceiling drops back to its own priority
 * first; then the mutex passes directly to the highest-priority waiter, if any.
 */
INT8U OSMutexPost(OS_EVENT *pevent)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U pip;
    INT8U prio;
    INT8U err;

    if (OSIntNesting > 0u) {
        return OS_ERR_POST_ISR;
    }
    err = OS_EventCheck(pevent, OS_EVENT_TYPE_MUTEX);
    if (err != OS_ERR_NONE) {
        return err;
    }
    OS_ENTER_CRITICAL();
    if (OSTCBCur != (OS_TCB *)pevent->OSEventPtr) {
        OS_EXIT_CRITICAL();
        return OS_ERR_NOT_MUTEX_OWNER;
    }
    pip = (INT8U)(pevent->OSEventCnt >> 8);
    prio = (INT8U)(pevent->OSEventCnt & OS_MUTEX_KEEP_LOWER_8);
    if (pip != OS_PRIO_MUTEX_CEIL_DIS) {
        if (OSTCBCur->OSTCBPrio == pip) {
            OS_MutexTaskPrioChange(OSTCBCur, prio);
        }
        OSTCBPrioTbl[pip] = OS_TCB_RESERVED;
    }
    if (pevent->OSEventGrp != 0u) {
        prio = OS_EventTaskRdy(pevent, OS_NULL, OS_STAT_MUTEX, OS_STAT_PEND_OK);
        pevent->OSEventCnt &= OS_MUTEX_KEEP_UPPER_8;
        pevent->OSEventCnt |= prio;
        pevent->OSEventPtr = OSTCBPrioTbl[prio];
        OS_EXIT_CRITICAL();
        OS_Sched();
        if (pip != OS_PRIO_MUTEX_CEIL_DIS && prio <= pip) {
            return OS_ERR_PIP_LOWER; /* the new owner outranks the ceiling */
        }
        return OS_ERR_NONE;
    }
    pevent->OSEventCnt |= OS_MUTEX_AVAILABLE;
    pevent->OSEventPtr = OS_NULL;
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

/* Take the mutex if it is free; never waits. Returns OS_TRUE when taken. */
BOOLEAN OSMutexAccept(OS_EVENT *pevent, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U err;
    INT8U pip;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_MUTEX);
    if (err != OS_ERR_NONE) {
        *perr = err;
        return OS_FALSE;
    }
    if (OSIntNesting > 0u) {
        *perr = OS_ERR_PEND_ISR; /* an ISR cannot own a mutex */
        return OS_FALSE;
    }
    OS_ENTER_CRITICAL();
    if ((pevent->OSEventCnt & OS_MUTEX_KEEP_LOWER_8) == OS_MUTEX_AVAILABLE) {
        pip = (INT8U)(pevent->OSEventCnt >> 8);
        *perr = OS_MutexTake(pevent, pip);
        OS_EXIT_CRITICAL();
        return OS_TRUE;
    }
    OS_EXIT_CRITICAL();
    *perr = OS_ERR_NONE;
    return OS_FALSE;
}

/* OSMutexDel(): a raised owner drops back to its own priority and the ceiling priority is
 * free again (critical section held). OS_TRUE when there was an owner: reschedule. */
static BOOLEAN OS_MutexRelease(OS_EVENT *pevent)
{
    INT8U pip = (INT8U)(pevent->OSEventCnt >> 8);
    INT8U prio = (INT8U)(pevent->OSEventCnt & OS_MUTEX_KEEP_LOWER_8);
    OS_TCB *owner = (OS_TCB *)pevent->OSEventPtr;

    if (pip != OS_PRIO_MUTEX_CEIL_DIS) {
        if (owner != OS_NULL && owner->OSTCBPrio == pip) {
            OS_MutexTaskPrioChange(owner, prio);
        }
        OSTCBPrioTbl[pip] = OS_NULL;
    }
    return (BOOLEAN)(owner != OS_NULL);
}

/*
 * Delete. OS_DEL_NO_PEND refuses while tasks wait. OS_DEL_ALWAYS drops a raised owner back to
 * its own priority and readies every waiter with OS_ERR_PEND_ABORT. Either way the ceiling
 * priority becomes free again. Returns NULL on success, pevent on failure.
 */
OS_EVENT *OSMutexDel(OS_EVENT *pevent, INT8U opt, INT8U *perr)
{
    return OS_EventDel(pevent, OS_EVENT_TYPE_MUTEX, OS_STAT_MUTEX, opt, perr, OS_MutexRelease);
}

INT8U OSMutexQuery(OS_EVENT *pevent, OS_MUTEX_DATA *p_mutex_data)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U err;
    INT8U i;

    if (OSIntNesting > 0u) {
        return OS_ERR_QUERY_ISR;
    }
    err = OS_EventCheck(pevent, OS_EVENT_TYPE_MUTEX);
    if (err != OS_ERR_NONE) {
        return err;
    }
#if OS_ARG_CHK_EN > 0
    if (p_mutex_data == OS_NULL) {
        return OS_ERR_PDATA_NULL;
    }
#endif
    OS_ENTER_CRITICAL();
    p_mutex_data->OSMutexPIP = (INT8U)(pevent->OSEventCnt >> 8);
    p_mutex_data->OSOwnerPrio = (INT8U)(pevent->OSEventCnt & OS_MUTEX_KEEP_LOWER_8);
    p_mutex_data->OSValue = (BOOLEAN)(p_mutex_data->OSOwnerPrio == OS_MUTEX_AVAILABLE);
    p_mutex_data->OSEventGrp = pevent->OSEventGrp;
    for (i = 0u; i < OS_EVENT_TBL_SIZE; i++) {
        p_mutex_data->OSEventTbl[i] = pevent->OSEventTbl[i];
    }
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

#endif /* OS_MUTEX_EN */
