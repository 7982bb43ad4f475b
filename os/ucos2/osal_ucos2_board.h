/*
 * What the uC/OS-II port (os/ucos2/) needs from the board: the whole contract. The port
 * reaches the board only through these hooks, never through a bsp_* function by name, so
 * moving it to another board means implementing them, nothing else (the QEMU x86_64
 * board's side: bsp/qemu-x86_64/osal_board.c). Self-contained: the board includes it
 * without the kernel's headers.
 *
 * Besides these, the board calls osal_ucos2_heap_init() (osal_port.h) once before any
 * driver call, and may set osal_ucos2_log.
 */
#ifndef VNET_OSAL_UCOS2_BOARD_H
#define VNET_OSAL_UCOS2_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* [ISR] Free-running cycle counter (the TSC on x86), behind osal_cycles(), osal_random32's
 * noise and osal_delay_us(). Monotonic per CPU. */
uint64_t osal_board_cycles(void);
/* [ISR] Rate of osal_board_cycles() in cycles per microsecond (> 0 once the board runs). */
uint64_t osal_board_cycles_per_us(void);

/*
 * DMA: what the device is given, and cache maintenance (os/osal.h, "DMA memory").
 *
 * osal_board_dma_addr(cpu): [task] the bus address at which the device reaches the byte
 * at CPU address `cpu` of the heap handed to osal_ucos2_heap_init(). Linear over the
 * heap (the driver adds offsets to a block's address): identity when the device sees CPU
 * physical addresses and the MMU maps RAM 1:1 (both QEMU boards), CPU address plus a
 * fixed offset behind an offset DMA window (e.g. a SoC whose interconnect sees RAM at
 * another base), the IOVA of a 1:1-programmed IOMMU mapping otherwise. The heap must lie
 * where the device can reach it (below 4 GiB for a device or legacy QueuePFN limited to
 * 32-bit addresses).
 *
 * osal_board_dma_sync_for_device / _for_cpu(cpu, len): [ISR] the bodies of
 * osal_dma_sync_for_device / osal_dma_sync_for_cpu (os/osal.h has their contract). On a
 * board whose device DMA snoops the CPU caches (x86; both QEMU boards, where QEMU's
 * device model reads guest RAM directly): empty. On a non-coherent Armv8-A SoC:
 * for_device walks the range by the smallest data cache line (CTR_EL0.DminLine) with
 * DC CVAC (clean to the point of coherency), then DSB SY so the cleans finish before the
 * driver's ring stores and the notify; for_cpu does DC IVAC by line (DC CIVAC for a line
 * only partly inside the range), then DSB SY, before the driver reads the buffer.
 *
 * Coherent ring memory: osal_dma_alloc() must be coherent (os/osal.h). The port serves it
 * from the main heap unless the board gives a second region with
 * osal_ucos2_dma_heap_init() (osal_port.h). A non-coherent board maps that region
 * uncached (Normal Non-cacheable on Arm) and passes it there: rings come from it, packet
 * buffers and driver memory from the cached main heap, the buffers kept consistent by the
 * sync hooks. osal_board_dma_addr() covers both regions.
 */
uint64_t osal_board_dma_addr(const void *cpu);
void osal_board_dma_sync_for_device(const void *cpu, size_t len);
void osal_board_dma_sync_for_cpu(const void *cpu, size_t len);

/*
 * The platform part of the driver's device full barrier, osal_device_mb() (os/osal.h):
 * a board choice made by its build. A board whose CPU barrier reaches the device (any
 * hardware, KVM) selects nothing and pays nothing: osal_device_mb() is empty. A board
 * under an emulator that drops guest barriers (QEMU's TCG before 8.1 with one vCPU: see
 * docs/virtqueue.md, "Barriers under TCG") compiles everything that includes osal.h with
 * OSAL_UCOS2_BOARD_DEVICE_MB=1 (bsp/qemu-x86_64/CMakeLists.txt) and supplies
 * osal_board_device_mb(): it must make every store issued before it visible to the
 * device before any load issued after it. [ISR], any context.
 */
void osal_board_device_mb(void); /* defined only by a board that selects it */
#ifndef OSAL_UCOS2_BOARD_DEVICE_MB
#define OSAL_UCOS2_BOARD_DEVICE_MB 0
#endif
#if OSAL_UCOS2_BOARD_DEVICE_MB
static inline void osal_device_mb(void)
{
    osal_board_device_mb();
}
#else
static inline void osal_device_mb(void)
{
}
#endif

#endif /* VNET_OSAL_UCOS2_BOARD_H */
