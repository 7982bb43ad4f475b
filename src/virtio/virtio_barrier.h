/*
 * Named memory barriers for the driver library — the only place they are defined.
 *
 * The device is another agent sharing memory with the CPU (a QEMU thread, a host CPU, or
 * the simulated device thread in host tests); the RX task and ISR may also run on
 * different CPUs in the POSIX port. Virtio's split ring requires (spec 2.7.13, 2.7.14):
 *   - descriptor/ring entries visible before the index that publishes them
 *       -> vnet_wmb() between writing avail ring entries and avail->idx;
 *   - the used index read before the used entries it covers
 *       -> vnet_rmb() between reading used->idx and used->ring[];
 *   - a store (avail->idx, or re-enabled notification flags/used_event) ordered before a
 *     later load (used->flags / avail_event, or used->idx for the re-check)
 *       -> vnet_mb(), the only barrier here that orders store->load against the device:
 *          the CPU's full barrier plus the platform's osal_device_mb() (os/osal.h), for
 *          emulators that do not turn the CPU barrier into a host barrier. That part is
 *          the board's choice, made by its build (the OS port provides it inline, empty
 *          unless the board selects one): no board-specific code here.
 * These are "weak" (SMP) barriers: the device is cache-coherent, as every virtio device
 * without VIRTIO_F_ORDER_PLATFORM is. Device register (MMIO/PIO) accesses are ordered
 * by the board's accessors.
 */
#ifndef VNET_VIRTIO_BARRIER_H
#define VNET_VIRTIO_BARRIER_H

#include "osal.h"

/* Compiler-only barrier: stops the compiler from moving memory accesses across it. */
#define vnet_barrier() __asm__ __volatile__("" ::: "memory")

#if defined(__x86_64__) || defined(__i386__)
/* x86 is TSO: loads are not reordered with loads, nor stores with stores, so read and
 * write barriers only need to stop the compiler. Store->load needs a locked op (cheaper
 * than mfence, same ordering for normal write-back memory). */
#define vnet_rmb() vnet_barrier()
#define vnet_wmb() vnet_barrier()
#if defined(__x86_64__)
#define vnet_cpu_mb() __asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")
#else
#define vnet_cpu_mb() __asm__ __volatile__("lock; addl $0,-4(%%esp)" ::: "memory", "cc")
#endif
#elif defined(__aarch64__)
/* Arm ARM (DDI0487) B2.3.12 / C6.2.81 DMB: the inner shareable domain holds every CPU and a
 * hypervisor's virtio device (a thread on a host CPU), which is what virtio without
 * VIRTIO_F_ORDER_PLATFORM promises (Linux's virt_*mb are the same dmb ish* barriers).
 * ishld orders earlier loads before later loads and stores; ishst orders stores before
 * stores; ish orders all accesses, store->load included. A device outside the inner
 * shareable domain (real SoC DMA masters) would need the osh forms, see docs/board-aarch64.md. */
#define vnet_rmb()    __asm__ __volatile__("dmb ishld" ::: "memory")
#define vnet_wmb()    __asm__ __volatile__("dmb ishst" ::: "memory")
#define vnet_cpu_mb() __asm__ __volatile__("dmb ish" ::: "memory")
#elif defined(__riscv)
/* RISC-V unprivileged ISA, FENCE (2.7) and the RVWMO model (appendix A): fence r,r orders
 * earlier loads before later loads, fence w,w stores before stores, fence rw,rw everything
 * (store->load included); the same instructions Linux uses for virt_rmb/virt_wmb/virt_mb. */
#define vnet_rmb()    __asm__ __volatile__("fence r,r" ::: "memory")
#define vnet_wmb()    __asm__ __volatile__("fence w,w" ::: "memory")
#define vnet_cpu_mb() __asm__ __volatile__("fence rw,rw" ::: "memory")
#elif defined(__arm__) && (defined(__ARM_ARCH_7A__) || defined(__ARM_ARCH_7R__) ||                 \
                           defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__))
#define vnet_rmb()    __asm__ __volatile__("dmb" ::: "memory")
#define vnet_wmb()    __asm__ __volatile__("dmb" ::: "memory")
#define vnet_cpu_mb() __asm__ __volatile__("dmb" ::: "memory")
#else
#error "virtio_barrier.h: define vnet_rmb/vnet_wmb/vnet_cpu_mb for this architecture"
#endif

/* Store->load against the device: CPU full barrier, then the platform's part. */
#define vnet_mb()                                                                                  \
    do {                                                                                           \
        vnet_cpu_mb();                                                                             \
        osal_device_mb();                                                                          \
    } while (0)

/*
 * CPU<->CPU publication between the ISR (writer) and the RX task (reader) of the software
 * ring. Same guarantees as above; separate names so a call site says which agent it
 * orders against.
 */
#define vnet_smp_wmb() vnet_wmb()
#define vnet_smp_rmb() vnet_rmb()
#define vnet_smp_mb()  vnet_cpu_mb() /* CPU<->CPU only: no device involved */

#if defined(__SANITIZE_THREAD__)
#define VNET_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VNET_TSAN 1
#endif
#endif

#ifdef VNET_TSAN
/*
 * ThreadSanitizer build (the concurrency stage of scripts/test.sh): TSan sees neither
 * volatile accesses as atomic nor the barriers above (inline assembly), so the shared
 * indices become acquire/release atomics, which carry the orderings the barriers give.
 * The barriers themselves are verified by tests/unit/test_barriers.c and tests/model.
 */
#define VNET_READ_ONCE(x)       __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define VNET_WRITE_ONCE(x, val) __atomic_store_n(&(x), (val), __ATOMIC_RELEASE)
#else
/* Single-copy-atomic access to a shared 16/32-bit index (no tearing, no caching). */
#define VNET_READ_ONCE(x)       (*(const volatile __typeof__(x) *)&(x))
#define VNET_WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))
#endif

#endif /* VNET_VIRTIO_BARRIER_H */
