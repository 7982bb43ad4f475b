/*
 * os_cpu_a.S - AArch64 uC/OS-II port: exception vectors, context save/restore, switch,
 * critical sections (see os_cpu.h for the stack and frame model).
 *
 * Entry from a task (vectors "current EL with SP_EL0"): the CPU is now on SP_EL1, the
 * interrupt stack. The stub parks x0/x1 there, the common entry writes the whole context
 * as an OS_CPU_FRAME right below the task's SP_EL0 and, once the kernel runs, stores the
 * frame's address in OSTCBCur->OSTCBStkPtr before anything can change OSTCBCur. The exit
 * reloads the frame address from OSTCBCur->OSTCBStkPtr: if OSIntCtxSw() or OSCtxSw() (a
 * hand-built frame of kind SWITCH, no exception) changed OSTCBCur meanwhile, that is the
 * switch. Before OSStart() there is no TCB: the interrupted context's frame address is kept
 * in os_cpu_boot_frame.
 */
#include "os_cpu_asm.h"

        .text

/* x2..x29 into an OS_CPU_FRAME at \base (x0, x1 and x30 are each path's own business). */
.macro os_cpu_save_x2_x29 base
        stp     x2, x3, [\base, #16]
        stp     x4, x5, [\base, #32]
        stp     x6, x7, [\base, #48]
        stp     x8, x9, [\base, #64]
        stp     x10, x11, [\base, #80]
        stp     x12, x13, [\base, #96]
        stp     x14, x15, [\base, #112]
        stp     x16, x17, [\base, #128]
        stp     x18, x19, [\base, #144]
        stp     x20, x21, [\base, #160]
        stp     x22, x23, [\base, #176]
        stp     x24, x25, [\base, #192]
        stp     x26, x27, [\base, #208]
        stp     x28, x29, [\base, #224]
.endm

.macro os_cpu_task_stub kind
        .balign 0x80
        sub     sp, sp, #16
        stp     x0, x1, [sp]
        mov     x1, #\kind
        b       os_cpu_task_entry
.endm

.macro os_cpu_nested_stub level
        .balign 0x80
        sub     sp, sp, #OS_CPU_FRAME_SIZE_ASM
        stp     x0, x1, [sp]
        mov     x1, #\level
        b       os_cpu_nested_entry
.endm

/* VBAR_EL1 needs 2 KiB alignment (ARM ARM D1.10.2); each entry has 0x80 bytes. */
        .balign 2048
        .globl  OS_CPU_Vectors
OS_CPU_Vectors:
        os_cpu_task_stub OS_CPU_KIND_SYNC_ASM           /* current EL, SP_EL0: tasks */
        os_cpu_task_stub OS_CPU_KIND_IRQ_ASM
        os_cpu_task_stub OS_CPU_KIND_FIQ_ASM
        os_cpu_task_stub OS_CPU_KIND_SERROR_ASM
        os_cpu_nested_stub 1                            /* current EL, SP_EL1: in a handler */
        os_cpu_nested_stub 1
        os_cpu_nested_stub 1
        os_cpu_nested_stub 1
        os_cpu_nested_stub 2                            /* lower EL (never used) */
        os_cpu_nested_stub 2
        os_cpu_nested_stub 2
        os_cpu_nested_stub 2
        os_cpu_nested_stub 2
        os_cpu_nested_stub 2
        os_cpu_nested_stub 2
        os_cpu_nested_stub 2

os_cpu_task_entry:
        mrs     x0, sp_el0
        sub     x0, x0, #OS_CPU_FRAME_SIZE_ASM          /* the frame, on the task stack */
        os_cpu_save_x2_x29 x0
        mrs     x2, elr_el1
        stp     x30, x2, [x0, #240]
        mrs     x3, spsr_el1
        stp     x3, x1, [x0, #256]                      /* spsr, kind */
        ldp     x2, x3, [sp], #16                       /* the task's x0, x1 */
        stp     x2, x3, [x0]
        mov     x19, x0                                 /* frame: callee-saved across calls */
        mov     x20, x1                                 /* kind */
/* x0 = x19 = the frame on the task stack, x20 = its kind, on SP_EL1 with IRQs masked. */
os_cpu_task_common:
        adrp    x2, OS_CPU_IntDepth
        ldr     w3, [x2, :lo12:OS_CPU_IntDepth]
        add     w3, w3, #1
        str     w3, [x2, :lo12:OS_CPU_IntDepth]
        adrp    x2, OSRunning
        ldrb    w3, [x2, :lo12:OSRunning]
        cbz     w3, 1f
        adrp    x2, OSTCBCur
        ldr     x3, [x2, :lo12:OSTCBCur]
        str     x0, [x3]                                /* OSTCBCur->OSTCBStkPtr */
        b       2f
1:      adrp    x2, os_cpu_boot_frame
        str     x0, [x2, :lo12:os_cpu_boot_frame]
2:      cmp     x20, #OS_CPU_KIND_IRQ_ASM
        b.eq    3f
        cmp     x20, #OS_CPU_KIND_SWITCH_ASM
        b.ne    5f                                      /* every real exception but IRQ */
        bl      OS_CPU_CtxSwC
        b       4f
3:      bl      OS_CPU_IntHandler
4:      adrp    x2, OS_CPU_IntDepth
        ldr     w3, [x2, :lo12:OS_CPU_IntDepth]
        sub     w3, w3, #1
        str     w3, [x2, :lo12:OS_CPU_IntDepth]
        adrp    x2, OSRunning
        ldrb    w3, [x2, :lo12:OSRunning]
        cbz     w3, 6f
        adrp    x2, OSTCBCur
        ldr     x3, [x2, :lo12:OSTCBCur]
        ldr     x0, [x3]
        b       os_cpu_restore
6:      adrp    x2, os_cpu_boot_frame
        ldr     x0, [x2, :lo12:os_cpu_boot_frame]
        b       os_cpu_restore
5:      mov     x0, x19
        mrs     x1, esr_el1
        mrs     x2, far_el1
        mov     w3, #0
        bl      OS_CPU_FaultHandler                     /* does not return */
7:      wfi
        b       7b

/* A fault while on SP_EL1 (inside a handler) or from a lower EL: frame on SP_EL1, report. */
os_cpu_nested_entry:
        str     x1, [sp, #OS_CPU_FRAME_KIND]
        ldr     x1, [sp, #8]
        stp     x0, x1, [sp]
        os_cpu_save_x2_x29 sp
        str     x30, [sp, #240]
        mrs     x2, elr_el1
        mrs     x3, spsr_el1
        stp     x2, x3, [sp, #248]
        ldr     x3, [sp, #OS_CPU_FRAME_KIND]            /* 1 = in a handler, 2 = lower EL */
        mov     x0, sp
        mrs     x1, esr_el1
        mrs     x2, far_el1
        bl      OS_CPU_FaultHandler
8:      wfi
        b       8b

/* Resume the context whose frame x0 points at (IRQs are masked until the eret). */
os_cpu_restore:
        ldp     x2, x3, [x0, #OS_CPU_FRAME_ELR]         /* elr, spsr */
        msr     elr_el1, x2
        msr     spsr_el1, x3
        add     x1, x0, #OS_CPU_FRAME_SIZE_ASM
        msr     sp_el0, x1                              /* the task's SP above its frame */
        ldp     x2, x3, [x0, #16]
        ldp     x4, x5, [x0, #32]
        ldp     x6, x7, [x0, #48]
        ldp     x8, x9, [x0, #64]
        ldp     x10, x11, [x0, #80]
        ldp     x12, x13, [x0, #96]
        ldp     x14, x15, [x0, #112]
        ldp     x16, x17, [x0, #128]
        ldp     x18, x19, [x0, #144]
        ldp     x20, x21, [x0, #160]
        ldp     x22, x23, [x0, #176]
        ldp     x24, x25, [x0, #192]
        ldp     x26, x27, [x0, #208]
        ldp     x28, x29, [x0, #224]
        ldr     x30, [x0, #240]
        ldp     x0, x1, [x0]
        eret

/* void OSStartHighRdy(void): first switch, from main()'s stack into OSTCBHighRdy. Runs at
 * EL1t with IRQs masked; moves to SP_EL1 (the interrupt stack, unused so far, at its top). */
        .globl  OSStartHighRdy
OSStartHighRdy:
        bl      OSTaskSwHook
        adrp    x2, OSRunning
        mov     w3, #1
        strb    w3, [x2, :lo12:OSRunning]
        adrp    x2, OSTCBHighRdy
        ldr     x3, [x2, :lo12:OSTCBHighRdy]
        adrp    x2, OSTCBCur
        str     x3, [x2, :lo12:OSTCBCur]
        ldr     x0, [x3]
        msr     spsel, #1                               /* SP_EL0 is written by the restore, */
        b       os_cpu_restore                          /* which it cannot be while in use */

/* void OSCtxSw(void): task-level switch. Writes, on the task's stack (SP_EL0), the frame the
 * exception entry would (ELR = the `ret` below, SPSR = EL1t with DAIF as the caller had it:
 * IRQs masked inside OS_Sched's critical section), moves to SP_EL1 and enters the common path
 * with kind SWITCH, so the task later resumes here with its critical section intact.
 * Not `svc #0`: under QEMU TCG every exception is delivered holding QEMU's global mutex, so
 * each switch waited while the I/O thread held it; stores and an `eret` take no lock. The
 * IRQ mask after reading DAIF covers a caller that entered with IRQs on: an IRQ before it is
 * an ordinary interrupt of this task, its frame below the one being written. */
        .globl  OSCtxSw
OSCtxSw:
        sub     sp, sp, #OS_CPU_FRAME_SIZE_ASM
        stp     x0, x1, [sp]
        os_cpu_save_x2_x29 sp
        adr     x2, 1f
        stp     x30, x2, [sp, #240]                     /* x30, elr */
        mrs     x3, daif
        msr     daifset, #2                             /* mask IRQ */
        orr     x3, x3, #OS_CPU_SPSR_EL1T_ASM           /* M[4:0]: AArch64, EL1 with SP_EL0 */
        mov     x20, #OS_CPU_KIND_SWITCH_ASM
        stp     x3, x20, [sp, #256]                     /* spsr, kind */
        mov     x0, sp
        mov     x19, x0
        msr     spsel, #1                               /* SP_EL1: the interrupt stack, at its top */
        b       os_cpu_task_common
1:      ret

/* OS_CPU_SR OS_CPU_SR_Save(void) */
        .globl  OS_CPU_SR_Save
OS_CPU_SR_Save:
        mrs     x0, daif
        msr     daifset, #2                             /* mask IRQ */
        ret

/* void OS_CPU_SR_Restore(OS_CPU_SR sr) */
        .globl  OS_CPU_SR_Restore
OS_CPU_SR_Restore:
        msr     daif, x0
        ret

        .bss
        .balign 8
os_cpu_boot_frame:
        .quad   0

        .section .note.GNU-stack, "", @progbits
