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
 * never runs at the same time as a device ISR, nor as another task's critical section.
 *
 * SMP: "never at the same time" means on any CPU. Masking interrupts on the local CPU
 * (uC/OS-II's OS_ENTER_CRITICAL, DAIF/cli) is enough only when the device's ISR and every
 * task calling the driver run on that one CPU. If the ISR can be taken on another core,
 * the port must also take one spinlock (interrupts masked first, then the lock; nesting
 * counted per CPU, the lock taken only at the outermost level), or the board must route
 * the device interrupt to the core the RX task and the senders are pinned to. What the
 * driver keeps consistent this way (src/net/virtio_net_priv.h, fields marked "crit"):
 * dev->state, the RX task hand-off flags (task_scheduled, task_active, task_stop,
 * link_event: who owns the RX queue, docs/rx-handshake.md), the TX space event
 * (tx.space_armed, tx.waiters, and the TX ring's event word they go with,
 * docs/tx-handshake.md), rx.notify_pending, dev->stats and the RX task's identity. The
 * software ring between the queue's owner and the RX task needs no critical section: it
 * is a single-producer single-consumer ring ordered by the SMP barriers of
 * src/virtio/virtio_barrier.h. The POSIX port's critical section is one global lock,
 * ISRs included, i.e. the SMP-correct form.
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
 * DMA memory comes in two kinds, as in Linux (dma_alloc_coherent for rings, streaming
 * mappings synced with dma_sync_single_for_{device,cpu} for packet buffers):
 *
 *   coherent  osal_dma_alloc(): the rings. CPU and device see each other's writes with
 *             no cache maintenance, only the barriers of src/virtio/virtio_barrier.h. On
 *             a board whose DMA does not snoop the CPU caches the port must hand out
 *             memory mapped uncached (or otherwise coherent) here. The driver never syncs
 *             ring memory.
 *   buffers   osal_dma_buf_alloc(): packet buffers. May be ordinary cached memory: the
 *             CPU and the device agree on its bytes only across osal_dma_sync_for_device()
 *             and osal_dma_sync_for_cpu(), which the driver calls on every hand-over.
 *
 * Both give a device (bus) address in *dma_addr, which need not equal the CPU pointer
 * (the host tests deliberately make them differ; a real board may have an offset DMA
 * window or an IOMMU). The driver programs into the device only addresses derived from
 * *dma_addr (base + offset inside the block): the block must be contiguous for the
 * device. Size ≥ 1, `align` a power of two ≤ 4096; NULL on failure.
 */

/* [task] Coherent memory (rings): zeroed, aligned, coherent with the device. */
void *osal_dma_alloc(size_t size, size_t align, uint64_t *dma_addr);
/* [task] Free an osal_dma_alloc() block; `size` as allocated. */
void osal_dma_free(void *ptr, size_t size);

/* [task] Buffer memory (packet buffers): aligned, possibly cached, contents unspecified.
 * Buffers handed to the device separately should not share a cache line: the driver
 * aligns each to 64 bytes (see osal_dma_sync_for_cpu for larger lines). */
void *osal_dma_buf_alloc(size_t size, size_t align, uint64_t *dma_addr);
/* [task] Free an osal_dma_buf_alloc() block; `size` as allocated. */
void osal_dma_buf_free(void *ptr, size_t size);

/*
 * [ISR] Hand [cpu, cpu + len) of a buffer block to the device. Called after the CPU's
 * last write to it and before the descriptor that names it is made available: for a TX
 * frame after it was copied in, for an RX buffer before every (re)post. Afterwards the
 * device reads what the CPU wrote, and no dirty cache line of the range is written back
 * later over what the device writes. Non-coherent board: clean (write back) every cache
 * line the range touches to the point of coherency, then wait for completion (Armv8:
 * DC CVAC, or DC CIVAC, by line, then DSB). Coherent board (x86, both QEMU boards): nothing.
 */
void osal_dma_sync_for_device(const void *cpu, size_t len);
/*
 * [ISR] Take [cpu, cpu + len) of a buffer block back from the device after it wrote
 * there (an RX buffer the used ring returned, `len` the used length) and before the CPU
 * reads it. Afterwards CPU reads see the device's bytes, not lines the cache kept or
 * fetched speculatively while the device owned the buffer. Non-coherent board:
 * invalidate every cache line the range touches (Armv8: DC IVAC by line, DC CIVAC for a
 * line only partly inside the range, then DSB). Such a line is discarded whole: the
 * driver never stores to an RX buffer, so lines it shares with a neighbour (cache lines
 * above 64 bytes) hold nothing the CPU wrote. Coherent board: nothing. Never called for
 * TX buffers (the CPU does not read them back).
 */
void osal_dma_sync_for_cpu(const void *cpu, size_t len);

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
