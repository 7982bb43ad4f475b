/*
 * app_cfg.h - application configuration of the ucos2-minimal example (Micrium convention:
 * task priorities and stack sizes live here; uC/OS-II's own options in os_cfg.h, which
 * this example takes unchanged from vnet-rtos's os/ucos2/cfg/os_cfg.h).
 */
#ifndef APP_CFG_H
#define APP_CFG_H

/* Task priorities (lower number = more urgent, each unique). The driver's RX task must be
 * more urgent than whatever consumes its frames, so that its software ring drains. */
#define APP_CFG_TASK_START_PRIO  4u
#define APP_CFG_TASK_NIC_RX_PRIO 10u

/* Stack sizes in OS_STK entries. The RX task runs the receive callback: size it for the
 * driver (docs/porting.md, "Memory") plus what your callback needs. */
#define APP_CFG_TASK_START_STK_SIZE  1024u
#define APP_CFG_TASK_NIC_RX_STK_SIZE 1024u

/* Driver memory: rings, RX/TX buffers and the software ring of one NIC come from this
 * region (osal_ucos2_heap_init). It must be memory the device can DMA to. With the driver
 * defaults and QEMU's 256-entry queues one NIC takes about 930 KB (docs/porting.md). */
#define APP_CFG_NIC_HEAP_SIZE (1024u * 1024u)

/* Software RX ring entries (power of two; 0 = driver default 64). */
#define APP_CFG_NIC_RX_SW_RING 0u

#endif /* APP_CFG_H */
