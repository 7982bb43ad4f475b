/*
 * boot.S - entry of the QEMU aarch64 virt board images.
 *
 * QEMU's -kernel starts an ELF at its entry point with the MMU off, at EL1 by default, at
 * EL2 with -M virt,virtualization=on (EL3 with secure=on is not supported: the image halts).
 * From EL2 we drop to EL1h: EL1 is AArch64 (HCR_EL2.RW), EL1 may read the physical counter
 * and program the physical timer (CNTHCTL_EL2.EL1PCTEN/EL1PCEN), the virtual counter has no
 * offset, and with a GICv3 EL1 may use the ICC system registers (ICC_SRE_EL2.Enable/SRE).
 *
 * Then, at EL1: SP_EL1 = the interrupt stack (exceptions from tasks land there, see
 * kernel/port/aarch64/os_cpu.h), SP_EL0 = the boot stack main() runs on (SPSel = 0), .bss
 * cleared, the device tree read and the translation tables built (C, MMU off: aligned
 * accesses only), MMU and caches on, VBAR_EL1 = the kernel port's vectors, bsp_start().
 */
#define SCTLR_EL1_RES1 0x30d00800 /* RES1 bits 29, 28, 23, 22, 20, 11 (ARMv8.0) */
#define SCTLR_EL1_M    (1 << 0)   /* stage 1 MMU */
#define SCTLR_EL1_C    (1 << 2)   /* data cacheability */
#define SCTLR_EL1_SA   (1 << 3)   /* SP alignment check */
#define SCTLR_EL1_I    (1 << 12)  /* instruction cacheability */
/* MAIR_EL1: attr 0 = Device-nGnRE (0x04), attr 1 = Normal, inner/outer write-back
 * read/write-allocate non-transient (0xff). mmu.c uses these indices. */
#define MAIR_VALUE     0xff04
/* TCR_EL1: T0SZ = 25 (39-bit VA, walks start at level 1), table walks inner/outer
 * write-back write-allocate (IRGN0 = ORGN0 = 1), inner shareable (SH0 = 3), 4 KiB granule
 * (TG0 = 0), no TTBR1 walks (EPD1), 40-bit physical addresses (IPS = 2). */
#define TCR_VALUE      0x200803519

        .section .text.boot, "ax"
        .globl  _start
_start:
        msr     daifset, #0xf
        mov     x19, x0                         /* device tree address, if QEMU passed one */
        mrs     x20, CurrentEL
        ubfx    x20, x20, #2, #2
        cmp     x20, #2
        b.eq    el2
        cmp     x20, #1
        b.eq    el1
halt:   wfe                                     /* EL3: not supported */
        b       halt

el2:    mov     x2, #(1 << 31)                  /* HCR_EL2.RW: EL1 is AArch64; nothing trapped */
        msr     hcr_el2, x2
        mrs     x2, cnthctl_el2
        orr     x2, x2, #3                      /* EL1PCTEN | EL1PCEN */
        msr     cnthctl_el2, x2
        msr     cntvoff_el2, xzr
        mrs     x2, id_aa64pfr0_el1
        ubfx    x2, x2, #24, #4                 /* GIC system register interface */
        cbz     x2, 1f
        mrs     x2, S3_4_C12_C9_5               /* ICC_SRE_EL2 */
        mov     x3, #0x9                        /* Enable (EL1 may use SRE) | SRE */
        orr     x2, x2, x3
        msr     S3_4_C12_C9_5, x2
        isb
1:      ldr     x2, =SCTLR_EL1_RES1
        msr     sctlr_el1, x2
        mov     x2, #0x3c5                      /* EL1h, DAIF masked */
        msr     spsr_el2, x2
        adr     x2, el1
        msr     elr_el2, x2
        eret

el1:    ldr     x2, =SCTLR_EL1_RES1             /* MMU and caches off until the tables exist */
        msr     sctlr_el1, x2
        isb
        msr     spsel, #1
        ldr     x2, =bsp_int_stk_top
        mov     sp, x2
        msr     spsel, #0
        ldr     x2, =bsp_boot_stk_top
        mov     sp, x2
        ldr     x2, =__bss_start
        ldr     x3, =__bss_end
2:      cmp     x2, x3
        b.hs    3f
        stp     xzr, xzr, [x2], #16
        b       2b
3:      ldr     x2, =bsp_boot_x0
        str     x19, [x2]
        ldr     x2, =bsp_boot_el
        str     w20, [x2]
        mov     x0, x19
        bl      bsp_early                       /* device tree, translation tables */

        ldr     x2, =MAIR_VALUE
        msr     mair_el1, x2
        ldr     x2, =TCR_VALUE
        msr     tcr_el1, x2
        ldr     x2, =bsp_mmu_l1
        msr     ttbr0_el1, x2
        dsb     ish                             /* table writes done before the walker reads */
        isb
        tlbi    vmalle1                         /* nothing stale from before reset */
        ic      iallu
        dsb     nsh
        isb
        mrs     x2, sctlr_el1
        ldr     x3, =(SCTLR_EL1_M | SCTLR_EL1_C | SCTLR_EL1_SA | SCTLR_EL1_I)
        orr     x2, x2, x3
        msr     sctlr_el1, x2
        isb
        ldr     x2, =OS_CPU_Vectors
        msr     vbar_el1, x2
        isb
        bl      bsp_start
        b       halt

        .bss
        .balign 16
        .globl  bsp_int_stk, bsp_int_stk_top
bsp_int_stk:
        .space  16384
bsp_int_stk_top:
        .balign 16
bsp_boot_stk:
        .space  16384
bsp_boot_stk_top:

        .section .note.GNU-stack, "", @progbits
