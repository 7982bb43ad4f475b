/*
 * os_cpu.h - hosted CPU port: runs the kernel inside one Linux process for unit tests.
 *
 * Each task is a pthread, but only the thread holding the "baton" ever runs kernel or task
 * code, so the kernel sees exactly one CPU as on the target. A switch passes the baton and
 * blocks the old thread. "Interrupts" are simulated: test code calls OSHostIsr() from a task,
 * and time is virtual (see OSHostAdvance()), which makes every test deterministic.
 */
#ifndef OS_CPU_H
#define OS_CPU_H

typedef unsigned char BOOLEAN;
typedef unsigned char INT8U;
typedef signed char INT8S;
typedef unsigned short INT16U;
typedef signed short INT16S;
typedef unsigned int INT32U;
typedef signed int INT32S;
typedef unsigned long long INT64U;
typedef signed long long INT64S;
typedef float FP32;
typedef double FP64;

typedef INT64U OS_STK;    /* one stack entry: the target's native word */
typedef INT32U OS_CPU_SR; /* saved "interrupt enable" state */

#define OS_CRITICAL_METHOD 3u
/* Stacks grow down, as on most CPUs. A build may pass -DOS_STK_GROWTH=0u to run the kernel
 * and its users with upward-growing stacks (os/ucos2's port test does). */
#ifndef OS_STK_GROWTH
#define OS_STK_GROWTH 1u
#endif

#define OS_ENTER_CRITICAL()                                                                        \
    {                                                                                              \
        cpu_sr = OS_CPU_SR_Save();                                                                 \
    }
#define OS_EXIT_CRITICAL()                                                                         \
    {                                                                                              \
        OS_CPU_SR_Restore(cpu_sr);                                                                 \
    }

#define OS_TASK_SW() OSCtxSw()

OS_CPU_SR OS_CPU_SR_Save(void);
void OS_CPU_SR_Restore(OS_CPU_SR cpu_sr);

/* Context switch entry points. Declared here as well as in kernel/ucos_ii.h because Micrium's
 * uC/OS-II expects the port's os_cpu.h to declare them. */
void OSCtxSw(void);
void OSIntCtxSw(void);
void OSStartHighRdy(void);

/* ---- Host-only test helpers (not part of the uC/OS-II port interface) ---- */

/* Simulate one interrupt: refuses (aborts) if "interrupts" are disabled, as the hardware would
 * hold it off. Runs isr(arg) between OSIntEnter() and OSIntExit(); a task readied by the ISR
 * runs before OSHostIsr() returns to the interrupted task. Call from task code only. */
void OSHostIsr(void (*isr)(void *arg), void *arg);

/* One clock-tick interrupt (OSTimeTick() inside OSHostIsr()). */
void OSHostTick(void);

/* Virtual time. The clock advances one unit per idle-loop pass and per unit a task "burns";
 * every OSHostTickUnits units a tick interrupt fires. So time passes only when the CPU is
 * busy or idle, never behind the test's back. */
void OSHostAdvance(INT32U units);
INT64U OSHostClock(void);
extern INT32U OSHostTickUnits; /* default 100 */

/* Counters the tests inspect. */
extern INT32U OSHostIntCtxSwCtr;  /* OSIntCtxSw() calls */
extern INT32U OSHostCtxSwCtr;     /* OSCtxSw() calls */
extern INT32U OSHostTaskReturns;  /* OSTaskReturnHook() calls */
extern BOOLEAN OSHostIrqDisabled; /* simulated interrupt-disable flag */

/* Optional extra idle hook run after the clock advance (NULL = none). */
extern void (*OSHostIdleHook)(void);

#endif /* OS_CPU_H */
