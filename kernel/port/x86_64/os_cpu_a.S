/*
 * os_cpu_a.S - x86_64 uC/OS-II port: interrupt entry/exit, context switch, critical sections.
 *
 * One path saves and restores every context (see os_cpu.h for the frame). The outermost
 * entry stores the interrupted task's RSP into OSTCBCur->OSTCBStkPtr before anything can
 * change OSTCBCur, and moves to the interrupt stack so ISRs do not eat task stack. The
 * outermost exit reloads RSP from OSTCBCur->OSTCBStkPtr: if OSIntCtxSw() (or the
 * OS_CPU_VECT_CTXSW handler) changed OSTCBCur meanwhile, that is the switch.
 * Before OSStart() (OSRunning false) there is no TCB: the boot stack pointer is kept aside.
 */
#include "os_cpu_asm.h"

        .text
        .code64

/* Vectors for which the CPU pushes an error code itself (SDM vol. 3, table 6-1). */
.macro os_cpu_stub v
        .balign OS_CPU_INT_STUB_SIZE_ASM
.if (\v == 8) || (\v == 10) || (\v == 11) || (\v == 12) || (\v == 13) || (\v == 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
.else
        pushq   $0
.endif
        pushq   $\v
        jmp     os_cpu_int_common
.endm

        .balign OS_CPU_INT_STUB_SIZE_ASM
        .globl  OS_CPU_IntStubs
OS_CPU_IntStubs:
.altmacro
.set os_cpu_v, 0
.rept 256
        os_cpu_stub %os_cpu_v
.set os_cpu_v, os_cpu_v + 1
.endr
.noaltmacro

os_cpu_int_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        movq    %rsp, %rdi                      /* OS_CPU_FRAME * */
        incl    OS_CPU_IntDepth(%rip)
        cmpl    $1, OS_CPU_IntDepth(%rip)
        jne     1f                              /* nested (exception in a handler): same stack */
        cmpb    $0, OSRunning(%rip)
        je      2f
        movq    OSTCBCur(%rip), %rax
        movq    %rsp, (%rax)                    /* OSTCBCur->OSTCBStkPtr */
2:      movq    %rsp, os_cpu_boot_sp(%rip)
        movq    OS_CPU_IntStkTop(%rip), %rsp
1:      cmpq    $OS_CPU_VECT_CTXSW_ASM, OS_CPU_FRAME_VECTOR(%rdi)
        jne     3f
        call    OS_CPU_CtxSwC
        jmp     4f
3:      call    OS_CPU_IntHandler
4:      decl    OS_CPU_IntDepth(%rip)
        jnz     os_cpu_restore_nested
        cmpb    $0, OSRunning(%rip)
        je      5f
        movq    OSTCBCur(%rip), %rax
        movq    (%rax), %rsp
        jmp     os_cpu_restore
5:      movq    os_cpu_boot_sp(%rip), %rsp
        jmp     os_cpu_restore

/* A nested entry ran on the stack it arrived on, right below its frame, and pushed nothing
 * else: once the call returned, RSP points at its frame again. */
os_cpu_restore_nested:
os_cpu_restore:
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp                       /* vector, error */
        iretq

/* void OSStartHighRdy(void): first switch, from the boot stack into OSTCBHighRdy. */
        .globl  OSStartHighRdy
OSStartHighRdy:
        subq    $8, %rsp                        /* ABI alignment for the hook call */
        call    OSTaskSwHook
        movb    $1, OSRunning(%rip)
        movq    OSTCBHighRdy(%rip), %rax
        movq    %rax, OSTCBCur(%rip)
        movq    (%rax), %rsp
        jmp     os_cpu_restore

/* void OSCtxSw(void): task-level switch. Builds by hand the frame an interrupt would push
 * (64-bit mode: RSP aligned down to 16, then SS, RSP, RFLAGS, CS, RIP; then the stub's error
 * and vector slots) and enters the common path, which sees the switch vector and calls
 * OS_CPU_CtxSwC. RFLAGS is the caller's (IF clear: inside OS_Sched's critical section), so the
 * task later resumes at the `ret` below with its critical section intact.
 * Not `int $OS_CPU_VECT_CTXSW`: under QEMU TCG every exception, software interrupts included,
 * is delivered holding QEMU's global mutex, so each switch waited for whatever the I/O thread
 * was doing (a TX batch to the tap: up to ~200 us). A plain store sequence and an iretq take
 * no lock. The `cli` covers a caller that entered with interrupts on: an interrupt before it
 * is an ordinary interrupt of this task. */
        .globl  OSCtxSw
OSCtxSw:
        movq    %rsp, %rax                      /* RSP to resume with: at our return address */
        andq    $-16, %rsp
        pushq   $OS_CPU_SEL_DATA_ASM            /* SS */
        pushq   %rax                            /* RSP */
        pushfq                                  /* RFLAGS as the caller had them */
        cli
        pushq   $OS_CPU_SEL_CODE_ASM            /* CS */
        leaq    1f(%rip), %rax
        pushq   %rax                            /* RIP */
        pushq   $0                              /* error code slot */
        pushq   $OS_CPU_VECT_CTXSW_ASM          /* vector slot */
        jmp     os_cpu_int_common
1:      ret

/* OS_CPU_SR OS_CPU_SR_Save(void) */
        .globl  OS_CPU_SR_Save
OS_CPU_SR_Save:
        pushfq
        popq    %rax
        cli
        ret

/* void OS_CPU_SR_Restore(OS_CPU_SR sr) */
        .globl  OS_CPU_SR_Restore
OS_CPU_SR_Restore:
        pushq   %rdi
        popfq
        ret

        .bss
        .balign 8
os_cpu_boot_sp:
        .quad   0

        .section .note.GNU-stack, "", @progbits
