/*
 * os_priv.h - kernel-internal helpers shared by the os_*.c files. Not for ports or applications.
 */
#ifndef OS_PRIV_H
#define OS_PRIV_H

#include "ucos_ii.h"

/* Null pointer without <stddef.h>: the kernel builds freestanding and uses no libc header. */
#define OS_NULL ((void *)0)

extern OS_EVENT *OSEventFreeList;
extern OS_TCB *OSTCBFreeList;

void OS_Sched(void);
void OS_SchedNew(void);
void OS_MemClr(INT8U *pdest, INT32U size);
void OS_MemCopy(INT8U *pdest, const INT8U *psrc, INT32U size);
INT8U OS_TCBInit(INT8U prio, OS_STK *ptos, OS_STK *pbos, INT16U id, INT32U stk_size, void *pext,
                 INT16U opt);
void OS_TCBPrioSet(OS_TCB *ptcb, INT8U prio);

/* Ends of a stack array of `size` entries as OSTaskCreateExt() takes them, for either
 * OS_STK_GROWTH: the top (ptos) is the first entry used, the bottom (pbos) the last one that
 * can be, i.e. the far end that OSTaskStkChk() scans from. */
static inline OS_STK *OS_StkTop(OS_STK *stk, INT32U size)
{
#if OS_STK_GROWTH == 1
    return &stk[size - 1u];
#else
    (void)size;
    return &stk[0];
#endif
}

static inline OS_STK *OS_StkBottom(OS_STK *stk, INT32U size)
{
#if OS_STK_GROWTH == 1
    (void)size;
    return &stk[0];
#else
    return &stk[size - 1u];
#endif
}

/* Lowest address of the stack whose bottom (pbos) is given. */
static inline OS_STK *OS_StkLowest(OS_STK *pbos, INT32U size)
{
#if OS_STK_GROWTH == 1
    (void)size;
    return pbos;
#else
    return pbos - (size - 1u);
#endif
}

/* Wait lists and ready list. All of these must be called inside a critical section. */
void OS_EventWaitListInit(OS_EVENT *pevent);
void OS_EventTaskWait(OS_EVENT *pevent);
INT8U OS_EventTaskRdy(OS_EVENT *pevent, void *pmsg, INT8U msk, INT8U pend_stat);
/* Body of OSSemPendAbort/OSQPendAbort: wake the most important waiter (or all with
 * OS_PEND_OPT_BROADCAST) with OS_STAT_PEND_ABORT; `stat` is the pend status bit to clear. */
INT8U OS_EventPendAbort(OS_EVENT *pevent, INT8U type, INT8U stat, INT8U opt, INT8U *perr);
void OS_EventTaskRemove(OS_TCB *ptcb, OS_EVENT *pevent);
void OS_EventFree(OS_EVENT *pevent);
OS_EVENT *OS_EventAlloc(INT8U type);
INT8U OS_PendResult(OS_EVENT *pevent);
void OS_QInit(void);

static inline void OS_RdyInsert(OS_TCB *ptcb)
{
    OSRdyGrp |= ptcb->OSTCBBitY;
    OSRdyTbl[ptcb->OSTCBY] |= ptcb->OSTCBBitX;
}

static inline void OS_RdyRemove(OS_TCB *ptcb)
{
    OSRdyTbl[ptcb->OSTCBY] &= (INT8U)~ptcb->OSTCBBitX;
    if (OSRdyTbl[ptcb->OSTCBY] == 0u) {
        OSRdyGrp &= (INT8U)~ptcb->OSTCBBitY;
    }
}

static inline BOOLEAN OS_IsRdy(const OS_TCB *ptcb)
{
    return (BOOLEAN)((OSRdyTbl[ptcb->OSTCBY] & ptcb->OSTCBBitX) != 0u);
}

/* Highest waiting priority in an 8x8 bitmap, given a non-zero group byte. */
static inline INT8U OS_BitmapHighest(INT8U grp, const INT8U *tbl)
{
    INT8U y = OSUnMapTbl[grp];
    return (INT8U)((INT8U)(y << 3) + OSUnMapTbl[tbl[y]]);
}

/* Validate an event pointer and type; returns OS_ERR_NONE or the error to report. */
static inline INT8U OS_EventCheck(const OS_EVENT *pevent, INT8U type)
{
#if OS_ARG_CHK_EN > 0
    if (pevent == OS_NULL) {
        return OS_ERR_PEVENT_NULL;
    }
#endif
    if (pevent->OSEventType != type) {
        return OS_ERR_EVENT_TYPE;
    }
    return OS_ERR_NONE;
}

#endif /* OS_PRIV_H */
