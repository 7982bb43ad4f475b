/*
 * app_bsp.h - what this example needs from the product's board support package.
 *
 * Names follow Micrium's BSP conventions where one exists (BSP_Init, BSP_IntVectSet,
 * BSP_IntEn); the PCI part is whatever your BSP has for configuration and BAR access,
 * wrapped into the driver's struct virtio_pci_bus. ci/bsp_host.c is the stand-in used to
 * build this example in CI on the vnet-rtos kernel's hosted port (it has no PCI bus).
 */
#ifndef APP_BSP_H
#define APP_BSP_H

#include "ucos_ii.h"
#include "vnet/virtio_pci_bus.h"

/* Board bring-up after OSStart (clocks, interrupt controller, console, tick). */
void BSP_Init(void);

/* Attach isr to interrupt source int_id / unmask it (Micrium signature: void (*)(void)). */
void BSP_IntVectSet(INT8U int_id, void (*isr)(void));
void BSP_IntEn(INT8U int_id);

/* Console output of a NUL-terminated string. */
void BSP_Ser_WrStr(const char *s);

/* The nth virtio-net PCI function (vendor 0x1af4, device 0x1000 or 0x1041): fills *bus
 * with the function's configuration/BAR accessors and *int_id with the interrupt source
 * its INTx line is routed to. Returns 1 when found, 0 when not. */
INT8U BSP_PCI_VirtioNetFind(INT8U nth, struct virtio_pci_bus *bus, INT8U *int_id);

/* The driver's uC/OS-II port needs a few more board functions, declared by
 * os/ucos2/osal_ucos2_board.h (the whole board contract of the port): osal_board_cycles()
 * and osal_board_cycles_per_us(), and for DMA osal_board_dma_addr() (CPU -> bus address)
 * and osal_board_dma_sync_for_device/_for_cpu() (cache maintenance, empty when the
 * device's DMA is coherent). */

#endif /* APP_BSP_H */
