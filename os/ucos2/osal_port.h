/*
 * uC/OS-II port of the vnet-rtos OS contract (os/osal.h): storage types and board hooks.
 *
 * Written against the uC/OS-II 2.9x API (ucos_ii.h from Micrium, or this project's kernel/).
 * Requirements on the kernel configuration are checked with #error in osal_ucos2.c.
 *
 * Board contract:
 *   - call osal_ucos2_heap_init() once, before any driver call, with a region the device
 *     may access; it serves osal_dma_alloc(), osal_dma_buf_alloc() and osal_mem_alloc();
 *     a board whose DMA is not coherent also calls osal_ucos2_dma_heap_init() with an
 *     uncached region for the rings (osal_ucos2_board.h);
 *   - implement the hooks of osal_ucos2_board.h (cycle counter and its rate; DMA address
 *     translation and cache maintenance; the device barrier, when the board's build
 *     selects one);
 *   - optionally set osal_ucos2_log to a console writer.
 */
#ifndef VNET_OSAL_PORT_UCOS2_H
#define VNET_OSAL_PORT_UCOS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ucos_ii.h"
#include "vnet/vnet_err.h"

typedef OS_CPU_SR osal_crit_t;

typedef struct {
    OS_EVENT *ev;
} osal_sem_t;

/* Scheduler lock: excludes other tasks, not ISRs (the contract never takes it in an ISR).
 * The holder must not block: uC/OS-II does not switch while the scheduler is locked. */
typedef struct {
    INT8U depth_at_acquire; /* diagnostics only */
} osal_lock_t;

/* Task priorities osal_task_create() accepts: 0..OSAL_UCOS2_PRIO_MAX. The ones above belong
 * to the kernel's own tasks (idle at OS_LOWEST_PRIO, statistics at OS_LOWEST_PRIO - 1 when
 * OS_TASK_STAT_EN) and are refused with VNET_E_INVAL; a priority another task already holds
 * (e.g. the real kernel's timer task, OS_TASK_TMR_PRIO) is refused by the kernel: VNET_E_OS. */
#define OSAL_UCOS2_PRIO_MAX (OS_LOWEST_PRIO - OS_N_SYS_TASKS)

/* Task names are copied into the task (OSTaskNameSet() keeps the pointer it is given, so the
 * caller's string need not outlive the call); longer names are cut. */
#define OSAL_UCOS2_NAME_LEN 16u

/* Owned by the caller from osal_task_create() until osal_task_join() returns: the kernel
 * keeps pointers into it (the task's argument and its name). */
typedef struct {
    void (*entry)(void *arg);
    void *arg;
    OS_EVENT *done;  /* posted by the wrapper when entry returned */
    OS_STK *stk_mem; /* port-allocated stack, or NULL */
    INT8U prio;
    bool created;
    char name[OSAL_UCOS2_NAME_LEN];
} osal_task_t;

/* The board's side of the port (hooks, osal_device_mb). */
#include "osal_ucos2_board.h"

/* Log sink for osal_log(); NULL discards. Must be callable from an ISR. */
extern void (*osal_ucos2_log)(const char *msg);

/* Default RX task stack when the caller passes none (bytes). */
#define OSAL_UCOS2_DEFAULT_STACK_BYTES 8192u

/*
 * Hand the port the memory region for osal_mem_alloc/osal_dma_alloc (first fit, freed
 * blocks coalesce with their neighbours). Call once before OSStart or from the first
 * task. VNET_OK, VNET_E_INVAL (NULL or smaller than a few blocks).
 */
vnet_err_t osal_ucos2_heap_init(void *base, size_t len);

/*
 * Optional, for a board whose DMA is not cache-coherent: a second region, which the board
 * maps uncached (Normal Non-cacheable on Arm), serving osal_dma_alloc() (the rings, which
 * os/osal.h requires coherent). The main heap then stays cached for driver memory and
 * packet buffers, whose hand-overs the driver syncs. Without it osal_dma_alloc() uses the
 * main heap (right on a coherent board). Call once, before any driver call, after
 * osal_ucos2_heap_init(). VNET_OK, VNET_E_INVAL.
 */
vnet_err_t osal_ucos2_dma_heap_init(void *base, size_t len);

struct osal_ucos2_heap_stats {
    size_t total;      /* bytes managed, headers included */
    size_t free_bytes; /* in free blocks, headers included */
    size_t largest;    /* largest free block */
    unsigned free_blocks;
    unsigned used_blocks;
};
/* Snapshot for tests and shells, of the main heap / of the coherent region (all zero
 * when none was given). Task. */
void osal_ucos2_heap_get_stats(struct osal_ucos2_heap_stats *out);
void osal_ucos2_dma_heap_get_stats(struct osal_ucos2_heap_stats *out);

#endif /* VNET_OSAL_PORT_UCOS2_H */
