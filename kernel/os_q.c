/*
 * os_q.c - message queues: a ring of void * supplied by the caller, FIFO (OSQPost) or LIFO
 * (OSQPostFront). A message given while a task waits goes straight to that task.
 */
#include "os_priv.h"

#if OS_Q_EN > 0

static OS_Q OSQTbl[OS_MAX_QS];
static OS_Q *OSQFreeList;

void OS_QInit(void)
{
    INT16U i;

    OS_MemClr((INT8U *)OSQTbl, (INT32U)sizeof(OSQTbl));
    for (i = 0u; i < (INT16U)(OS_MAX_QS - 1u); i++) {
        OSQTbl[i].OSQPtr = &OSQTbl[i + 1u];
    }
    OSQTbl[OS_MAX_QS - 1u].OSQPtr = OS_NULL;
    OSQFreeList = &OSQTbl[0];
}

/* OSQDel(): the queue's OS_Q goes back to its pool with the event (critical section held). */
static BOOLEAN OS_QRelease(OS_EVENT *pevent)
{
    OS_Q *pq = (OS_Q *)pevent->OSEventPtr;

    pq->OSQPtr = OSQFreeList;
    OSQFreeList = pq;
    return OS_FALSE;
}

/* 'start' is an array of 'size' message slots owned by the caller for the queue's lifetime.
 * Returns NULL from an ISR, for bad arguments, or when no ECB or OS_Q is free. */
OS_EVENT *OSQCreate(void **start, INT16U size)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_EVENT *pevent;
    OS_Q *pq;

#if OS_ARG_CHK_EN > 0
    if (start == OS_NULL || size == 0u) {
        return OS_NULL;
    }
#endif
    OS_ENTER_CRITICAL();
    pq = OSQFreeList;
    if (pq == OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_NULL;
    }
    pevent = OS_EventAlloc(OS_EVENT_TYPE_Q);
    if (pevent == OS_NULL) {
        OS_EXIT_CRITICAL();
        return OS_NULL;
    }
    OSQFreeList = pq->OSQPtr;
    pq->OSQPtr = OS_NULL;
    pq->OSQStart = start;
    pq->OSQEnd = &start[size];
    pq->OSQIn = start;
    pq->OSQOut = start;
    pq->OSQSize = size;
    pq->OSQEntries = 0u;
    pevent->OSEventPtr = pq;
    OS_EXIT_CRITICAL();
    return pevent;
}

/* Remove the oldest message. Queue not empty; critical section held. */
static void *OS_QGet(OS_Q *pq)
{
    void *pmsg = *pq->OSQOut++;

    pq->OSQEntries--;
    if (pq->OSQOut == pq->OSQEnd) {
        pq->OSQOut = pq->OSQStart;
    }
    return pmsg;
}

/* Store a message at the back (FIFO) or the front (LIFO). Queue not full; critical section. */
static void OS_QPut(OS_Q *pq, void *pmsg, BOOLEAN front)
{
    if (front == OS_TRUE) {
        if (pq->OSQOut == pq->OSQStart) {
            pq->OSQOut = pq->OSQEnd;
        }
        pq->OSQOut--;
        *pq->OSQOut = pmsg;
    } else {
        *pq->OSQIn++ = pmsg;
        if (pq->OSQIn == pq->OSQEnd) {
            pq->OSQIn = pq->OSQStart;
        }
    }
    pq->OSQEntries++;
}

/* Wait up to 'timeout' ticks (0 = forever) for a message. Returns NULL on error; note that a
 * NULL message is indistinguishable from an error without checking *perr. */
void *OSQPend(OS_EVENT *pevent, INT32U timeout, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_Q *pq;
    void *pmsg;
    INT8U err;

    err = OS_PendCheck(pevent, OS_EVENT_TYPE_Q);
    if (err != OS_ERR_NONE) {
        *perr = err;
        return OS_NULL;
    }
    OS_ENTER_CRITICAL();
    pq = (OS_Q *)pevent->OSEventPtr;
    if (pq->OSQEntries > 0u) {
        pmsg = OS_QGet(pq);
        OS_EXIT_CRITICAL();
        *perr = OS_ERR_NONE;
        return pmsg;
    }
    OSTCBCur->OSTCBMsg = OS_NULL;
    err = OS_PendWait(pevent, OS_STAT_Q, timeout, &cpu_sr);
    pmsg = (err == OS_ERR_NONE) ? OSTCBCur->OSTCBMsg : OS_NULL;
    OSTCBCur->OSTCBMsg = OS_NULL;
    OS_EXIT_CRITICAL();
    *perr = err;
    return pmsg;
}

void *OSQAccept(OS_EVENT *pevent, INT8U *perr)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_Q *pq;
    void *pmsg = OS_NULL;
    INT8U err;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_Q);
    if (err != OS_ERR_NONE) {
        *perr = err;
        return OS_NULL;
    }
    OS_ENTER_CRITICAL();
    pq = (OS_Q *)pevent->OSEventPtr;
    if (pq->OSQEntries > 0u) {
        pmsg = OS_QGet(pq);
        *perr = OS_ERR_NONE;
    } else {
        *perr = OS_ERR_Q_EMPTY;
    }
    OS_EXIT_CRITICAL();
    return pmsg;
}

/*
 * Post with options: OS_POST_OPT_FRONT (LIFO), OS_POST_OPT_BROADCAST (every waiter gets the
 * message), OS_POST_OPT_NO_SCHED (ready the waiters but do not reschedule now, for posting
 * several messages and rescheduling once). ISR-safe.
 */
INT8U OSQPostOpt(OS_EVENT *pevent, void *pmsg, INT8U opt)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_Q *pq;
    INT8U err;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_Q);
    if (err != OS_ERR_NONE) {
        return err;
    }
    OS_ENTER_CRITICAL();
    if (pevent->OSEventGrp != 0u) {
        do {
            (void)OS_EventTaskRdy(pevent, pmsg, OS_STAT_Q, OS_STAT_PEND_OK);
        } while ((opt & OS_POST_OPT_BROADCAST) != 0u && pevent->OSEventGrp != 0u);
        OS_EXIT_CRITICAL();
        if ((opt & OS_POST_OPT_NO_SCHED) == 0u) {
            OS_Sched();
        }
        return OS_ERR_NONE;
    }
    pq = (OS_Q *)pevent->OSEventPtr;
    if (pq->OSQEntries >= pq->OSQSize) {
        OS_EXIT_CRITICAL();
        return OS_ERR_Q_FULL;
    }
    OS_QPut(pq, pmsg, (BOOLEAN)((opt & OS_POST_OPT_FRONT) != 0u));
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

INT8U OSQPost(OS_EVENT *pevent, void *pmsg)
{
    return OSQPostOpt(pevent, pmsg, OS_POST_OPT_NONE);
}

INT8U OSQPostFront(OS_EVENT *pevent, void *pmsg)
{
    return OSQPostOpt(pevent, pmsg, OS_POST_OPT_FRONT);
}

/* Discard all queued messages (the caller owns whatever they point to). */
INT8U OSQFlush(OS_EVENT *pevent)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_Q *pq;
    INT8U err;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_Q);
    if (err != OS_ERR_NONE) {
        return err;
    }
    OS_ENTER_CRITICAL();
    pq = (OS_Q *)pevent->OSEventPtr;
    pq->OSQIn = pq->OSQStart;
    pq->OSQOut = pq->OSQStart;
    pq->OSQEntries = 0u;
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

/* Same contract as OSSemDel(); waiters readied by OS_DEL_ALWAYS get OS_ERR_PEND_ABORT. */
OS_EVENT *OSQDel(OS_EVENT *pevent, INT8U opt, INT8U *perr)
{
    return OS_EventDel(pevent, OS_EVENT_TYPE_Q, OS_STAT_Q, opt, perr, OS_QRelease);
}

INT8U OSQQuery(OS_EVENT *pevent, OS_Q_DATA *p_q_data)
{
    OS_CPU_SR cpu_sr = 0u;
    OS_Q *pq;
    INT8U err;
    INT8U i;

    err = OS_EventCheck(pevent, OS_EVENT_TYPE_Q);
    if (err != OS_ERR_NONE) {
        return err;
    }
#if OS_ARG_CHK_EN > 0
    if (p_q_data == OS_NULL) {
        return OS_ERR_PDATA_NULL;
    }
#endif
    OS_ENTER_CRITICAL();
    p_q_data->OSEventGrp = pevent->OSEventGrp;
    for (i = 0u; i < OS_EVENT_TBL_SIZE; i++) {
        p_q_data->OSEventTbl[i] = pevent->OSEventTbl[i];
    }
    pq = (OS_Q *)pevent->OSEventPtr;
    p_q_data->OSMsg = (pq->OSQEntries > 0u) ? *pq->OSQOut : OS_NULL;
    p_q_data->OSNMsgs = pq->OSQEntries;
    p_q_data->OSQSize = pq->OSQSize;
    OS_EXIT_CRITICAL();
    return OS_ERR_NONE;
}

INT8U OSQPendAbort(OS_EVENT *pevent, INT8U opt, INT8U *perr)
{
    return OS_EventPendAbort(pevent, OS_EVENT_TYPE_Q, OS_STAT_Q, opt, perr);
}

#endif /* OS_Q_EN */
