/*
 * os_time.c - the tick, delays and the tick counter.
 */
#include "os_priv.h"

/*
 * A task's delay or pend timeout has run out (OSTCBDly just reached 0): a pend ends as timed
 * out (the task leaves the wait list itself, in OS_PendResult()), and the task becomes ready
 * unless it is suspended. Returns OS_TRUE when it was made ready. Critical section held.
 */
static BOOLEAN OS_TimeDlyEnd(OS_TCB *ptcb)
{
    if ((ptcb->OSTCBStat & OS_STAT_PEND_ANY) != 0u) {
        ptcb->OSTCBStat &= (INT8U)~OS_STAT_PEND_ANY;
        ptcb->OSTCBStatPend = OS_STAT_PEND_TO;
    } else {
        ptcb->OSTCBStatPend = OS_STAT_PEND_OK;
    }
    if ((ptcb->OSTCBStat & OS_STAT_SUSPEND) != 0u) {
        return OS_FALSE;
    }
    OS_RdyInsert(ptcb);
    return OS_TRUE;
}

/*
 * Delay the calling task for 'ticks' clock ticks. The delay ends on the ticks-th tick
 * interrupt after the call, so the real time slept is between ticks-1 and ticks periods.
 * As in uC/OS-II, a call from an ISR or with the scheduler locked returns at once without
 * delaying (there is no error code to report it).
 */
void OSTimeDly(INT32U ticks)
{
    OS_CPU_SR cpu_sr = 0u;

    if (OSIntNesting > 0u) {
        return;
    }
    if (OSLockNesting > 0u) {
        return;
    }
    if (ticks > 0u) {
        OS_ENTER_CRITICAL();
        OS_RdyRemove(OSTCBCur);
        OSTCBCur->OSTCBDly = ticks;
        OS_EXIT_CRITICAL();
        OS_Sched();
    }
}

#if OS_TIME_DLY_HMSM_EN > 0
INT8U OSTimeDlyHMSM(INT8U hours, INT8U minutes, INT8U seconds, INT16U ms)
{
    INT32U ticks;

    if (OSIntNesting > 0u) {
        return OS_ERR_TIME_DLY_ISR;
    }
    if (OSLockNesting > 0u) {
        return OS_ERR_SCHED_LOCKED;
    }
#if OS_ARG_CHK_EN > 0
    if (hours == 0u && minutes == 0u && seconds == 0u && ms == 0u) {
        return OS_ERR_TIME_ZERO_DLY;
    }
    if (minutes > 59u) {
        return OS_ERR_TIME_INVALID_MINUTES;
    }
    if (seconds > 59u) {
        return OS_ERR_TIME_INVALID_SECONDS;
    }
    if (ms > 999u) {
        return OS_ERR_TIME_INVALID_MS;
    }
#endif
    /* Milliseconds are rounded to the nearest tick. 255 h at 10000 ticks/s is 9.18e9 ticks and
     * would overflow 32 bits; such a delay is outside what the tick counter can express. */
    ticks = ((INT32U)hours * 3600u + (INT32U)minutes * 60u + (INT32U)seconds) * OS_TICKS_PER_SEC +
            (OS_TICKS_PER_SEC * ((INT32U)ms + 500u / OS_TICKS_PER_SEC)) / 1000u;
    OSTimeDly(ticks);
    return OS_ERR_NONE;
}
#endif

/*
 * End another task's delay (or pend timeout) early. A pending task is resumed as if its
 * timeout had expired and gets OS_ERR_TIMEOUT from its pend.
 */
INT8U OSTimeDlyResume(INT8U prio)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;

    if (prio >= OS_LOWEST_PRIO) {
        return OS_ERR_PRIO_INVALID;
    }
    OS_ENTER_CRITICAL();
    ptcb = OSTCBPrioTbl[prio];
    if (ptcb == OS_NULL || ptcb == OS_TCB_RESERVED) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TASK_NOT_EXIST;
    }
    if (ptcb->OSTCBDly == 0u) {
        OS_EXIT_CRITICAL();
        return OS_ERR_TIME_NOT_DLY;
    }
    ptcb->OSTCBDly = 0u;
    if (OS_TimeDlyEnd(ptcb) == OS_TRUE) {
        OS_EXIT_CRITICAL();
        OS_Sched();
        return OS_ERR_NONE;
    }
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

INT32U OSTimeGet(void)
{
    OS_CPU_SR cpu_sr = 0u;
    INT32U ticks;

    OS_ENTER_CRITICAL();
    ticks = OSTime;
    OS_EXIT_CRITICAL();
    return ticks;
}

void OSTimeSet(INT32U ticks)
{
    OS_CPU_SR cpu_sr = 0u;

    OS_ENTER_CRITICAL();
    OSTime = ticks;
    OS_EXIT_CRITICAL();
}

/*
 * Process one clock tick: advance OSTime and count down every delayed or timed pend. A task
 * whose count reaches 0 becomes ready; a timed-out pend stays on its event's wait list and
 * the task removes itself when it runs (OS_PendResult()). Called from the tick ISR between
 * OSIntEnter() and OSIntExit(), which performs any resulting switch. The critical section
 * is taken per task so interrupt latency does not grow with the number of tasks.
 */
void OSTimeTick(void)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_TCB *ptcb;

    OSTimeTickHook();
    OS_ENTER_CRITICAL();
    OSTime++;
    OS_EXIT_CRITICAL();
    if (OSRunning == OS_FALSE) {
        return;
    }
    ptcb = OSTCBList;
    while (ptcb != OS_NULL) {
        OS_ENTER_CRITICAL();
        if (ptcb->OSTCBDly != 0u) {
            ptcb->OSTCBDly--;
            if (ptcb->OSTCBDly == 0u) {
                (void)OS_TimeDlyEnd(ptcb);
            }
        }
        ptcb = ptcb->OSTCBNext;
        OS_EXIT_CRITICAL();
    }
}
