/*
 * This board's side of the uC/OS-II port's contract (os/ucos2/osal_ucos2_board.h): the
 * only functions the port calls on the board. Under LTO they inline into the port.
 */
#include "bsp.h"
#include "osal_ucos2_board.h"

uint64_t osal_board_cycles(void)
{
    return bsp_cycles();
}

uint64_t osal_board_cycles_per_us(void)
{
    return bsp_cycles_per_us();
}

/* Selected by this board's build (CMakeLists.txt): the TCG barrier, see bsp_device_mb(). */
void osal_board_device_mb(void)
{
    bsp_device_mb();
}

/*
 * DMA (os/ucos2/osal_ucos2_board.h). Both QEMU boards that build this file (qemu-x86_64
 * and qemu-aarch64-virt) map RAM 1:1 and QEMU's virtio devices reach guest physical
 * addresses directly, with no IOMMU configured: the DMA address is the CPU address. Their
 * device models read and write guest RAM through the host's memory, never behind the
 * guest's caches, so DMA is coherent and no cache maintenance is needed (on aarch64 the
 * board maps RAM Normal Write-Back Inner Shareable, as a coherent SoC would).
 */
uint64_t osal_board_dma_addr(const void *cpu)
{
    return (uint64_t)(uintptr_t)cpu;
}

void osal_board_dma_sync_for_device(const void *cpu, size_t len)
{
    (void)cpu;
    (void)len;
}

void osal_board_dma_sync_for_cpu(const void *cpu, size_t len)
{
    (void)cpu;
    (void)len;
}
