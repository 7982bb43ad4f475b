/*
 * os_sem.c - counting semaphores (count 0..65535).
 */
#include "os_priv.h"

#if OS_SEM_EN > 0

/* Returns NULL from an ISR or when no event control block is free. */
OS_EVENT *OSSemCreate(INT16U cnt)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_EVENT *pevent;

    OS_ENTER_CRITICAL();
    pevent = OS_EventAlloc(OS_EVENT_TYPE_SEM);
    if (pevent != OS_NULL) {
        pevent->OSEventCnt = cnt;
    }
    OS_EXIT_CRITICAL();
    return pevent;
}

/*
 * Take one unit, waiting up to 'timeout' ticks (0 = forever). Refused in an ISR
 * (OS_ERR_PEND_ISR) and with the scheduler locked (OS_ERR_PEND_LOCKED), because either
 * would block the wrong context.
 */
void OSSemPend(OS_EVENT *pevent, INT32U timeout, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U err;

    err = OS_PendCheck(pevent, OS_EVENT_TYPE_SEM);
    if (err != OS_ERR_NONE) {
        *perr = err;
        return;
    }
    OS_ENTER_CRITICAL();
    if (pevent->OSEventCnt > 0u) {
        pevent->OSEventCnt--;
        OS_EXIT_CRITICAL();
        *perr = OS_ERR_NONE;
        return;
    }
    *perr = OS_PendWait(pevent, OS_STAT_SEM, timeout, &cpu_sr);
    OS_EXIT_CRITICAL();
}

/* Hand the unit straight to the highest-priority waiter if there is one (the count stays 0),
 * else count it. ISR-safe: from an ISR the switch happens in OSIntExit(). */
INT8U OSSemPost(OS_EVENT *pevent)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U err;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_SEM);
    if (err != OS_ERR_NONE) {
        return err;
    }
    OS_ENTER_CRITICAL();
    if (pevent->OSEventGrp != 0u) {
        (void)OS_EventTaskRdy(pevent, OS_NULL, OS_STAT_SEM, OS_STAT_PEND_OK);
        OS_EXIT_CRITICAL();
        OS_Sched();
        return OS_ERR_NONE;
    }
    if (pevent->OSEventCnt < 65535u) {
        pevent->OSEventCnt++;
        OS_EXIT_CRITICAL();
        return OS_ERR_NONE;
    }
    OS_EXIT_CRITICAL();
    return OS_ERR_SEM_OVF;
}

/* Non-blocking take: returns the count before the call (0 = nothing taken). ISR-safe. */
INT16U OSSemAccept(OS_EVENT *pevent)
{
    OS_CPU_SR cpu_sr = 0u;
    INT16U cnt;

    if (OS_EventCheck(pevent, OS_EVENT_TYPE_SEM) != OS_ERR_NONE) {
        return 0u;
    }
    OS_ENTER_CRITICAL();
    cnt = pevent->OSEventCnt;
    if (cnt > 0u) {
        pevent->OSEventCnt--;
    }
    OS_EXIT_CRITICAL();
    return cnt;
}

/* Force the count. Refused while tasks wait, since they would keep waiting on a count > 0. */
void OSSemSet(OS_EVENT *pevent, INT16U cnt, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U err;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_SEM);
    if (err != OS_ERR_NONE) {
        *perr = err;
        return;
    }
    OS_ENTER_CRITICAL();
    if (pevent->OSEventCnt > 0u || pevent->OSEventGrp == 0u) {
        pevent->OSEventCnt = cnt;
        *perr = OS_ERR_NONE;
    } else {
        *perr = OS_ERR_TASK_WAITING;
    }
    OS_EXIT_CRITICAL();
}

/*
 * Delete. OS_DEL_NO_PEND refuses while tasks wait; OS_DEL_ALWAYS readies every waiter with
 * OS_ERR_PEND_ABORT. Returns NULL on success and pevent on failure, so callers can write
 * "sem = OSSemDel(sem, ...)". The caller must make sure nobody uses the handle afterwards.
 */
OS_EVENT *OSSemDel(OS_EVENT *pevent, INT8U opt, INT8U *perr)
{
    return OS_EventDel(pevent, OS_EVENT_TYPE_SEM, OS_STAT_SEM, opt, perr, OS_NULL);
}

INT8U OSSemQuery(OS_EVENT *pevent, OS_SEM_DATA *p_sem_data)
{
    OS_CPU_SR cpu_sr = 0u;
    INT8U err;
    INT8U i;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_SEM);
    if (err != OS_ERR_NONE) {
        return err;
    }
#if OS_ARG_CHK_EN > 0
    if (p_sem_data == OS_NULL) {
        return OS_ERR_PDATA_NULL;
    }
#endif
    OS_ENTER_CRITICAL();
    p_sem_data->OSEventGrp = pevent->OSEventGrp;
    for (i = 0u; i < OS_EVENT_TBL_SIZE; i++) {
        p_sem_data->OSEventTbl[i] = pevent->OSEventTbl[i];
    }
    p_sem_data->OSCnt = pevent->OSEventCnt;
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

/* Wake the highest waiter (or all with OS_PEND_OPT_BROADCAST) with OS_ERR_PEND_ABORT.
 * Returns how many were woken; *perr is OS_ERR_PEND_ABORT if any, else OS_ERR_NONE. */
INT8U OSSemPendAbort(OS_EVENT *pevent, INT8U opt, INT8U *perr)
{
    return OS_EventPendAbort(pevent, OS_EVENT_TYPE_SEM, OS_STAT_SEM, opt, perr);
}

#endif /* OS_SEM_EN */
