/*
 * os_cfg.h - the one uC/OS-II configuration of vnet-rtos: every option of uC/OS-II V2.93, with
 * the values the driver (os/ucos2) needs. It passes the configuration checks of both kernels it
 * is used with:
 *   - Micrium's uC/OS-II V2.93 (Source/ucos_ii.h includes app_cfg.h, then this file);
 *   - this project's kernel (kernel/ucos_ii.h includes only this file).
 * A product copies this file and app_cfg.h (next to it) into its own configuration directory.
 *
 * Deriving a configuration: every option is set only if it is not defined yet, so a derived
 * os_cfg.h defines its few overrides and then includes this file (bsp/qemu-x86_64/cfg,
 * kernel/port/host/cfg and tests/kernel/cfg-min do so); with the real kernel, app_cfg.h can
 * override the same way since it is included first.
 *
 * Column "kernel/": how this project's kernel treats the option.
 *   impl      implemented as uC/OS-II does (the value is honoured)
 *   accepted  the services are always compiled in; the value is only checked to be defined
 *   0 only    the feature is not implemented; ucos_ii.h refuses a non-zero value
 * The driver port's own needs are checked with #error in os/ucos2/osal_ucos2.c.
 */
#ifndef OS_CFG_H
#define OS_CFG_H

/* ---- Miscellaneous ------------------------------------------------------------ kernel/ -- */
#ifndef OS_APP_HOOKS_EN
#define OS_APP_HOOKS_EN 0u /* port hooks call App_*Hook() (a CPU port feature)   0 only */
#endif
#ifndef OS_ARG_CHK_EN
#define OS_ARG_CHK_EN 1u /* check pointers, priorities, options; OS_ERR_* codes  impl */
#endif
#ifndef OS_CPU_HOOKS_EN
#define OS_CPU_HOOKS_EN 1u /* the CPU port supplies OS*Hook()                    accepted */
#endif
#ifndef OS_DEBUG_EN
#define OS_DEBUG_EN 0u /* OSDebugInit() and debug constants (os_dbg.c)            0 only */
#endif
#ifndef OS_EVENT_MULTI_EN
#define OS_EVENT_MULTI_EN 0u /* OSEventPendMulti()                                0 only */
#endif
#ifndef OS_EVENT_NAME_EN
#define OS_EVENT_NAME_EN 1u /* names on semaphores, mutexes, queues               accepted */
#endif
#ifndef OS_LOWEST_PRIO
#define OS_LOWEST_PRIO 63u /* idle task's priority, stat at one above; 3..63 here   impl */
#endif
#ifndef OS_MAX_EVENTS
#define OS_MAX_EVENTS 32u /* semaphores + mutexes + queues (+ mailboxes) at once   impl */
#endif
#ifndef OS_MAX_FLAGS
#define OS_MAX_FLAGS 5u /* event flag groups (only with OS_FLAG_EN)                unused */
#endif
#ifndef OS_MAX_MEM_PART
#define OS_MAX_MEM_PART 5u /* memory partitions (only with OS_MEM_EN)              unused */
#endif
#ifndef OS_MAX_QS
#define OS_MAX_QS 8u /* message queues; each also takes one event                  impl */
#endif
#ifndef OS_MAX_TASKS
#define OS_MAX_TASKS 20u /* application tasks; idle and stat come on top           impl */
#endif
#ifndef OS_SCHED_LOCK_EN
#define OS_SCHED_LOCK_EN 1u /* OSSchedLock()/OSSchedUnlock(): the driver's osal_lock  accepted */
#endif
#ifndef OS_TICK_STEP_EN
#define OS_TICK_STEP_EN 0u /* single-stepping ticks from uC/OS-View                0 only */
#endif
#ifndef OS_TICKS_PER_SEC
#define OS_TICKS_PER_SEC 1000u /* tick rate the board programs; 10..10000 here      impl */
#endif
#ifndef OS_TLS_TBL_SIZE
#define OS_TLS_TBL_SIZE 0u /* thread-local storage slots (needs a toolchain os_tls.c)  0 only */
#endif

/* ---- Kernel task stacks, in OS_STK entries ------------------------------------------------
 * Sized for a real CPU port, where the idle hook, the statistics task's stack walk and (with
 * OS_CPU_HOOKS_EN) the port's hooks run on these stacks: 512 entries is 2 KiB with a 32-bit
 * OS_STK and 4 KiB with a 64-bit one. Interrupts must not run on them unless the port says so
 * (the x86_64 board uses its own interrupt stack). */
#ifndef OS_TASK_TMR_STK_SIZE
#define OS_TASK_TMR_STK_SIZE 512u /* timer task (only with OS_TMR_EN)              unused */
#endif
#ifndef OS_TASK_STAT_STK_SIZE
#define OS_TASK_STAT_STK_SIZE 512u /* statistics task                              impl */
#endif
#ifndef OS_TASK_IDLE_STK_SIZE
#define OS_TASK_IDLE_STK_SIZE 512u /* idle task                                    impl */
#endif

/* ---- Task management ---------------------------------------------------------------------- */
#ifndef OS_TASK_CHANGE_PRIO_EN
#define OS_TASK_CHANGE_PRIO_EN 0u /* OSTaskChangePrio()                           0 only */
#endif
#ifndef OS_TASK_CREATE_EN
#define OS_TASK_CREATE_EN 1u /* OSTaskCreate()                                     accepted */
#endif
#ifndef OS_TASK_CREATE_EXT_EN
#define OS_TASK_CREATE_EXT_EN 1u /* OSTaskCreateExt(): the driver's tasks          accepted */
#endif
#ifndef OS_TASK_DEL_EN
#define OS_TASK_DEL_EN 1u /* OSTaskDel(): a finished driver task deletes itself    impl */
#endif
#ifndef OS_TASK_NAME_EN
#define OS_TASK_NAME_EN 1u /* OSTaskNameSet()/Get(): the name pointer is kept      accepted */
#endif
#ifndef OS_TASK_PROFILE_EN
#define OS_TASK_PROFILE_EN 0u /* per-task run-time profiling fields in OS_TCB      0 only */
#endif
#ifndef OS_TASK_QUERY_EN
#define OS_TASK_QUERY_EN 1u /* OSTaskQuery(): osal_task_join() waits on it         accepted */
#endif
#ifndef OS_TASK_REG_TBL_SIZE
#define OS_TASK_REG_TBL_SIZE 0u /* task-specific registers (OSTaskRegGet/Set)      0 only */
#endif
#ifndef OS_TASK_STAT_EN
#define OS_TASK_STAT_EN 1u /* statistics task computing OSCPUUsage                 impl */
#endif
#ifndef OS_TASK_STAT_STK_CHK_EN
#define OS_TASK_STAT_STK_CHK_EN 1u /* stat task checks every task's stack          impl */
#endif
#ifndef OS_TASK_SUSPEND_EN
#define OS_TASK_SUSPEND_EN 1u /* OSTaskSuspend()/OSTaskResume()                    impl */
#endif
#ifndef OS_TASK_SW_HOOK_EN
#define OS_TASK_SW_HOOK_EN 1u /* OSTaskSwHook() on every switch                    accepted */
#endif

/* ---- Event flags (not used by the driver) ------------------------------------------------- */
#ifndef OS_FLAG_EN
#define OS_FLAG_EN 0u /* event flag services                                       0 only */
#endif
#ifndef OS_FLAG_WAIT_CLR_EN
#define OS_FLAG_WAIT_CLR_EN 1u /* wait for flags to clear                          unused */
#endif
#ifndef OS_FLAG_ACCEPT_EN
#define OS_FLAG_ACCEPT_EN 1u /* OSFlagAccept()                                     unused */
#endif
#ifndef OS_FLAG_DEL_EN
#define OS_FLAG_DEL_EN 1u /* OSFlagDel()                                           unused */
#endif
#ifndef OS_FLAG_NAME_EN
#define OS_FLAG_NAME_EN 1u /* flag group names                                     unused */
#endif
#ifndef OS_FLAG_QUERY_EN
#define OS_FLAG_QUERY_EN 1u /* OSFlagQuery()                                       unused */
#endif
#ifndef OS_FLAGS_NBITS
#define OS_FLAGS_NBITS 16u /* bits in OS_FLAGS: 8, 16 or 32                        unused */
#endif

/* ---- Mailboxes (not used by the driver) --------------------------------------------------- */
#ifndef OS_MBOX_EN
#define OS_MBOX_EN 0u /* mailbox services                                          0 only */
#endif
#ifndef OS_MBOX_ACCEPT_EN
#define OS_MBOX_ACCEPT_EN 1u /* OSMboxAccept()                                     unused */
#endif
#ifndef OS_MBOX_DEL_EN
#define OS_MBOX_DEL_EN 1u /* OSMboxDel()                                           unused */
#endif
#ifndef OS_MBOX_PEND_ABORT_EN
#define OS_MBOX_PEND_ABORT_EN 1u /* OSMboxPendAbort()                              unused */
#endif
#ifndef OS_MBOX_POST_EN
#define OS_MBOX_POST_EN 1u /* OSMboxPost()                                         unused */
#endif
#ifndef OS_MBOX_POST_OPT_EN
#define OS_MBOX_POST_OPT_EN 1u /* OSMboxPostOpt()                                  unused */
#endif
#ifndef OS_MBOX_QUERY_EN
#define OS_MBOX_QUERY_EN 1u /* OSMboxQuery()                                       unused */
#endif

/* ---- Memory partitions (not used: the driver's port has its own heap) --------------------- */
#ifndef OS_MEM_EN
#define OS_MEM_EN 0u /* memory partition services                                  0 only */
#endif
#ifndef OS_MEM_NAME_EN
#define OS_MEM_NAME_EN 1u /* partition names                                       unused */
#endif
#ifndef OS_MEM_QUERY_EN
#define OS_MEM_QUERY_EN 1u /* OSMemQuery()                                         unused */
#endif

/* ---- Mutual exclusion semaphores ---------------------------------------------------------- */
#ifndef OS_MUTEX_EN
#define OS_MUTEX_EN 1u /* mutexes with priority ceiling (applications; not the driver) impl */
#endif
#ifndef OS_MUTEX_ACCEPT_EN
#define OS_MUTEX_ACCEPT_EN 1u /* OSMutexAccept()                                   accepted */
#endif
#ifndef OS_MUTEX_DEL_EN
#define OS_MUTEX_DEL_EN 1u /* OSMutexDel()                                         accepted */
#endif
#ifndef OS_MUTEX_QUERY_EN
#define OS_MUTEX_QUERY_EN 1u /* OSMutexQuery()                                     accepted */
#endif

/* ---- Message queues ----------------------------------------------------------------------- */
#ifndef OS_Q_EN
#define OS_Q_EN 1u /* message queues (applications; not the driver)                impl */
#endif
#ifndef OS_Q_ACCEPT_EN
#define OS_Q_ACCEPT_EN 1u /* OSQAccept()                                           accepted */
#endif
#ifndef OS_Q_DEL_EN
#define OS_Q_DEL_EN 1u /* OSQDel()                                                 accepted */
#endif
#ifndef OS_Q_FLUSH_EN
#define OS_Q_FLUSH_EN 1u /* OSQFlush()                                             accepted */
#endif
#ifndef OS_Q_PEND_ABORT_EN
#define OS_Q_PEND_ABORT_EN 1u /* OSQPendAbort()                                    accepted */
#endif
#ifndef OS_Q_POST_EN
#define OS_Q_POST_EN 1u /* OSQPost()                                               accepted */
#endif
#ifndef OS_Q_POST_FRONT_EN
#define OS_Q_POST_FRONT_EN 1u /* OSQPostFront()                                    accepted */
#endif
#ifndef OS_Q_POST_OPT_EN
#define OS_Q_POST_OPT_EN 1u /* OSQPostOpt()                                        accepted */
#endif
#ifndef OS_Q_QUERY_EN
#define OS_Q_QUERY_EN 1u /* OSQQuery()                                             accepted */
#endif

/* ---- Semaphores (the driver's RX wake-up and task join) ----------------------------------- */
#ifndef OS_SEM_EN
#define OS_SEM_EN 1u /* counting semaphores: required by os/ucos2                  impl */
#endif
#ifndef OS_SEM_ACCEPT_EN
#define OS_SEM_ACCEPT_EN 1u /* OSSemAccept()                                       accepted */
#endif
#ifndef OS_SEM_DEL_EN
#define OS_SEM_DEL_EN 1u /* OSSemDel(): required by os/ucos2                       accepted */
#endif
#ifndef OS_SEM_PEND_ABORT_EN
#define OS_SEM_PEND_ABORT_EN 1u /* OSSemPendAbort()                                accepted */
#endif
#ifndef OS_SEM_QUERY_EN
#define OS_SEM_QUERY_EN 1u /* OSSemQuery()                                         accepted */
#endif
#ifndef OS_SEM_SET_EN
#define OS_SEM_SET_EN 1u /* OSSemSet()                                             accepted */
#endif

/* ---- Time management ---------------------------------------------------------------------- */
#ifndef OS_TIME_DLY_HMSM_EN
#define OS_TIME_DLY_HMSM_EN 1u /* OSTimeDlyHMSM()                                  impl */
#endif
#ifndef OS_TIME_DLY_RESUME_EN
#define OS_TIME_DLY_RESUME_EN 1u /* OSTimeDlyResume()                              accepted */
#endif
#ifndef OS_TIME_GET_SET_EN
#define OS_TIME_GET_SET_EN 1u /* OSTimeGet()/OSTimeSet()                           accepted */
#endif
#ifndef OS_TIME_TICK_HOOK_EN
#define OS_TIME_TICK_HOOK_EN 1u /* OSTimeTickHook() on every tick                  accepted */
#endif

/* ---- Timers (not used by the driver; the real kernel needs OS_TASK_TMR_PRIO in app_cfg.h
 * when they are on) ------------------------------------------------------------------------- */
#ifndef OS_TMR_EN
#define OS_TMR_EN 0u /* software timers and their task                             0 only */
#endif
#ifndef OS_TMR_CFG_MAX
#define OS_TMR_CFG_MAX 16u /* timers, 2..65500                                     unused */
#endif
#ifndef OS_TMR_CFG_WHEEL_SIZE
#define OS_TMR_CFG_WHEEL_SIZE 7u /* timer wheel spokes, 2..1024                    unused */
#endif
#ifndef OS_TMR_CFG_NAME_EN
#define OS_TMR_CFG_NAME_EN 1u /* timer names                                       unused */
#endif
#ifndef OS_TMR_CFG_TICKS_PER_SEC
#define OS_TMR_CFG_TICKS_PER_SEC 10u /* timer task rate, Hz                        unused */
#endif

/* ---- Trace recorder hooks (os_trace.h of the real kernel) --------------------------------- */
#ifndef OS_TRACE_EN
#define OS_TRACE_EN 0u /* trace recorder calls (needs a recorder port)             0 only */
#endif
#ifndef OS_TRACE_API_ENTER_EN
#define OS_TRACE_API_ENTER_EN 0u /* trace API entry                                0 only */
#endif
#ifndef OS_TRACE_API_EXIT_EN
#define OS_TRACE_API_EXIT_EN 0u /* trace API exit                                  0 only */
#endif

#endif /* OS_CFG_H */
