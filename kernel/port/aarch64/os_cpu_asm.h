/*
 * os_cpu_asm.h - constants shared by os_cpu_a.S and the C side of the aarch64 port. Kept
 * free of C so the assembler can include it; os_cpu_c.c checks them against os_cpu.h.
 */
#ifndef OS_CPU_ASM_H
#define OS_CPU_ASM_H

#define OS_CPU_FRAME_SIZE_ASM 272 /* sizeof(OS_CPU_FRAME): x0..x30, elr, spsr, kind */
#define OS_CPU_FRAME_ELR      248 /* offsetof(OS_CPU_FRAME, elr) */
#define OS_CPU_FRAME_KIND     264 /* offsetof(OS_CPU_FRAME, kind) */

/* Exception kinds the vector stubs record (OS_CPU_FRAME.kind). */
#define OS_CPU_KIND_SYNC_ASM   0
#define OS_CPU_KIND_IRQ_ASM    1
#define OS_CPU_KIND_FIQ_ASM    2
#define OS_CPU_KIND_SERROR_ASM 3
#define OS_CPU_KIND_SWITCH_ASM 4 /* OSCtxSw()'s hand-built frame, not an exception */

/* SPSR_EL1.M[4:0] of a task: AArch64 state, EL1 using SP_EL0 (EL1t). */
#define OS_CPU_SPSR_EL1T_ASM 0x4

#endif /* OS_CPU_ASM_H */
