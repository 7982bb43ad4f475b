/*
 * app_cfg.h - application configuration template for a uC/OS-II product using the vnet-rtos
 * driver, in Micrium's convention: task priorities and stack sizes in one place. A product
 * copies it next to its os_cfg.h and edits the values.
 *
 * Micrium's uC/OS-II V2.93 includes this file from ucos_ii.h before os_cfg.h, so it must not
 * include ucos_ii.h or use OS types; sizes are therefore in OS_STK entries and the code that
 * creates a task multiplies by sizeof(OS_STK). It may pre-define any os_cfg.h option (for
 * example OS_TASK_IDLE_STK_SIZE): os/ucos2/cfg/os_cfg.h keeps values defined before it. This
 * project's kernel does not include app_cfg.h; its applications include it themselves.
 *
 * Priorities: lower number = more urgent; each task needs its own; 0..OS_LOWEST_PRIO - 2 are
 * free for applications (OS_LOWEST_PRIO is the idle task, OS_LOWEST_PRIO - 1 the statistics
 * task, OS_LOWEST_PRIO - 2 the timer task when OS_TMR_EN is on). The driver's port refuses a
 * priority outside 0..OS_LOWEST_PRIO - 1 with VNET_E_INVAL.
 */
#ifndef APP_CFG_H
#define APP_CFG_H

/* ---- Task priorities ---------------------------------------------------------------------- */
/* First task: OSStatInit(), board and driver start-up, then creates the others. */
#define APP_CFG_STARTUP_TASK_PRIO 4u
/* One receive task per NIC (virtio_net_config.rx_task_prio). It runs the network stack's input
 * for every frame, so it must be more urgent than the tasks that consume the traffic and less
 * urgent than anything with a hard deadline shorter than one receive batch (rx_budget frames). */
#define APP_CFG_VNET_RX_TASK_PRIO_NIC0 10u
#define APP_CFG_VNET_RX_TASK_PRIO_NIC1 11u
/* Timer task of the real kernel (read only when OS_TMR_EN is on). */
#define OS_TASK_TMR_PRIO (OS_LOWEST_PRIO - 2u)

/* ---- Task stack sizes, in OS_STK entries -------------------------------------------------- */
#define APP_CFG_STARTUP_TASK_STK_SIZE 1024u
/* Receive task (virtio_net_config.rx_task_stack_bytes = size * sizeof(OS_STK)). 1024 entries
 * equals the port's default of 8 KiB with a 64-bit OS_STK; the driver's own frames need far
 * less, the rest is for the receive callback (the network stack's input path). */
#define APP_CFG_VNET_RX_TASK_STK_SIZE 1024u

#endif /* APP_CFG_H */
