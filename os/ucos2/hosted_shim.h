/*
 * hosted_shim.h - what os/ucos2's host test (test_osal_ucos2.c) needs from a hosted uC/OS-II
 * CPU port beyond the standard port interface: two functions. A hosted port is one that runs
 * the kernel inside a desktop process (this project's kernel/port/host; Micrium's Win32
 * port; a user's own POSIX port). To run the test on another one, implement these two in a
 * C file and pass it as -DVNET_UCOS2_HOSTED_SHIM=<file> (default: hosted_shim_vnet_host.c,
 * for kernel/port/host). Nothing outside the test uses this header.
 */
#ifndef VNET_OS_UCOS2_HOSTED_SHIM_H
#define VNET_OS_UCOS2_HOSTED_SHIM_H

#include <stdint.h>

/*
 * Run isr(arg) as the port runs an interrupt handler: interrupts masked, between OSIntEnter()
 * and OSIntExit(), so that a task it readies and that outranks the caller runs before this
 * returns. Called from a task with interrupts enabled.
 */
void hosted_shim_isr(void (*isr)(void *arg), void *arg);

/* A free-running count that moves forward while tasks run and while the kernel idles (any
 * unit). The test derives its board clock (bsp_cycles) from it. */
uint64_t hosted_shim_clock(void);

#endif /* VNET_OS_UCOS2_HOSTED_SHIM_H */
