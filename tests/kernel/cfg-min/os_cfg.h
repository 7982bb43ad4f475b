/*
 * os_cfg.h - smallest configuration: 16 priorities, no statistics task, no argument checks,
 * semaphores only, no task deletion/suspension. Compiled (not run) by tests/kernel to keep
 * every configuration branch of the kernel building. Base: os/ucos2/cfg/os_cfg.h.
 */
#ifndef VNET_TESTS_KERNEL_MIN_OS_CFG_H
#define VNET_TESTS_KERNEL_MIN_OS_CFG_H

#define OS_LOWEST_PRIO 15u
#define OS_MAX_TASKS   8u
#define OS_MAX_QS      0u

#define OS_TASK_STAT_EN         0u
#define OS_TASK_STAT_STK_CHK_EN 0u

#define OS_ARG_CHK_EN 0u

#define OS_MUTEX_EN 0u
#define OS_Q_EN     0u

#define OS_TASK_DEL_EN      0u
#define OS_TASK_SUSPEND_EN  0u
#define OS_TIME_DLY_HMSM_EN 0u

#include "../../../os/ucos2/cfg/os_cfg.h"

#endif /* VNET_TESTS_KERNEL_MIN_OS_CFG_H */
