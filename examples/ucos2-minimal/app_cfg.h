/*
 * app_cfg.h - application configuration of the ucos2-minimal example: vnet-rtos's template
 * os/ucos2/cfg/app_cfg.h with one NIC, plus the example's own settings at the end. os_cfg.h
 * is os/ucos2/cfg/os_cfg.h, unchanged.
 *
 * Micrium's ucos_ii.h includes this file before os_cfg.h: no OS types here, sizes in
 * OS_STK entries.
 */
#ifndef APP_CFG_H
#define APP_CFG_H

/* ---- Task priorities (lower number = more urgent, each unique) ---- */
#define APP_CFG_STARTUP_TASK_PRIO 4u
/* The driver's receive task: more urgent than whatever consumes its frames. */
#define APP_CFG_VNET_RX_TASK_PRIO_NIC0 10u
/* Timer task of the real kernel (read only when OS_TMR_EN is on). */
#define OS_TASK_TMR_PRIO (OS_LOWEST_PRIO - 2u)

/* ---- Task stack sizes, in OS_STK entries ---- */
#define APP_CFG_STARTUP_TASK_STK_SIZE 1024u
/* The receive task runs the receive callback: the driver's own frames need under 1 KiB
 * (docs/porting.md, "Memory per NIC"), the rest is for your callback. */
#define APP_CFG_VNET_RX_TASK_STK_SIZE 1024u

/* ---- The example's NIC ---- */
/* Driver memory: rings, RX/TX buffers and the software ring of one NIC come from this
 * region (osal_ucos2_heap_init); memory the device can DMA to. With the driver defaults and
 * QEMU's 256-entry queues one NIC asks for about 930 KB (docs/porting.md). */
#define APP_CFG_VNET_HEAP_SIZE (1024u * 1024u)
/* Software RX ring entries (power of two; 0 = the driver's default, 64). */
#define APP_CFG_VNET_RX_SW_RING 0u

#endif /* APP_CFG_H */
