/*
 * os_cfg.h - kernel configuration of the QEMU aarch64 virt board's images, started from
 * kernel/os_cfg_template.h (whose comments document each option). Differences: larger idle
 * and statistics stacks (ISRs run on the board's own interrupt stack, but the idle hook and the
 * statistics task's stack walk get some room). The firmware build finds this file through
 * VNET_OS_CFG_DIR.
 *
 * Every option below must be defined: the kernel is compiled with -Wundef and ucos_ii.h rejects
 * missing options and bad combinations with #error. Options marked "accepted" exist so that a
 * Micrium os_cfg.h carries over; this kernel always compiles the corresponding services (see
 * docs/kernel.md).
 */
#ifndef OS_CFG_H
#define OS_CFG_H

/* ---- Sizing ---- */
#define OS_LOWEST_PRIO 63u /* 3..63; idle runs at this priority, statistics at one above */
#define OS_MAX_TASKS   20u /* application tasks (idle and statistics come on top) */
#define OS_MAX_EVENTS  32u /* semaphores + mutexes + queues in existence at once */
#define OS_MAX_QS      8u  /* message queues (each also takes one event) */

#define OS_TICKS_PER_SEC 1000u /* tick interrupt rate the board programs, 10..10000 */

/* ---- Kernel tasks ---- */
#define OS_TASK_IDLE_STK_SIZE   1024u /* in OS_STK entries */
#define OS_TASK_STAT_EN         1u    /* statistics task computing OSCPUUsage */
#define OS_TASK_STAT_STK_SIZE   1024u /* in OS_STK entries */
#define OS_TASK_STAT_STK_CHK_EN 1u    /* statistics task refreshes OSTCBStkUsed of every task */

/* ---- Checks ---- */
#define OS_ARG_CHK_EN 1u /* validate pointers/priorities/options and return OS_ERR_* codes */

/* ---- Services ---- */
#define OS_SEM_EN   1u /* counting semaphores */
#define OS_MUTEX_EN 1u /* mutexes with priority ceiling */
#define OS_Q_EN     1u /* message queues */

#define OS_TASK_DEL_EN      1u /* OSTaskDel(), OSTaskDelReq(); also how a returning task ends */
#define OS_TASK_SUSPEND_EN  1u /* OSTaskSuspend(), OSTaskResume() */
#define OS_TIME_DLY_HMSM_EN 1u /* OSTimeDlyHMSM() */

/* Not implemented by this kernel: must stay 0. */
#define OS_MBOX_EN 0u
#define OS_FLAG_EN 0u
#define OS_MEM_EN  0u
#define OS_TMR_EN  0u

/* Accepted (services are always compiled in). */
#define OS_TASK_CREATE_EN     1u
#define OS_TASK_CREATE_EXT_EN 1u
#define OS_TASK_QUERY_EN      1u
#define OS_TASK_NAME_EN       1u
#define OS_SEM_ACCEPT_EN      1u
#define OS_SEM_DEL_EN         1u
#define OS_SEM_PEND_ABORT_EN  1u
#define OS_SEM_QUERY_EN       1u
#define OS_SEM_SET_EN         1u
#define OS_MUTEX_ACCEPT_EN    1u
#define OS_MUTEX_DEL_EN       1u
#define OS_MUTEX_QUERY_EN     1u
#define OS_Q_ACCEPT_EN        1u
#define OS_Q_DEL_EN           1u
#define OS_Q_FLUSH_EN         1u
#define OS_Q_PEND_ABORT_EN    1u
#define OS_Q_POST_EN          1u
#define OS_Q_POST_FRONT_EN    1u
#define OS_Q_POST_OPT_EN      1u
#define OS_Q_QUERY_EN         1u
#define OS_SCHED_LOCK_EN      1u
#define OS_TIME_DLY_RESUME_EN 1u
#define OS_TIME_GET_SET_EN    1u
#define OS_TIME_TICK_HOOK_EN  1u
#define OS_CPU_HOOKS_EN       1u

#endif /* OS_CFG_H */
