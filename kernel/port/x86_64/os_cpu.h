/*
 * os_cpu.h - uC/OS-II CPU port for x86_64 (long mode, ring 0, one CPU).
 *
 * Context format: every suspended task's stack ends in an OS_CPU_FRAME, the same frame the
 * interrupt entry builds (general registers, vector/error slots, then the CPU's iretq frame).
 * A task switch is therefore always "save frame, store RSP in OSTCBCur->OSTCBStkPtr, load
 * OSTCBCur->OSTCBStkPtr, pop frame, iretq", whether it starts from an interrupt (OSIntCtxSw)
 * or from task level (OSCtxSw builds the frame by hand with vector OS_CPU_VECT_CTXSW; no
 * exception is raised, see os_cpu_a.S for why).
 *
 * Kernel code is built with -mgeneral-regs-only, so no FPU/SSE state is part of a context;
 * OS_TASK_OPT_SAVE_FP is accepted and ignored.
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
typedef unsigned long INT64U;
typedef signed long INT64S;
typedef float FP32;
typedef double FP64;

typedef INT64U OS_STK;    /* one stack entry: a 64-bit word */
typedef INT64U OS_CPU_SR; /* RFLAGS as found on entry to the critical section */

#define OS_CRITICAL_METHOD 3u
#define OS_STK_GROWTH      1u

#define OS_ENTER_CRITICAL()                                                                        \
    {                                                                                              \
        cpu_sr = OS_CPU_SR_Save();                                                                 \
    }
#define OS_EXIT_CRITICAL()                                                                         \
    {                                                                                              \
        OS_CPU_SR_Restore(cpu_sr);                                                                 \
    }

#define OS_TASK_SW() OSCtxSw()

/*
 * One CPU, and ISRs never write OSLockNesting: OSSchedLock()/OSSchedUnlock() may change it
 * without a critical section (os_core.c). Under QEMU's TCG every interrupt re-enable ends
 * the translated block, and the router takes two scheduler-lock pairs per forwarded frame.
 */
#define OS_CPU_SCHED_LOCK_NO_CRIT 1u

/* Vector slot OSCtxSw() writes into its hand-built frame; the board must not give this vector
 * to a device (the common entry path would take that interrupt for a task switch). */
#define OS_CPU_VECT_CTXSW 0x81u

/* RFLAGS.IF: interrupts enabled. */
#define OS_CPU_RFLAGS_IF 0x200uL

OS_CPU_SR OS_CPU_SR_Save(void);           /* pushfq; cli; returns the pushed RFLAGS */
void OS_CPU_SR_Restore(OS_CPU_SR cpu_sr); /* popfq of the saved value (IF comes back) */

/* Context switch entry points. Declared here as well as in kernel/ucos_ii.h because Micrium's
 * uC/OS-II expects the port's os_cpu.h to declare them. */
void OSCtxSw(void);
void OSIntCtxSw(void);
void OSStartHighRdy(void);

/*
 * Register image of an interrupted or switched-out context, lowest address first. r15 is at
 * the saved stack pointer; vector/error were pushed by the entry stub (error is 0 for vectors
 * where the CPU pushes none); rip..ss are the CPU's 64-bit interrupt frame.
 */
typedef struct os_cpu_frame {
    INT64U r15, r14, r13, r12, r11, r10, r9, r8;
    INT64U rbp, rdi, rsi, rdx, rcx, rbx, rax;
    INT64U vector, error;
    INT64U rip, cs, rflags, rsp, ss;
} OS_CPU_FRAME;

/* Segment selectors of the board's GDT that a new task's frame is built with. */
#define OS_CPU_SEL_CODE 0x08u
#define OS_CPU_SEL_DATA 0x10u

/*
 * Entry stubs for all 256 vectors, OS_CPU_INT_STUB_SIZE bytes apart: the board points IDT
 * entry v at OS_CPU_IntStubs + v * OS_CPU_INT_STUB_SIZE (interrupt gates, so IF is clear in
 * every handler and interrupts do not nest).
 */
#define OS_CPU_INT_STUB_SIZE 16u
extern const char OS_CPU_IntStubs[];

/*
 * Called by the entry stub for every vector except OS_CPU_VECT_CTXSW, on the dedicated
 * interrupt stack, with interrupts disabled. Implemented by the board: it brackets device
 * ISRs with OSIntEnter()/OSIntExit() and acknowledges the interrupt controller. If the kernel
 * calls OSIntCtxSw() meanwhile, the stub resumes the new OSTCBCur on the way out.
 */
void OS_CPU_IntHandler(OS_CPU_FRAME *frame);

/* Top of the interrupt stack, set by the board before interrupts are first enabled. */
extern OS_STK *OS_CPU_IntStkTop;

/* Interrupt entry depth (0 = task level); > 0 also while an exception is handled. */
extern volatile INT32U OS_CPU_IntDepth;

/* Idle-time accounting for ports whose idle hook halts (kernel/port/os_cpu_idle.h). */
#define OS_CPU_HAS_IDLE_CYCLES 1
INT64U OS_CPU_IdleCycles(void);

#endif /* OS_CPU_H */
