/*
 * ucos_ii.h - public API of the vnet-rtos kernel, a clean-room kernel that implements the
 * uC/OS-II 2.92 programming interface (names, types, error codes, option values and
 * semantics) so that code written against Micrium's ucos_ii.h compiles unchanged.
 *
 * Written from the documented behaviour of uC/OS-II; none of Micrium's code is used.
 * See docs/kernel.md for what is covered and what deliberately differs.
 *
 * Like the original, this header pulls in the application's os_cfg.h (configuration) and the
 * CPU port's os_cpu.h (integer types, OS_STK, critical sections), in that order.
 */
#ifndef UCOS_II_H
#define UCOS_II_H

#ifdef __cplusplus
extern "C" {
#endif

/* API level implemented: 2.92 (OSVersion() returns major * 10000 + minor * 100 + patch). */
#define OS_VERSION 29200u

#include "os_cfg.h"
#include "os_cpu.h"

/* ---------------------------------------------------------------------------------------------
 * Configuration checks. Every option the kernel reads must be defined (we build with -Wundef)
 * and combinations the kernel cannot honour are refused at compile time.
 * ------------------------------------------------------------------------------------------- */
#if !defined(OS_LOWEST_PRIO) || !defined(OS_MAX_TASKS) || !defined(OS_MAX_EVENTS) ||               \
    !defined(OS_TICKS_PER_SEC)
#error "os_cfg.h must define OS_LOWEST_PRIO, OS_MAX_TASKS, OS_MAX_EVENTS and OS_TICKS_PER_SEC"
#endif
#if !defined(OS_ARG_CHK_EN) || !defined(OS_TASK_STAT_EN) || !defined(OS_TASK_STAT_STK_CHK_EN)
#error "os_cfg.h must define OS_ARG_CHK_EN, OS_TASK_STAT_EN and OS_TASK_STAT_STK_CHK_EN"
#endif
#if !defined(OS_TASK_IDLE_STK_SIZE) || !defined(OS_TASK_STAT_STK_SIZE)
#error "os_cfg.h must define OS_TASK_IDLE_STK_SIZE and OS_TASK_STAT_STK_SIZE"
#endif
#if !defined(OS_SEM_EN) || !defined(OS_MUTEX_EN) || !defined(OS_Q_EN) || !defined(OS_MAX_QS)
#error "os_cfg.h must define OS_SEM_EN, OS_MUTEX_EN, OS_Q_EN and OS_MAX_QS"
#endif
#if !defined(OS_MBOX_EN) || !defined(OS_FLAG_EN) || !defined(OS_MEM_EN) || !defined(OS_TMR_EN)
#error "os_cfg.h must define OS_MBOX_EN, OS_FLAG_EN, OS_MEM_EN and OS_TMR_EN (0 here)"
#endif
#if !defined(OS_TASK_DEL_EN) || !defined(OS_TASK_SUSPEND_EN) || !defined(OS_TIME_DLY_HMSM_EN)
#error "os_cfg.h must define OS_TASK_DEL_EN, OS_TASK_SUSPEND_EN and OS_TIME_DLY_HMSM_EN"
#endif
/* The options this kernel only accepts or refuses must be defined too, so that every os_cfg.h
 * built here is also complete for Micrium's uC/OS-II V2.93 (os/ucos2/cfg/os_cfg.h is the base
 * every configuration of this tree derives from). */
#if !defined(OS_APP_HOOKS_EN) || !defined(OS_CPU_HOOKS_EN) || !defined(OS_DEBUG_EN) ||             \
    !defined(OS_EVENT_MULTI_EN) || !defined(OS_EVENT_NAME_EN) || !defined(OS_SCHED_LOCK_EN) ||     \
    !defined(OS_TICK_STEP_EN) || !defined(OS_TLS_TBL_SIZE)
#error "os_cfg.h is incomplete (miscellaneous options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_TASK_CHANGE_PRIO_EN) || !defined(OS_TASK_CREATE_EN) ||                             \
    !defined(OS_TASK_CREATE_EXT_EN) || !defined(OS_TASK_NAME_EN) ||                                \
    !defined(OS_TASK_PROFILE_EN) || !defined(OS_TASK_QUERY_EN) ||                                  \
    !defined(OS_TASK_REG_TBL_SIZE) || !defined(OS_TASK_SW_HOOK_EN) ||                              \
    !defined(OS_TASK_TMR_STK_SIZE)
#error "os_cfg.h is incomplete (task options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_MAX_FLAGS) || !defined(OS_FLAGS_NBITS) || !defined(OS_FLAG_WAIT_CLR_EN) ||         \
    !defined(OS_FLAG_ACCEPT_EN) || !defined(OS_FLAG_DEL_EN) || !defined(OS_FLAG_NAME_EN) ||        \
    !defined(OS_FLAG_QUERY_EN)
#error "os_cfg.h is incomplete (event flag options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_MBOX_ACCEPT_EN) || !defined(OS_MBOX_DEL_EN) || !defined(OS_MBOX_PEND_ABORT_EN) ||  \
    !defined(OS_MBOX_POST_EN) || !defined(OS_MBOX_POST_OPT_EN) || !defined(OS_MBOX_QUERY_EN)
#error "os_cfg.h is incomplete (mailbox options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_MAX_MEM_PART) || !defined(OS_MEM_NAME_EN) || !defined(OS_MEM_QUERY_EN)
#error "os_cfg.h is incomplete (memory partition options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_MUTEX_ACCEPT_EN) || !defined(OS_MUTEX_DEL_EN) || !defined(OS_MUTEX_QUERY_EN)
#error "os_cfg.h is incomplete (mutex options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_Q_ACCEPT_EN) || !defined(OS_Q_DEL_EN) || !defined(OS_Q_FLUSH_EN) ||                \
    !defined(OS_Q_PEND_ABORT_EN) || !defined(OS_Q_POST_EN) || !defined(OS_Q_POST_FRONT_EN) ||      \
    !defined(OS_Q_POST_OPT_EN) || !defined(OS_Q_QUERY_EN)
#error "os_cfg.h is incomplete (queue options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_SEM_ACCEPT_EN) || !defined(OS_SEM_DEL_EN) || !defined(OS_SEM_PEND_ABORT_EN) ||     \
    !defined(OS_SEM_QUERY_EN) || !defined(OS_SEM_SET_EN)
#error "os_cfg.h is incomplete (semaphore options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_TIME_DLY_RESUME_EN) || !defined(OS_TIME_GET_SET_EN) ||                             \
    !defined(OS_TIME_TICK_HOOK_EN)
#error "os_cfg.h is incomplete (time options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_TMR_CFG_MAX) || !defined(OS_TMR_CFG_WHEEL_SIZE) || !defined(OS_TMR_CFG_NAME_EN) || \
    !defined(OS_TMR_CFG_TICKS_PER_SEC)
#error "os_cfg.h is incomplete (timer options): start from os/ucos2/cfg/os_cfg.h"
#endif
#if !defined(OS_TRACE_EN) || !defined(OS_TRACE_API_ENTER_EN) || !defined(OS_TRACE_API_EXIT_EN)
#error "os_cfg.h is incomplete (trace options): start from os/ucos2/cfg/os_cfg.h"
#endif
/* This kernel keeps the classic 8x8 ready bitmap: 64 priority levels at most. */
#if OS_LOWEST_PRIO < 3 || OS_LOWEST_PRIO > 63
#error "OS_LOWEST_PRIO must be in 3..63 (this kernel implements the 64-level ready list)"
#endif
#if OS_MAX_TASKS < 2 || OS_MAX_TASKS > OS_LOWEST_PRIO - 1
#error "OS_MAX_TASKS must be at least 2 and leave room for the idle and statistics tasks"
#endif
#if OS_TICKS_PER_SEC < 10 || OS_TICKS_PER_SEC > 10000
#error "OS_TICKS_PER_SEC must be in 10..10000 (statistics sample every OS_TICKS_PER_SEC / 10)"
#endif
#if (OS_SEM_EN + OS_MUTEX_EN + OS_Q_EN) > 0 && OS_MAX_EVENTS < 1
#error "semaphores, mutexes or queues are enabled but OS_MAX_EVENTS is 0"
#endif
#if OS_Q_EN > 0 && OS_MAX_QS < 1
#error "OS_Q_EN needs OS_MAX_QS >= 1"
#endif
#if OS_Q_EN > 0 && OS_MAX_QS > OS_MAX_EVENTS
#error "every queue needs an event control block: OS_MAX_QS must not exceed OS_MAX_EVENTS"
#endif
#if OS_MBOX_EN > 0 || OS_FLAG_EN > 0 || OS_MEM_EN > 0 || OS_TMR_EN > 0
#error "mailboxes, event flags, memory partitions and timers are not implemented (set to 0)"
#endif
#if OS_TASK_CHANGE_PRIO_EN > 0 || OS_TASK_REG_TBL_SIZE > 0 || OS_EVENT_MULTI_EN > 0 ||             \
    OS_TLS_TBL_SIZE > 0
#error "OSTaskChangePrio, task registers, OSEventPendMulti and TLS are not implemented (set to 0)"
#endif
#if OS_TASK_PROFILE_EN > 0 || OS_TICK_STEP_EN > 0 || OS_DEBUG_EN > 0 || OS_APP_HOOKS_EN > 0 ||     \
    OS_TRACE_EN > 0 || OS_TRACE_API_ENTER_EN > 0 || OS_TRACE_API_EXIT_EN > 0
#error "task profiling, tick stepping, os_dbg, application hooks and tracing are not implemented"
#endif
#if OS_TASK_STAT_STK_CHK_EN > 0 && OS_TASK_STAT_EN == 0
#error "OS_TASK_STAT_STK_CHK_EN needs OS_TASK_STAT_EN"
#endif
#if !defined(OS_CRITICAL_METHOD) || OS_CRITICAL_METHOD != 3
#error "the CPU port must use OS_CRITICAL_METHOD 3 (callers declare OS_CPU_SR cpu_sr)"
#endif
#if !defined(OS_STK_GROWTH) || (OS_STK_GROWTH != 0 && OS_STK_GROWTH != 1)
#error "the CPU port must define OS_STK_GROWTH as 1 (down) or 0 (up)"
#endif

/* ---------------------------------------------------------------------------------------------
 * Miscellaneous constants
 * ------------------------------------------------------------------------------------------- */
#define OS_FALSE 0u
#define OS_TRUE  1u

#define OS_ASCII_NUL (INT8U)0

#define OS_PRIO_SELF 0xFFu /* "the calling task" in OSTaskDel/OSTaskStkChk/... */

#if OS_TASK_STAT_EN > 0
#define OS_N_SYS_TASKS 2u
#else
#define OS_N_SYS_TASKS 1u
#endif

#define OS_TASK_STAT_PRIO (OS_LOWEST_PRIO - 1u)
#define OS_TASK_IDLE_PRIO (OS_LOWEST_PRIO)

#define OS_EVENT_TBL_SIZE ((OS_LOWEST_PRIO) / 8u + 1u)
#define OS_RDY_TBL_SIZE   ((OS_LOWEST_PRIO) / 8u + 1u)

#define OS_TASK_IDLE_ID 65535u
#define OS_TASK_STAT_ID 65534u

/* Marks a priority as taken without a task (mutex priority-inheritance priority). */
#define OS_TCB_RESERVED ((OS_TCB *)1)

/* Task status (OSTCBStat): what a task waits for, bit mask. */
#define OS_STAT_RDY      0x00u
#define OS_STAT_SEM      0x01u
#define OS_STAT_MBOX     0x02u
#define OS_STAT_Q        0x04u
#define OS_STAT_SUSPEND  0x08u
#define OS_STAT_MUTEX    0x10u
#define OS_STAT_FLAG     0x20u
#define OS_STAT_MULTI    0x80u
#define OS_STAT_PEND_ANY (OS_STAT_SEM | OS_STAT_MBOX | OS_STAT_Q | OS_STAT_MUTEX | OS_STAT_FLAG)

/* How a pend ended (OSTCBStatPend). */
#define OS_STAT_PEND_OK    0u
#define OS_STAT_PEND_TO    1u
#define OS_STAT_PEND_ABORT 2u

/* Event control block types. */
#define OS_EVENT_TYPE_UNUSED 0u
#define OS_EVENT_TYPE_MBOX   1u
#define OS_EVENT_TYPE_Q      2u
#define OS_EVENT_TYPE_SEM    3u
#define OS_EVENT_TYPE_MUTEX  4u
#define OS_EVENT_TYPE_FLAG   5u

/* Options of the *Del() services. */
#define OS_DEL_NO_PEND 0u
#define OS_DEL_ALWAYS  1u

/* Options of the *PendAbort() services. */
#define OS_PEND_OPT_NONE      0u
#define OS_PEND_OPT_BROADCAST 1u

/* Options of OSQPostOpt(). */
#define OS_POST_OPT_NONE      0x00u
#define OS_POST_OPT_BROADCAST 0x01u
#define OS_POST_OPT_FRONT     0x02u
#define OS_POST_OPT_NO_SCHED  0x04u

/* Options of OSTaskCreateExt(). */
#define OS_TASK_OPT_NONE    0x0000u
#define OS_TASK_OPT_STK_CHK 0x0001u /* allow OSTaskStkChk() on this task */
#define OS_TASK_OPT_STK_CLR 0x0002u /* zero the stack at creation (needs STK_CHK too) */
#define OS_TASK_OPT_SAVE_FP 0x0004u /* port hint: save floating-point context */

/* Mutex: OSEventCnt holds the ceiling priority (PIP) in the upper byte and either the owner's
 * original priority or OS_MUTEX_AVAILABLE in the lower byte. */
#define OS_MUTEX_KEEP_LOWER_8  0x00FFu
#define OS_MUTEX_KEEP_UPPER_8  0xFF00u
#define OS_MUTEX_AVAILABLE     0x00FFu
#define OS_PRIO_MUTEX_CEIL_DIS 0xFFu /* OSMutexCreate(): no priority ceiling */

/* ---------------------------------------------------------------------------------------------
 * Error codes (INT8U, values as in uC/OS-II 2.92)
 * ------------------------------------------------------------------------------------------- */
#define OS_ERR_NONE 0u

#define OS_ERR_EVENT_TYPE              1u
#define OS_ERR_PEND_ISR                2u
#define OS_ERR_POST_NULL_PTR           3u
#define OS_ERR_PEVENT_NULL             4u
#define OS_ERR_POST_ISR                5u
#define OS_ERR_QUERY_ISR               6u
#define OS_ERR_INVALID_OPT             7u
#define OS_ERR_ID_INVALID              8u
#define OS_ERR_PDATA_NULL              9u
#define OS_ERR_TIMEOUT                 10u
#define OS_ERR_EVENT_NAME_TOO_LONG     11u
#define OS_ERR_PNAME_NULL              12u
#define OS_ERR_PEND_LOCKED             13u
#define OS_ERR_PEND_ABORT              14u
#define OS_ERR_DEL_ISR                 15u
#define OS_ERR_CREATE_ISR              16u
#define OS_ERR_NAME_GET_ISR            17u
#define OS_ERR_NAME_SET_ISR            18u
#define OS_ERR_ILLEGAL_CREATE_RUN_TIME 19u

#define OS_ERR_MBOX_FULL 20u

#define OS_ERR_Q_FULL  30u
#define OS_ERR_Q_EMPTY 31u

#define OS_ERR_PRIO_EXIST   40u
#define OS_ERR_PRIO         41u
#define OS_ERR_PRIO_INVALID 42u

#define OS_ERR_SCHED_LOCKED 50u
#define OS_ERR_SEM_OVF      51u

#define OS_ERR_TASK_CREATE_ISR    60u
#define OS_ERR_TASK_DEL           61u
#define OS_ERR_TASK_DEL_IDLE      62u
#define OS_ERR_TASK_DEL_REQ       63u
#define OS_ERR_TASK_DEL_ISR       64u
#define OS_ERR_TASK_NAME_TOO_LONG 65u
#define OS_ERR_TASK_NO_MORE_TCB   66u
#define OS_ERR_TASK_NOT_EXIST     67u
#define OS_ERR_TASK_NOT_SUSPENDED 68u
#define OS_ERR_TASK_OPT           69u
#define OS_ERR_TASK_RESUME_PRIO   70u
#define OS_ERR_TASK_SUSPEND_IDLE  71u
#define OS_ERR_TASK_SUSPEND_PRIO  72u
#define OS_ERR_TASK_WAITING       73u

#define OS_ERR_TIME_NOT_DLY         80u
#define OS_ERR_TIME_INVALID_MINUTES 81u
#define OS_ERR_TIME_INVALID_SECONDS 82u
#define OS_ERR_TIME_INVALID_MS      83u
#define OS_ERR_TIME_ZERO_DLY        84u
#define OS_ERR_TIME_DLY_ISR         85u

#define OS_ERR_NOT_MUTEX_OWNER 100u

#define OS_ERR_PIP_LOWER 120u

/* Old (pre-2.84) names still used by much application code. */
#define OS_NO_ERR         OS_ERR_NONE
#define OS_TIMEOUT        OS_ERR_TIMEOUT
#define OS_PRIO_EXIST     OS_ERR_PRIO_EXIST
#define OS_PRIO_INVALID   OS_ERR_PRIO_INVALID
#define OS_SEM_OVF        OS_ERR_SEM_OVF
#define OS_Q_FULL         OS_ERR_Q_FULL
#define OS_TASK_NOT_EXIST OS_ERR_TASK_NOT_EXIST

/* ---------------------------------------------------------------------------------------------
 * Kernel objects
 * ------------------------------------------------------------------------------------------- */

/* Event control block: semaphore, mutex or message queue. */
typedef struct os_event {
    INT8U OSEventType;                   /* OS_EVENT_TYPE_* */
    void *OSEventPtr;                    /* mutex owner's OS_TCB, queue's OS_Q, or next free ECB */
    INT16U OSEventCnt;                   /* semaphore count, or mutex PIP<<8 | owner prio */
    INT8U OSEventGrp;                    /* group bits of the wait list (one per 8 priorities) */
    INT8U OSEventTbl[OS_EVENT_TBL_SIZE]; /* wait list: one bit per waiting priority */
    INT8U *OSEventName;
} OS_EVENT;

/*
 * Task control block. OSTCBStkPtr MUST stay the first member: port assembly saves and loads a
 * task's stack pointer at offset 0 of the TCB.
 */
typedef struct os_tcb {
    OS_STK *OSTCBStkPtr; /* saved stack pointer (port-defined contents) */

    void *OSTCBExtPtr;      /* OSTaskCreateExt() user extension */
    OS_STK *OSTCBStkBottom; /* far end (pbos): lowest entry if growing down, else highest */
    INT32U OSTCBStkSize;    /* stack size in OS_STK entries, Ext tasks only */
    INT16U OSTCBOpt;        /* OS_TASK_OPT_* */
    INT16U OSTCBId;

    struct os_tcb *OSTCBNext; /* list of created tasks (OSTCBList) or the free list */
    struct os_tcb *OSTCBPrev;

    OS_EVENT *OSTCBEventPtr; /* event waited for, NULL when not pending */
    void *OSTCBMsg;          /* message handed over by OSQPost() */

    INT32U OSTCBDly;     /* ticks left to delay or to pend timeout; 0 = none/forever */
    INT8U OSTCBStat;     /* OS_STAT_* */
    INT8U OSTCBStatPend; /* OS_STAT_PEND_* */
    INT8U OSTCBPrio;     /* current priority (raised while it owns a mutex with PIP) */

    /* Precomputed ready-list coordinates of OSTCBPrio. */
    INT8U OSTCBX;
    INT8U OSTCBY;
    INT8U OSTCBBitX;
    INT8U OSTCBBitY;

    INT8U OSTCBDelReq;
    INT32U OSTCBCtxSwCtr; /* times this task was switched in */
    INT32U OSTCBStkUsed;  /* bytes, refreshed by the statistics task's stack check */
    INT8U *OSTCBTaskName;
} OS_TCB;

/* Message queue storage descriptor (one per queue, pointed to by its OS_EVENT). */
typedef struct os_q {
    struct os_q *OSQPtr; /* next free OS_Q */
    void **OSQStart;
    void **OSQEnd; /* one past the last slot */
    void **OSQIn;
    void **OSQOut;
    INT16U OSQSize;
    INT16U OSQEntries;
} OS_Q;

typedef struct os_q_data {
    void *OSMsg; /* next message, NULL if the queue is empty */
    INT16U OSNMsgs;
    INT16U OSQSize;
    INT8U OSEventTbl[OS_EVENT_TBL_SIZE];
    INT8U OSEventGrp;
} OS_Q_DATA;

typedef struct os_sem_data {
    INT16U OSCnt;
    INT8U OSEventTbl[OS_EVENT_TBL_SIZE];
    INT8U OSEventGrp;
} OS_SEM_DATA;

typedef struct os_mutex_data {
    INT8U OSEventTbl[OS_EVENT_TBL_SIZE];
    INT8U OSEventGrp;
    BOOLEAN OSValue;   /* OS_TRUE when available */
    INT8U OSOwnerPrio; /* owner's original priority, 0xFF when available */
    INT8U OSMutexPIP;
} OS_MUTEX_DATA;

typedef struct os_stk_data {
    INT32U OSFree; /* bytes never written since creation */
    INT32U OSUsed; /* bytes written at least once */
} OS_STK_DATA;

/* ---------------------------------------------------------------------------------------------
 * Kernel state visible to ports and applications
 * ------------------------------------------------------------------------------------------- */
extern INT32U OSCtxSwCtr;   /* context switches since OSInit() */
extern INT8U OSIntNesting;  /* interrupt nesting depth, 0 = task level */
extern INT8U OSLockNesting; /* OSSchedLock() depth */
extern BOOLEAN OSRunning;   /* set by the port's OSStartHighRdy() */
extern INT8U OSPrioCur;
extern INT8U OSPrioHighRdy;
extern OS_TCB *OSTCBCur;
extern OS_TCB *OSTCBHighRdy;
extern OS_TCB *OSTCBList;
extern OS_TCB *OSTCBPrioTbl[OS_LOWEST_PRIO + 1u];
extern OS_TCB OSTCBTbl[OS_MAX_TASKS + OS_N_SYS_TASKS];
extern INT8U OSTaskCtr;
extern INT8U OSRdyGrp;
extern INT8U OSRdyTbl[OS_RDY_TBL_SIZE];
extern INT8U const OSUnMapTbl[256];
extern volatile INT32U OSIdleCtr;
extern volatile INT32U OSTime;
#if OS_TASK_STAT_EN > 0
extern INT8U OSCPUUsage;    /* percent, refreshed 10 times a second by the statistics task */
extern INT32U OSIdleCtrMax; /* idle counts per 1/10 s with no other task running */
extern INT32U OSIdleCtrRun;
extern BOOLEAN OSStatRdy;
extern OS_STK OSTaskStatStk[OS_TASK_STAT_STK_SIZE];
#endif
extern OS_STK OSTaskIdleStk[OS_TASK_IDLE_STK_SIZE];

/* ---------------------------------------------------------------------------------------------
 * Services. Unless stated otherwise a service may be called from a task only.
 * ------------------------------------------------------------------------------------------- */

/* Core */
void OSInit(void);     /* first call; creates the idle (and statistics) task */
void OSStart(void);    /* starts multitasking; never returns */
void OSIntEnter(void); /* ISR prologue (or increment OSIntNesting directly with irqs off) */
void OSIntExit(void);  /* ISR epilogue; switches to a readied task at nesting 0 */
void OSSchedLock(void);
void OSSchedUnlock(void);
INT16U OSVersion(void);
#if OS_TASK_STAT_EN > 0
void OSStatInit(void); /* call once from the first task, before creating others */
#endif

/* Tasks */
INT8U OSTaskCreate(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT8U prio);
INT8U OSTaskCreateExt(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT8U prio, INT16U id,
                      OS_STK *pbos, INT32U stk_size, void *pext, INT16U opt);
INT8U OSTaskStkChk(INT8U prio, OS_STK_DATA *p_stk_data);
INT8U OSTaskQuery(INT8U prio, OS_TCB *p_task_data);
void OSTaskNameSet(INT8U prio, INT8U *pname, INT8U *perr);
INT8U OSTaskNameGet(INT8U prio, INT8U **pname, INT8U *perr);
#if OS_TASK_DEL_EN > 0
INT8U OSTaskDel(INT8U prio);
INT8U OSTaskDelReq(INT8U prio);
#endif
#if OS_TASK_SUSPEND_EN > 0
INT8U OSTaskSuspend(INT8U prio);
INT8U OSTaskResume(INT8U prio);
#endif

/* Time */
void OSTimeDly(INT32U ticks);
#if OS_TIME_DLY_HMSM_EN > 0
INT8U OSTimeDlyHMSM(INT8U hours, INT8U minutes, INT8U seconds, INT16U ms);
#endif
INT8U OSTimeDlyResume(INT8U prio);
INT32U OSTimeGet(void);
void OSTimeSet(INT32U ticks);
void OSTimeTick(void); /* from the tick ISR, between OSIntEnter() and OSIntExit() */

/* Semaphores */
#if OS_SEM_EN > 0
OS_EVENT *OSSemCreate(INT16U cnt);
void OSSemPend(OS_EVENT *pevent, INT32U timeout, INT8U *perr);
INT8U OSSemPost(OS_EVENT *pevent);    /* ISR-safe */
INT16U OSSemAccept(OS_EVENT *pevent); /* ISR-safe */
void OSSemSet(OS_EVENT *pevent, INT16U cnt, INT8U *perr);
OS_EVENT *OSSemDel(OS_EVENT *pevent, INT8U opt, INT8U *perr);
INT8U OSSemQuery(OS_EVENT *pevent, OS_SEM_DATA *p_sem_data);
INT8U OSSemPendAbort(OS_EVENT *pevent, INT8U opt, INT8U *perr);
#endif

/* Mutual exclusion semaphores with priority ceiling */
#if OS_MUTEX_EN > 0
OS_EVENT *OSMutexCreate(INT8U prio, INT8U *perr);
void OSMutexPend(OS_EVENT *pevent, INT32U timeout, INT8U *perr);
INT8U OSMutexPost(OS_EVENT *pevent);
BOOLEAN OSMutexAccept(OS_EVENT *pevent, INT8U *perr);
OS_EVENT *OSMutexDel(OS_EVENT *pevent, INT8U opt, INT8U *perr);
INT8U OSMutexQuery(OS_EVENT *pevent, OS_MUTEX_DATA *p_mutex_data);
#endif

/* Message queues */
#if OS_Q_EN > 0
OS_EVENT *OSQCreate(void **start, INT16U size);
void *OSQPend(OS_EVENT *pevent, INT32U timeout, INT8U *perr);
void *OSQAccept(OS_EVENT *pevent, INT8U *perr);            /* ISR-safe */
INT8U OSQPost(OS_EVENT *pevent, void *pmsg);               /* ISR-safe */
INT8U OSQPostFront(OS_EVENT *pevent, void *pmsg);          /* ISR-safe */
INT8U OSQPostOpt(OS_EVENT *pevent, void *pmsg, INT8U opt); /* ISR-safe */
INT8U OSQFlush(OS_EVENT *pevent);
OS_EVENT *OSQDel(OS_EVENT *pevent, INT8U opt, INT8U *perr);
INT8U OSQQuery(OS_EVENT *pevent, OS_Q_DATA *p_q_data);
INT8U OSQPendAbort(OS_EVENT *pevent, INT8U opt, INT8U *perr);
#endif

/* Event names */
void OSEventNameSet(OS_EVENT *pevent, INT8U *pname, INT8U *perr);
INT8U OSEventNameGet(OS_EVENT *pevent, INT8U **pname, INT8U *perr);

/* Called by the port when a task function returns (its stack frame's return address). */
void OS_TaskReturn(void);

/* ---------------------------------------------------------------------------------------------
 * CPU port interface: implemented by kernel/port/<name>/ (see docs/kernel.md)
 * ------------------------------------------------------------------------------------------- */
OS_STK *OSTaskStkInit(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT16U opt);
void OSStartHighRdy(void); /* sets OSRunning, runs OSTCBHighRdy; never returns */
void OSCtxSw(void);        /* task-level switch OSTCBCur -> OSTCBHighRdy (OS_TASK_SW()) */
void OSIntCtxSw(void);     /* switch requested by OSIntExit(); may complete at irq return */

void OSInitHookBegin(void);
void OSInitHookEnd(void);
void OSTaskCreateHook(OS_TCB *ptcb);
void OSTaskDelHook(OS_TCB *ptcb);
void OSTaskIdleHook(void);
void OSTaskReturnHook(OS_TCB *ptcb);
void OSTaskStatHook(void);
void OSTaskSwHook(void);
void OSTCBInitHook(OS_TCB *ptcb);
void OSTimeTickHook(void);

#ifdef __cplusplus
}
#endif

#endif /* UCOS_II_H */
