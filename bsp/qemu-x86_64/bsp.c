/*
 * bsp.c - board bring-up after boot.S: start_info, console, CPU tables, ACPI, interrupt
 * controllers, clock calibration, PCI; then the application's main().
 */
#include <string.h>
#include "bsp_priv.h"
#include "libc/cmdline.h"
#include "bsp_pci.h"
#include "ucos_ii.h"

#define CMDLINE_MAX   256u
#define DEBUG_EXIT_IO 0xF4u

uint64_t bsp_ram_top = 0x100000u; /* end of the RAM block holding the image */

static char cmdline[CMDLINE_MAX];
static uintptr_t free_lo, free_hi;

void bsp_start(const struct hvm_start_info *si);

static void boot_info(const struct hvm_start_info *si)
{
    uintptr_t img_end = (uintptr_t)__image_end;
    uint32_t i;

    if (si == NULL || si->magic != HVM_START_MAGIC) {
        bsp_printf("bsp: bad PVH start_info, assuming 64 MiB RAM\n");
        bsp_ram_top = 64uL << 20;
    } else {
        if (si->cmdline_paddr != 0u) {
            const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
            for (i = 0u; i + 1u < CMDLINE_MAX && c[i] != '\0'; i++) {
                cmdline[i] = c[i];
            }
            cmdline[i] = '\0';
        }
        if (si->version >= 1u && si->memmap_paddr != 0u) {
            const struct hvm_memmap_entry *m =
                (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
            for (i = 0u; i < si->memmap_entries; i++) {
                /* The RAM block containing the image is the one we hand out. */
                if (m[i].type == 1u && m[i].addr <= (uint64_t)img_end &&
                    m[i].addr + m[i].size > (uint64_t)img_end) {
                    bsp_ram_top = m[i].addr + m[i].size;
                }
            }
        }
    }
    if (bsp_ram_top > (4uL << 30)) {
        bsp_ram_top = 4uL << 30; /* only the first 4 GiB is identity-mapped */
    }
    free_lo = (img_end + 0xFFFFu) & ~(uintptr_t)0xFFFFu;
    free_hi = (uintptr_t)bsp_ram_top;
}

void bsp_start(const struct hvm_start_info *si)
{
    bsp_uart_init();
    bsp_cpu_init();
    boot_info(si);
    bsp_acpi_init((si != NULL && si->magic == HVM_START_MAGIC) ? si->rsdp_paddr : 0u);
    bsp_pic_disable();
    bsp_apic_init();
    bsp_timers_calibrate();
    bsp_printf("bsp: qemu-x86_64 pvh ram_top=0x%lx image=0x%lx-0x%lx free=%lu KiB\n", bsp_ram_top,
               (uint64_t)(uintptr_t)__image_start, (uint64_t)(uintptr_t)__image_end,
               (uint64_t)(free_hi - free_lo) >> 10);
    bsp_printf("bsp: tsc=%lu Hz lapic_timer=%u Hz (div 16) pmtmr=0x%x/%u-bit lapic=0x%lx "
               "ioapic=0x%lx irq0->gsi%u\n",
               bsp_tsc_hz(), bsp_lapic_timer_hz(), (unsigned)bsp_acpi.pm_tmr_port,
               bsp_acpi.pm_tmr_32bit ? 32u : 24u, bsp_acpi.lapic_addr, bsp_acpi.ioapic_addr,
               (unsigned)bsp_acpi.isa_gsi[0]);
    bsp_pci_init();
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
    (void)bsp_irq_save();
    outl(DEBUG_EXIT_IO, code);
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}
