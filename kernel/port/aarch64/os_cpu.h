/*
 * os_cpu.h - uC/OS-II CPU port for AArch64 (ARMv8-A, EL1, one CPU).
 *
 * Stacks: tasks run at EL1 with SPSel = 0 ("EL1t"), on SP_EL0, which is their task stack.
 * Every exception taken from a task switches the CPU to SP_EL1 ("EL1h"), which the board
 * points at the dedicated interrupt stack, so ISRs never eat task stack.
 *
 * Context format: a suspended task's stack ends in an OS_CPU_FRAME (x0..x30, ELR_EL1,
 * SPSR_EL1), and OSTCBStkPtr points at it. The exception entry writes the frame directly
 * below the interrupted SP_EL0, so a task switch is always "save frame on the task stack,
 * store its address in OSTCBCur->OSTCBStkPtr, load OSTCBCur->OSTCBStkPtr, restore, eret",
 * whether it starts from an IRQ (OSIntCtxSw) or from task level (OSCtxSw writes the frame
 * itself, kind SWITCH; no exception, see os_cpu_a.S).
 * Exceptions do not nest: the CPU masks IRQ/FIQ on entry and no handler unmasks them; a
 * fault inside a handler (taken on SP_EL1) goes straight to the board's fault report.
 *
 * FP/SIMD policy: the kernel, driver, stack and board are built with -mgeneral-regs-only
 * and the board leaves CPACR_EL1.FPEN trapping, so no context holds FP/SIMD state and an FP
 * instruction anywhere is a fault, not silent corruption. OS_TASK_OPT_SAVE_FP is ignored.
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
typedef INT64U OS_CPU_SR; /* DAIF as found on entry to the critical section */

/* Method 3: save DAIF, mask IRQ; restore the saved DAIF (nested sections keep IRQs off). */
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

/* One CPU, and ISRs never write OSLockNesting (same reasoning as the x86_64 port). */
#define OS_CPU_SCHED_LOCK_NO_CRIT 1u

/* DAIF.I: IRQs masked. */
#define OS_CPU_DAIF_I 0x80uL
/* SPSR_EL1 of a new task: EL1t (M[3:0] = 0b0100), D/A/I clear, F masked (FIQ unused). */
#define OS_CPU_SPSR_TASK 0x44uL

OS_CPU_SR OS_CPU_SR_Save(void);           /* mrs daif; msr daifset, #2; returns old DAIF */
void OS_CPU_SR_Restore(OS_CPU_SR cpu_sr); /* msr daif of the saved value */

/* Register image of an interrupted or switched-out context, lowest address first. `kind` is
 * the vector stub's OS_CPU_KIND_* (diagnostics only; not restored). */
typedef struct os_cpu_frame {
    INT64U x[31]; /* x0..x30 (x29 = frame pointer, x30 = link register) */
    INT64U elr;   /* ELR_EL1: where the context resumes */
    INT64U spsr;  /* SPSR_EL1: PSTATE to resume with (DAIF, EL1t) */
    INT64U kind;
} OS_CPU_FRAME;

#define OS_CPU_KIND_SYNC   0u
#define OS_CPU_KIND_IRQ    1u
#define OS_CPU_KIND_FIQ    2u
#define OS_CPU_KIND_SERROR 3u
#define OS_CPU_KIND_SWITCH 4u /* written by OSCtxSw(), never by a vector stub */

/* Exception vector table (2 KiB aligned): the board writes it to VBAR_EL1. */
extern const char OS_CPU_Vectors[];

/*
 * Called by the IRQ entry on the interrupt stack (SP_EL1), IRQs masked. Implemented by the
 * board: it acknowledges the interrupt controller, brackets device ISRs with
 * OSIntEnter()/OSIntExit() and signals end of interrupt. If the kernel calls OSIntCtxSw()
 * meanwhile, the exit path resumes the new OSTCBCur.
 */
void OS_CPU_IntHandler(OS_CPU_FRAME *frame);
/*
 * Called for every synchronous exception, for FIQ and SError, and for any exception taken
 * while already on SP_EL1 (a fault in a handler).
 * `frame` is the saved context (on the task stack, or on SP_EL1 for the nested case);
 * `esr`/`far` are ESR_EL1/FAR_EL1. Implemented by the board; must not return.
 */
void OS_CPU_FaultHandler(OS_CPU_FRAME *frame, INT64U esr, INT64U far, INT32U nested)
    __attribute__((noreturn));

/* Exception entries taken (0 = task level); > 0 inside the IRQ/SVC handler. */
extern volatile INT32U OS_CPU_IntDepth;

/* Idle-time accounting for ports whose idle hook halts (kernel/port/os_cpu_idle.h). */
#define OS_CPU_HAS_IDLE_CYCLES 1
INT64U OS_CPU_IdleCycles(void);

#endif /* OS_CPU_H */
