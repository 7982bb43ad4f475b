/*
 * mmu.c - uncached mappings for device memory on top of boot.S's identity map.
 *
 * Below 4 GiB every 2 MiB page is already identity-mapped write-back; a device range gets
 * PCD|PWT on the 2 MiB pages it touches (SeaBIOS's MTRRs make the PCI hole UC as well, but
 * the page attributes must not depend on firmware MTRR setup). Above 4 GiB (64-bit BARs
 * SeaBIOS may place high) page tables come from a small static pool. A 2 MiB page that also
 * holds RAM is refused: making RAM uncached would be a silent slowdown, and caching a device
 * page would be a silent bug.
 */
#include "bsp_priv.h"

#define PTE_P      (1uL << 0)
#define PTE_W      (1uL << 1)
#define PTE_PWT    (1uL << 3)
#define PTE_PCD    (1uL << 4)
#define PTE_PS     (1uL << 7)
#define PTE_ADDR   0x000FFFFFFFFFF000uL
#define PAGE_2M    0x200000uL
#define POOL_PAGES 8u

extern uint64_t boot_pml4[512], boot_pdpt[512], boot_pd[4 * 512];
extern uint64_t bsp_ram_top; /* bsp.c: end of RAM below 4 GiB */

static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned pool_used;

static uint64_t *next_level(uint64_t *entry)
{
    uint64_t *t;
    unsigned i;

    if (*entry & PTE_P) {
        return (uint64_t *)(uintptr_t)(*entry & PTE_ADDR);
    }
    if (pool_used == POOL_PAGES) {
        return NULL;
    }
    t = pool[pool_used++];
    for (i = 0u; i < 512u; i++) {
        t[i] = 0u;
    }
    *entry = (uint64_t)(uintptr_t)t | PTE_P | PTE_W;
    return t;
}

int bsp_mmio_map(uint64_t phys, uint64_t len)
{
    uint64_t a, end;
    uint64_t f;

    if (len == 0u || phys + len < phys || phys + len > (1uL << 46)) {
        return BSP_E_RANGE;
    }
    a = phys & ~(PAGE_2M - 1u);
    end = phys + len;
    if (a < bsp_ram_top) {
        return BSP_E_RANGE;
    }
    f = bsp_irq_save();
    for (; a < end; a += PAGE_2M) {
        uint64_t *pd;
        if (a < (4uL << 30)) {
            pd = &boot_pd[a >> 21];
        } else {
            uint64_t *pdpt = next_level(&boot_pml4[(a >> 39) & 511u]);
            uint64_t *pdir = pdpt != NULL ? next_level(&pdpt[(a >> 30) & 511u]) : NULL;
            if (pdir == NULL) {
                bsp_irq_restore(f);
                return BSP_E_RANGE;
            }
            pd = &pdir[(a >> 21) & 511u];
        }
        *pd = a | PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT;
        __asm__ volatile("invlpg (%0)" : : "r"((uintptr_t)a) : "memory");
    }
    bsp_irq_restore(f);
    return BSP_OK;
}
