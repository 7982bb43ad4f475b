/*
 * boot.S - PVH entry: QEMU's -kernel loader finds XEN_ELFNOTE_PHYS32_ENTRY and jumps there
 * in 32-bit protected mode, paging off, flat segments, EBX = struct hvm_start_info (Xen
 * "HVM direct start" ABI, docs/misc/pvh.pandoc in Xen). We build identity page tables for
 * the first 4 GiB with 2 MiB pages (RAM and the PCI hole below 4 GiB; device ranges are
 * switched to uncached by C code later), enter long mode and call bsp_start(start_info).
 */
        .set    XEN_ELFNOTE_PHYS32_ENTRY, 18
        .set    CR0_PE, 1 << 0
        .set    CR0_WP, 1 << 16
        .set    CR0_PG, 1 << 31
        .set    CR4_PAE, 1 << 5
        .set    MSR_EFER, 0xC0000080
        .set    EFER_LME, 1 << 8
        .set    EFER_NXE, 1 << 11
        .set    PTE_P, 1 << 0
        .set    PTE_W, 1 << 1
        .set    PTE_PS, 1 << 7

/* The note's descriptor is read as a native word for an ELF64 image (QEMU
 * hw/i386/x86.c read_pvh_start_addr), hence .quad; 4-byte alignment as ELF notes require. */
        .section .note.Xen, "a", @note
        .balign 4
        .long   4f - 3f
        .long   6f - 5f
        .long   XEN_ELFNOTE_PHYS32_ENTRY
3:      .asciz  "Xen"
4:      .balign 4
5:      .quad   pvh_start32
6:      .balign 4

        .section .text.boot, "ax", @progbits
        .code32
        .globl  pvh_start32
pvh_start32:
        cli
        cld
        movl    %ebx, %ebp                      /* start_info, kept across the setup */

        /* Our own GDT: the loader's descriptors are not guaranteed to stay valid. */
        lgdt    boot_gdt_ptr32
        movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movl    %eax, %fs
        movl    %eax, %gs
        movl    $boot_stack_top, %esp

        /* Zero .bss (page tables and the boot stack live there, nothing is in use yet). */
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        shrl    $2, %ecx
        xorl    %eax, %eax
        rep stosl

        /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories; 2048 x 2 MiB = 4 GiB. */
        movl    $boot_pdpt, %eax
        orl     $(PTE_P | PTE_W), %eax
        movl    %eax, boot_pml4
        xorl    %ecx, %ecx
1:      movl    %ecx, %eax
        shll    $12, %eax
        addl    $boot_pd, %eax
        orl     $(PTE_P | PTE_W), %eax
        movl    %eax, boot_pdpt(, %ecx, 8)
        incl    %ecx
        cmpl    $4, %ecx
        jne     1b
        xorl    %ecx, %ecx
2:      movl    %ecx, %eax
        shll    $21, %eax                       /* low 32 bits of ecx * 2 MiB */
        orl     $(PTE_P | PTE_W | PTE_PS), %eax
        movl    %eax, boot_pd(, %ecx, 8)
        movl    %ecx, %eax
        shrl    $11, %eax                       /* bits 32+ of ecx * 2 MiB */
        movl    %eax, boot_pd + 4(, %ecx, 8)
        incl    %ecx
        cmpl    $2048, %ecx
        jne     2b

        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4
        movl    $boot_pml4, %eax
        movl    %eax, %cr3
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $(EFER_LME | EFER_NXE), %eax
        wrmsr
        movl    %cr0, %eax
        orl     $(CR0_PG | CR0_WP | CR0_PE), %eax
        movl    %eax, %cr0
        ljmp    $0x08, $long_entry

        .code64
long_entry:
        movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        xorl    %eax, %eax
        movl    %eax, %fs
        movl    %eax, %gs
        movq    $boot_stack_top, %rsp
        movl    %ebp, %edi                      /* bsp_start(start_info) */
        xorl    %ebp, %ebp                      /* terminates frame-pointer backtraces */
        call    bsp_start
3:      cli
        hlt
        jmp     3b

/* GDT: null, 64-bit code (0x08), data (0x10), 32-bit code (0x18, unused after the switch),
 * and a 16-byte TSS descriptor at 0x20 that cpu.c fills in. */
        .data
        .balign 16
        .globl  bsp_gdt
bsp_gdt:
        .quad   0
        .quad   0x00AF9A000000FFFF
        .quad   0x00CF92000000FFFF
        .quad   0x00CF9A000000FFFF
        .quad   0, 0
bsp_gdt_end:
boot_gdt_ptr32:
        .word   bsp_gdt_end - bsp_gdt - 1
        .long   bsp_gdt

        .bss
        .balign 4096
        .globl  boot_pml4, boot_pdpt, boot_pd
boot_pml4:
        .skip   4096
boot_pdpt:
        .skip   4096
boot_pd:
        .skip   4 * 4096
        .balign 16
boot_stack:
        .skip   16384
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
