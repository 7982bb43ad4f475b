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

#include <stdint.h>

/* [ISR] Free-running cycle counter (the TSC on x86), behind osal_cycles(), osal_random32's
 * noise and osal_delay_us(). Monotonic per CPU. */
uint64_t osal_board_cycles(void);
/* [ISR] Rate of osal_board_cycles() in cycles per microsecond (> 0 once the board runs). */
uint64_t osal_board_cycles_per_us(void);

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
