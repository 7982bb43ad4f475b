/*
 * Test-only extensions of the POSIX port: simulated interrupts, DMA address translation
 * for the simulated device, leak counters for test teardown, allocation fault injection.
 *
 * Interrupt model (a uniprocessor with interrupts masked by critical sections):
 *   - osal_posix_irq_raise(irq) runs the attached ISR on the raising thread, in ISR
 *     context (osal_in_isr() true), holding the global critical-section lock. So an ISR
 *     never overlaps a task's osal_crit_enter()/exit() region, while task code outside
 *     critical sections runs truly in parallel with it.
 *   - If the raising thread is itself inside a critical section or an ISR (e.g. a driver
 *     notify made the simulated device complete synchronously), the interrupt is latched
 *     and delivered when that thread leaves its outermost critical section / the ISR
 *     returns, as an interrupt controller would on unmasking.
 *   - A raise while the ISR of the same irq is running is latched and the ISR re-run once
 *     (edge-triggered MSI semantics: raises coalesce, none is lost).
 *   - A masked irq latches raises and delivers one on unmask.
 * Never raise an interrupt while holding a lock that an ISR may take (the simulated
 * device drops its own lock first).
 */
#ifndef VNET_OSAL_POSIX_H
#define VNET_OSAL_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "osal.h"

#define OSAL_POSIX_MAX_IRQ 64u

/* Attach/detach an ISR. attach: VNET_OK, VNET_E_INVAL (irq range, NULL isr), VNET_E_BUSY
 * (already attached). detach waits until a running ISR of that irq has returned. */
vnet_err_t osal_posix_irq_attach(unsigned irq, void (*isr)(void *arg), void *arg);
void osal_posix_irq_detach(unsigned irq);
/* Raise an interrupt (see the model above). Raising an unattached irq counts it as
 * spurious and does nothing else. */
void osal_posix_irq_raise(unsigned irq);
void osal_posix_irq_mask(unsigned irq);
void osal_posix_irq_unmask(unsigned irq);
/* ISR invocations of `irq` so far, and raises of unattached irqs (all irqs). */
uint64_t osal_posix_irq_count(unsigned irq);
uint64_t osal_posix_irq_spurious(void);

/*
 * Translate a device (DMA) address back to the CPU pointer, for the simulated device.
 * NULL when [dma_addr, dma_addr + len) is not inside one live osal_dma_alloc() block:
 * the caller must treat that as a driver bug (programmed a CPU pointer, a freed buffer,
 * or a length beyond the allocation). len 0 is checked as len 1.
 */
void *osal_posix_dma_ptr(uint64_t dma_addr, size_t len);

/*
 * Simulated non-coherent DMA for osal_dma_buf_alloc() blocks allocated while it is on
 * (coherent osal_dma_alloc() blocks, the rings, are never affected). Each such block has
 * a CPU view (the pointer the driver gets) and a device view (what osal_posix_dma_ptr
 * returns), the device view starting poisoned (0xdb); osal_dma_sync_for_device() copies
 * the lines of a range CPU -> device and marks them device-owned, osal_dma_sync_for_cpu()
 * copies device -> CPU and marks them CPU-owned, in 64-byte lines. A sync of a range
 * outside every buffer block aborts. Turn it on before the driver allocates and off
 * after it freed; switching resets the violation count.
 */
void osal_posix_dma_noncoherent(bool on);
/* Device accesses (osal_posix_dma_ptr calls) that reached a line of a non-coherent buffer
 * block not handed to the device with osal_dma_sync_for_device() since the CPU last took
 * it back: a missing or misplaced sync. The first few are printed. */
uint64_t osal_posix_dma_sync_violations(void);

/* Live allocations (count) and their bytes, for leak checks in every test teardown. */
size_t osal_posix_dma_outstanding(void);
size_t osal_posix_dma_outstanding_bytes(void);
size_t osal_posix_mem_outstanding(void);
size_t osal_posix_mem_outstanding_bytes(void);

/*
 * Fault injection: make the n-th next allocation (osal_dma_alloc or osal_mem_alloc,
 * counted together; n = 1 is the very next one) return NULL, once. n = 0 disarms.
 * Returns whether the armed failure fired since the last arming (for loops that step n
 * until initialisation succeeds).
 */
void osal_posix_fail_alloc_after(unsigned n);
bool osal_posix_fail_alloc_fired(void);

/* Reseed osal_random32() for reproducible tests. */
void osal_posix_seed_random(uint32_t seed);

/* Messages passed to osal_log() so far (tests that expect a diagnostic check it). */
uint64_t osal_posix_log_count(void);
/* Silence osal_log() output (still counted), e.g. in fuzzing. */
void osal_posix_log_quiet(bool quiet);

#endif /* VNET_OSAL_POSIX_H */
