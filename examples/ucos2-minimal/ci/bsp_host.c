/*
 * ci/bsp_host.c - CI stand-in for a product's BSP: the board functions of app_bsp.h on the
 * vnet-rtos kernel's hosted CPU port (kernel/port/host: tasks are threads of one Linux
 * process, time is virtual). There is no PCI bus here, so BSP_PCI_VirtioNetFind() finds
 * nothing and the example stops after its start-up; CI checks that it got that far (kernel
 * configuration, task creation, statistics task, driver heap) and that it links. On a real
 * board these functions come from your BSP (docs/porting.md).
 */
#include <stdio.h>
#include <stdlib.h>

#include "app_bsp.h"
#include "app_cfg.h"

static void BSP_HostIdle(void)
{
    OS_TCB tcb;

    /* The application's start task is gone: nothing will ever run again, power off. */
    if (OSTaskQuery(APP_CFG_STARTUP_TASK_PRIO, &tcb) != OS_ERR_NONE) {
        fputs("bsp: start task ended, exiting\n", stdout);
        fflush(stdout);
        exit(0);
    }
}

void BSP_Init(void)
{
    OSHostIdleHook = BSP_HostIdle;
}

void BSP_IntVectSet(INT8U int_id, void (*isr)(void))
{
    (void)int_id;
    (void)isr;
}

void BSP_IntEn(INT8U int_id)
{
    (void)int_id;
}

void BSP_Ser_WrStr(const char *s)
{
    fputs(s, stdout);
    fflush(stdout);
}

INT8U BSP_PCI_VirtioNetFind(INT8U nth, struct virtio_pci_bus *bus, INT8U *int_id)
{
    (void)nth;
    (void)bus;
    (void)int_id;
    return 0u;
}

/* The uC/OS-II port's board contract (os/ucos2/osal_ucos2_board.h); no device barrier
 * hook is selected (OSAL_UCOS2_BOARD_DEVICE_MB unset): a product on hardware needs none. */
uint64_t osal_board_cycles(void)
{
    return (uint64_t)OSHostClock();
}

uint64_t osal_board_cycles_per_us(void)
{
    return 1u;
}

/* DMA on this hosted "board": the device model (if any) sees the process's addresses and
 * caches are coherent, as on x86 hardware: identity, no cache maintenance. */
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
