/*
 * os_cpu_c.c - AArch64 uC/OS-II port: initial task frames, the switch bookkeeping and hooks.
 */
#include <stddef.h>
#include "os_cpu_asm.h"
#include "ucos_ii.h"

/* Free-running counter for the idle-time CPU usage (os_cpu_idle.h). */
static inline INT64U os_cpu_cycles(void)
{
    INT64U v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
    return v;
}
#include "../os_cpu_idle.h"

_Static_assert(sizeof(OS_CPU_FRAME) == OS_CPU_FRAME_SIZE_ASM, "frame layout of os_cpu_a.S");
_Static_assert(sizeof(OS_CPU_FRAME) % 16u == 0u, "SP stays 16-byte aligned below a frame");
_Static_assert(offsetof(OS_CPU_FRAME, elr) == OS_CPU_FRAME_ELR, "frame elr slot");
_Static_assert(offsetof(OS_CPU_FRAME, kind) == OS_CPU_FRAME_KIND, "frame kind slot");
_Static_assert(OS_CPU_KIND_IRQ == OS_CPU_KIND_IRQ_ASM &&
                   OS_CPU_KIND_SWITCH == OS_CPU_KIND_SWITCH_ASM,
               "exception kinds");
_Static_assert(offsetof(OS_TCB, OSTCBStkPtr) == 0u, "assembly stores the frame at offset 0");

volatile INT32U OS_CPU_IntDepth;

void OS_CPU_CtxSwC(OS_CPU_FRAME *frame);

/*
 * Build a frame that os_cpu_restore resumes as task(p_arg): ELR = task, x0 = p_arg, SPSR =
 * EL1t with IRQs enabled, x30 (the link register) = OS_TaskReturn so a task that returns is
 * deleted instead of running off its stack, x29 = 0 to end frame-pointer backtraces. The
 * task's SP starts 16-byte aligned right above the frame (AAPCS64 5.2.2.1).
 */
OS_STK *OSTaskStkInit(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT16U opt)
{
    OS_STK *top = (OS_STK *)(((INT64U)(ptos + 1)) & ~(INT64U)15u);
    OS_CPU_FRAME *f = (OS_CPU_FRAME *)(void *)top - 1;
    INT32U i;

    (void)opt; /* no FP/SIMD state to reserve: see os_cpu.h */
    for (i = 0u; i < 31u; i++) {
        f->x[i] = 0u;
    }
    f->x[0] = (INT64U)p_arg;
    f->x[29] = 0u;
    f->x[30] = (INT64U)OS_TaskReturn;
    f->elr = (INT64U)task;
    f->spsr = OS_CPU_SPSR_TASK;
    f->kind = 0u;
    return (OS_STK *)(void *)f;
}

/* The entry has stored the old task's frame; make OSTCBHighRdy current and the exit path
 * resumes it. Shared by both switch entry points: the kernel's bookkeeping is identical. */
static void os_cpu_switch_to_high_rdy(void)
{
    OSTaskSwHook();
    OSTCBCur = OSTCBHighRdy;
    OSPrioCur = OSPrioHighRdy;
}

/* Task-level OSCtxSw(): its frame (kind SWITCH) is on the old task's stack. */
void OS_CPU_CtxSwC(OS_CPU_FRAME *frame)
{
    (void)frame;
    os_cpu_switch_to_high_rdy();
}

/* Called from OSIntExit() inside the IRQ handler: the switch happens at the entry's exit. */
void OSIntCtxSw(void)
{
    os_cpu_switch_to_high_rdy();
}

/* ---- Hooks. The board may do more through its own ISR/idle functions. ---- */

void OSInitHookBegin(void)
{
}

void OSInitHookEnd(void)
{
}

void OSTaskCreateHook(OS_TCB *ptcb)
{
    (void)ptcb;
}

void OSTaskDelHook(OS_TCB *ptcb)
{
    (void)ptcb;
}

/* Runs with IRQs enabled (between the idle loop's critical sections): wait for the next
 * interrupt instead of spinning, which under TCG leaves the host CPU to the devices. */
void OSTaskIdleHook(void)
{
    __asm__ volatile("wfi" ::: "memory");
}

void OSTaskReturnHook(OS_TCB *ptcb)
{
    (void)ptcb;
}

void OSTaskStatHook(void)
{
    os_cpu_idle_stat();
}

void OSTaskSwHook(void)
{
    os_cpu_idle_switch();
}

void OSTCBInitHook(OS_TCB *ptcb)
{
    (void)ptcb;
}

void OSTimeTickHook(void)
{
}
