/*
 * bsp.c - board bring-up: device tree and translation tables (bsp_early, MMU off), then
 * console, interrupt stack, GIC, timers and the virtio-mmio probe (bsp_start, MMU on), then
 * the application's main(). Also the command line, free RAM and exit.
 */
#include <string.h>
#include "bsp_priv.h"
#include "../qemu-x86_64/libc/cmdline.h"
#include "ucos_ii.h"

#define CMDLINE_MAX 256u
#define GIB         (1uL << 30)

/* Semihosting (Arm "Semihosting for AArch32 and AArch64", 5.5.2 SYS_EXIT, 64-bit form). */
#define SEMIHOST_SYS_EXIT    0x18u
#define ADP_STOPPED_APP_EXIT 0x20026u

uint32_t bsp_boot_el;
uint64_t bsp_ecam_base = 0x4010000000uL; /* QEMU's default (highmem): overridden by the DT */
uint64_t bsp_boot_x0;
uint64_t bsp_v2m_base; /* GICv2m MSI frame from the DT, 0 = none (gic-version=3) */

static char cmdline[CMDLINE_MAX];
static uint64_t ram_base = VIRT_RAM_BASE, ram_size = 128uL << 20;
static uintptr_t fdt_addr;
static int fdt_ok;
static uintptr_t free_lo, free_hi;

void bsp_early(uint64_t x0);
void bsp_start(void);

/*
 * MMU off: every data access is Device-nGnRnE, so only aligned accesses (this file, fdt.c
 * and mmu.c are built with -mstrict-align). QEMU passes no device tree pointer to an ELF
 * image that is not a Linux kernel; it puts the blob at the bottom of RAM, which is where
 * we look when x0 does not point at one.
 */
void bsp_early(uint64_t x0)
{
    uint64_t top;

    fdt_addr = (x0 >= VIRT_RAM_BASE && (x0 & 7u) == 0u) ? (uintptr_t)x0 : 0u;
    if (fdt_addr == 0u || bsp_fdt_parse((const void *)fdt_addr, cmdline, sizeof cmdline, &ram_base,
                                        &ram_size, &bsp_ecam_base, &bsp_v2m_base) != 0) {
        fdt_addr = VIRT_RAM_BASE;
        fdt_ok = bsp_fdt_parse((const void *)fdt_addr, cmdline, sizeof cmdline, &ram_base,
                               &ram_size, &bsp_ecam_base, &bsp_v2m_base) == 0;
    } else {
        fdt_ok = 1;
    }
    if (!fdt_ok) {
        ram_base = VIRT_RAM_BASE;
        ram_size = 128uL << 20; /* the smallest RAM the tests give; the image fits in it */
    }
    top = ram_base + ram_size;
    if (top > VIRT_RAM_BASE + 4u * GIB) {
        top = VIRT_RAM_BASE + 4u * GIB; /* the tables map up to 4 GiB of RAM */
    }
    bsp_mmu_build(top, bsp_ecam_base);
    free_lo = ((uintptr_t)__image_end + 0xFFFFu) & ~(uintptr_t)0xFFFFu;
    free_hi = (uintptr_t)top;
}

void bsp_start(void)
{
    uint32_t i;

    bsp_uart_init();
    for (i = 0u; i < BSP_INT_STK_BYTES / 8u; i++) {
        bsp_int_stk[i] = BSP_INT_STK_FILL;
    }
    bsp_gic_init();
    bsp_timer_init();
    bsp_printf("bsp: qemu-aarch64-virt entered at EL%u, midr=0x%lx ram=0x%lx+%lu MiB "
               "image=0x%lx-0x%lx free=%lu KiB dtb=%s@0x%lx\n",
               (unsigned)bsp_boot_el, bsp_sysreg_read(midr_el1), ram_base, ram_size >> 20,
               (uint64_t)(uintptr_t)__image_start, (uint64_t)(uintptr_t)__image_end,
               (uint64_t)(free_hi - free_lo) >> 10, fdt_ok ? "ok" : "none", (uint64_t)fdt_addr);
    bsp_printf("bsp: gicv%u cntfrq=%lu Hz mmu=on caches=on sctlr=0x%lx\n", bsp_gic_version(),
               bsp_tsc_hz(), bsp_sysreg_read(sctlr_el1));
    bsp_virtio_mmio_probe();
    bsp_pcie_probe();
    (void)main();
    bsp_printf("bsp: main() returned\n");
    bsp_exit(BSP_EXIT_FAIL);
}

const char *bsp_cmdline(void)
{
    return cmdline;
}

int bsp_cmdline_get(const char *key, char *buf, size_t size)
{
    return bsp_cmdline_word(cmdline, key, buf, size);
}

void bsp_free_ram(void **base, size_t *len)
{
    *base = (void *)free_lo;
    *len = free_hi - free_lo;
}

void bsp_exit(uint32_t code)
{
    static volatile uint64_t block[2];
    register uint64_t x0 __asm__("x0") = SEMIHOST_SYS_EXIT;
    register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;

    (void)bsp_irq_save();
    block[0] = ADP_STOPPED_APP_EXIT;
    block[1] = ((uint64_t)code << 1) | 1u;
    __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
    for (;;) {
        __asm__ volatile("wfi");
    }
}
