/*
 * vnet-rtos OS abstraction contract.
 *
 * The driver library reaches the operating system only through these calls. Each OS has
 * one port directory (os/ucos2/ for uC/OS-II, os/posix/ for host tests) providing
 * `osal_port.h` (the storage types below and any inline fast paths) and the function
 * bodies; the build picks the port by include path. Driver code never uses #ifdef on
 * the OS.
 *
 * Context legend for each call:
 *   [task]  only from task context; may block unless stated.
 *   [ISR]   also safe from interrupt context; never blocks.
 *
 * "Interrupt context" is whatever the board runs device interrupt handlers in. The
 * critical section excludes it: code between osal_crit_enter() and osal_crit_exit()
 * never runs at the same time as a device ISR on the same CPU.
 */
#ifndef VNET_OSAL_H
#define VNET_OSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vnet/vnet_err.h"

/*
 * osal_port.h must define:
 *   osal_crit_t   saved interrupt state for nested critical sections
 *   osal_sem_t    a counting semaphore object (storage owned by the caller)
 *   osal_lock_t   a task-level mutual-exclusion object
 *   osal_task_t   a task handle
 *   osal_device_mb()  a function, static inline function or macro, see below
 */
#include "osal_port.h"

/* --- critical sections -------------------------------------------------------------- */

/* [ISR] Enter a critical section that excludes device ISRs (uC/OS-II: OS_ENTER_CRITICAL()
 * with OS_CRITICAL_METHOD 3). Nestable: returns the state to restore. Keep it short. */
osal_crit_t osal_crit_enter(void);
/* [ISR] Leave the critical section entered by the matching osal_crit_enter(). */
void osal_crit_exit(osal_crit_t saved);

/* [ISR] True when called from interrupt context. */
bool osal_in_isr(void);
/* [task] An identifier of the calling task, distinct between live tasks (the driver uses
 * it to refuse control calls from its own RX task's callbacks). */
uintptr_t osal_task_self(void);

/* --- semaphores -------------------------------------------------------------------- */

/* [task] Initialise a counting semaphore with `initial` tokens. VNET_OK or VNET_E_OS. */
vnet_err_t osal_sem_init(osal_sem_t *sem, unsigned initial);
/* [task] Destroy a semaphore nobody waits on. */
void osal_sem_destroy(osal_sem_t *sem);
/* [task, blocks] Take a token, waiting at most timeout_ms (0 = forever).
 * VNET_OK, VNET_E_TIMEOUT, VNET_E_ISR (called from an ISR), VNET_E_OS. */
vnet_err_t osal_sem_wait(osal_sem_t *sem, uint32_t timeout_ms);
/* [ISR] Give a token; from an ISR the woken task runs at interrupt exit if it is the most
 * urgent. VNET_OK or VNET_E_OS (count overflow: the caller must prevent it). */
vnet_err_t osal_sem_post(osal_sem_t *sem);

/* --- task-level lock ---------------------------------------------------------------- */

/* [task] A short mutual-exclusion region between tasks (never taken in an ISR). The
 * uC/OS-II port may implement it by locking the scheduler. */
vnet_err_t osal_lock_init(osal_lock_t *lock);
void osal_lock_destroy(osal_lock_t *lock);
void osal_lock_acquire(osal_lock_t *lock);
void osal_lock_release(osal_lock_t *lock);

/* --- tasks ------------------------------------------------------------------------- */

struct osal_task_params {
    const char *name;
    void (*entry)(void *arg); /* returns when the task should end */
    void *arg;
    unsigned prio;      /* OS numbering (uC/OS-II: lower = more urgent, unique) */
    void *stack;        /* may be NULL: the port allocates */
    size_t stack_bytes; /* 0: port default */
};

/* [task] Create and start a task. VNET_OK, VNET_E_INVAL, VNET_E_NOMEM, VNET_E_OS (e.g. the
 * priority is taken). */
vnet_err_t osal_task_create(osal_task_t *task, const struct osal_task_params *params);
/* [task, blocks] Wait until the task's entry function has returned, then release what the
 * port allocated for it. */
vnet_err_t osal_task_join(osal_task_t *task);

/* [task, blocks] Sleep at least `ms` milliseconds (used for bounded device polls). */
void osal_sleep_ms(uint32_t ms);
/* [ISR] Busy-wait at least `us` microseconds. */
void osal_delay_us(uint32_t us);

/* --- memory ------------------------------------------------------------------------ */

/* [task] Driver-private memory (not shared with the device). NULL on failure. */
void *osal_mem_alloc(size_t size);
void osal_mem_free(void *ptr);

/*
 * [task] Memory the device reads/writes (rings, buffers): zeroed, aligned to `align`
 * (a power of two, at most 4096), coherent with the device. *dma_addr receives the
 * address to program into the device, which need not equal the CPU pointer (the host
 * tests deliberately make them differ). NULL on failure.
 */
void *osal_dma_alloc(size_t size, size_t align, uint64_t *dma_addr);
void osal_dma_free(void *ptr, size_t size);

/* --- time and randomness ----------------------------------------------------------- */

/* [ISR] Free-running cycle counter for statistics (TSC on x86). Monotonic per CPU. */
uint64_t osal_cycles(void);

/*
 * [ISR] osal_device_mb(), provided by osal_port.h (so that a platform without one pays
 * nothing: an empty static inline): the platform part of the driver's device full barrier
 * (vnet_mb() in src/virtio/virtio_barrier.h), run right after the CPU's own full barrier.
 * Must make every store issued before it visible to the device before any load issued
 * after it. Empty where the CPU barrier reaches the device (hardware, KVM, the POSIX host
 * tests). Not empty under an emulator that drops guest barriers: QEMU's TCG before 8.1
 * with one vCPU translates `mfence` and locked instructions into plain host operations,
 * while its I/O thread walks the rings concurrently (docs/virtqueue.md, "Barriers under
 * TCG"). The uC/OS-II port leaves the choice to the board's build (osal_ucos2_board.h).
 */
/* [ISR] 32 random bits, good enough for a locally administered MAC (not crypto). */
uint32_t osal_random32(void);

/* [ISR] Diagnostic output (one line, no newline needed). May be a no-op. */
void osal_log(const char *msg);

#endif /* VNET_OSAL_H */
