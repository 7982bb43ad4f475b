/*
 * os_cpu_c.c - x86_64 uC/OS-II port: initial task frames, the switch bookkeeping and hooks.
 */
#include <stddef.h>
#include "os_cpu_asm.h"
#include "ucos_ii.h"

/* Free-running counter for the idle-time CPU usage (os_cpu_idle.h). */
static inline INT64U os_cpu_cycles(void)
{
    INT32U lo;
    INT32U hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((INT64U)hi << 32) | lo;
}
#include "../os_cpu_idle.h"

_Static_assert(sizeof(OS_CPU_FRAME) == 22u * 8u, "frame layout shared with os_cpu_a.S");
_Static_assert(offsetof(OS_CPU_FRAME, vector) == OS_CPU_FRAME_VECTOR, "frame vector slot");
_Static_assert(OS_CPU_VECT_CTXSW == OS_CPU_VECT_CTXSW_ASM, "switch vector");
_Static_assert(OS_CPU_SEL_CODE == OS_CPU_SEL_CODE_ASM && OS_CPU_SEL_DATA == OS_CPU_SEL_DATA_ASM,
               "selectors in the hand-built switch frame");
_Static_assert(OS_CPU_INT_STUB_SIZE == OS_CPU_INT_STUB_SIZE_ASM, "stub spacing");
_Static_assert(offsetof(OS_TCB, OSTCBStkPtr) == 0u, "assembly stores RSP at offset 0");

OS_STK *OS_CPU_IntStkTop;
volatile INT32U OS_CPU_IntDepth;

void OS_CPU_CtxSwC(OS_CPU_FRAME *frame);

/*
 * Build a frame that os_cpu_restore pops into task(p_arg): RIP = task, RDI = p_arg,
 * RFLAGS.IF set, and below the frame a return address of OS_TaskReturn so a task that
 * returns is deleted instead of running off its stack. The return-address slot sits where a
 * `call` would leave it (RSP = 8 mod 16 at function entry, SysV ABI 3.2.2).
 */
OS_STK *OSTaskStkInit(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT16U opt)
{
    OS_STK *top = (OS_STK *)(((INT64U)(ptos + 1)) & ~(INT64U)15u);
    OS_CPU_FRAME *f;
    INT64U *regs;
    INT32U i;

    (void)opt; /* no FPU state to reserve: kernel code never touches SSE/x87 */
    top -= 2;  /* 16 bytes: the return address slot and one word of padding above it */
    top[0] = (OS_STK)(INT64U)OS_TaskReturn;
    top[1] = 0u;
    f = (OS_CPU_FRAME *)(void *)top - 1;
    regs = &f->r15;
    for (i = 0u; i < 15u; i++) {
        regs[i] = 0u;
    }
    f->rdi = (INT64U)p_arg;
    f->rbp = 0u; /* ends frame-pointer backtraces */
    f->vector = 0u;
    f->error = 0u;
    f->rip = (INT64U)task;
    f->cs = OS_CPU_SEL_CODE;
    f->rflags = OS_CPU_RFLAGS_IF | 0x2u; /* bit 1 is reserved-as-one */
    f->rsp = (INT64U)top;
    f->ss = OS_CPU_SEL_DATA;
    return (OS_STK *)(void *)f;
}

/* The stub has stored the old task's RSP; make OSTCBHighRdy current and the stub's exit path
 * resumes it. Shared by both switch entry points: the kernel's bookkeeping is identical. */
static void os_cpu_switch_to_high_rdy(void)
{
    OSTaskSwHook();
    OSTCBCur = OSTCBHighRdy;
    OSPrioCur = OSPrioHighRdy;
}

/* OS_CPU_VECT_CTXSW handler (task-level OSCtxSw()). */
void OS_CPU_CtxSwC(OS_CPU_FRAME *frame)
{
    (void)frame;
    os_cpu_switch_to_high_rdy();
}

/* Called from OSIntExit() inside the outermost ISR: the switch happens at the stub's exit. */
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

/* Runs with interrupts enabled (between the idle loop's critical sections): halt until the
 * next interrupt instead of spinning, which under TCG leaves the host CPU to the devices. */
void OSTaskIdleHook(void)
{
    __asm__ volatile("hlt" ::: "memory");
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
