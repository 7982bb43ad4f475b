/*
 * os_cpu_asm.h - constants shared by os_cpu_a.S and the C side of the port. Kept free of C
 * so the assembler can include it; os_cpu_c.c checks them against os_cpu.h.
 */
#ifndef OS_CPU_ASM_H
#define OS_CPU_ASM_H

#define OS_CPU_INT_STUB_SIZE_ASM 16
#define OS_CPU_VECT_CTXSW_ASM    0x81
#define OS_CPU_FRAME_VECTOR      (15 * 8) /* offsetof(OS_CPU_FRAME, vector) */
#define OS_CPU_SEL_CODE_ASM      0x08
#define OS_CPU_SEL_DATA_ASM      0x10

#endif /* OS_CPU_ASM_H */
