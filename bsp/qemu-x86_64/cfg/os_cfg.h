/*
 * os_cfg.h - kernel configuration of the QEMU x86_64 board's images (the firmware build finds
 * it through VNET_OS_CFG_DIR): os/ucos2/cfg/os_cfg.h, which documents every option, with the
 * overrides below.
 */
#ifndef VNET_BSP_QEMU_X86_64_OS_CFG_H
#define VNET_BSP_QEMU_X86_64_OS_CFG_H

/* Larger idle and statistics stacks: interrupts run on the board's own stack, but the idle
 * hook and the statistics task's walk over every task's stack get room to spare (8 KiB each,
 * OS_STK being 64 bits here). */
#define OS_TASK_IDLE_STK_SIZE 1024u
#define OS_TASK_STAT_STK_SIZE 1024u

#include "../../../os/ucos2/cfg/os_cfg.h"

#endif /* VNET_BSP_QEMU_X86_64_OS_CFG_H */
