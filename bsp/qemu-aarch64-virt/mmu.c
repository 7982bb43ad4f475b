/*
 * mmu.c - the identity map: one level-1 table of 1 GiB blocks (4 KiB granule, 39-bit VA).
 *
 *   [0, 1 GiB)          Device-nGnRE, never executable: GIC, PL011, RTC, virtio-mmio slots,
 *                       PCIe MMIO window (0x1000_0000) and the low ECAM (0x3f00_0000)
 *   ECAM (high)         Device-nGnRE, the 1 GiB block holding 0x40_1000_0000 when QEMU put
 *                       the ECAM there (highmem, the default)
 *   [1 GiB, RAM top)    Normal write-back cacheable, inner shareable, not executable at EL0
 *   above               unmapped (an access is a translation fault, reported by the board)
 *
 * Device-nGnRE (not -nGnRnE): the virtio and GIC registers tolerate early write
 * acknowledgement; ordering per peripheral is kept (no reordering, no gathering).
 * Inner shareable normal memory: the attribute the driver's `dmb ish*` barriers assume
 * (src/virtio/virtio_barrier.h), and what QEMU's cache-coherent virtio DMA needs.
 */
#include "bsp_priv.h"

#define PTE_BLOCK      0x1uL
#define PTE_ATTR(i)    ((uint64_t)(i) << 2) /* MAIR_EL1 index (boot.S) */
#define PTE_SH_INNER   (3uL << 8)
#define PTE_AF         (1uL << 10)
#define PTE_PXN        (1uL << 53)
#define PTE_UXN        (1uL << 54)
#define ATTR_DEVICE    0u
#define ATTR_NORMAL_WB 1u
#define GIB            (1uL << 30)

uint64_t bsp_mmu_l1[512] __attribute__((aligned(4096)));

void bsp_mmu_build(uint64_t ram_top, uint64_t ecam)
{
    uint64_t a;

    bsp_mmu_l1[0] = 0u | PTE_BLOCK | PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN;
    /* The high ECAM (0x40_1000_0000, 256 MiB): its 1 GiB block, above any RAM we map. */
    if (ecam >= VIRT_RAM_BASE + 4u * GIB && ecam / GIB < 512u) {
        a = ecam & ~(GIB - 1u);
        bsp_mmu_l1[a / GIB] = a | PTE_BLOCK | PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN;
    }
    for (a = VIRT_RAM_BASE; a < ram_top && a / GIB < 512u; a += GIB) {
        bsp_mmu_l1[a / GIB] =
            a | PTE_BLOCK | PTE_ATTR(ATTR_NORMAL_WB) | PTE_SH_INNER | PTE_AF | PTE_UXN;
    }
}

int bsp_mmio_map(uint64_t phys, uint64_t len)
{
    if (len == 0u || phys + len < phys ||
        (phys + len > VIRT_DEVICE_TOP && (phys < (bsp_ecam_base & ~(GIB - 1u)) ||
                                          phys + len > (bsp_ecam_base | (GIB - 1u)) + 1u))) {
        return BSP_E_RANGE;
    }
    return BSP_OK;
}
