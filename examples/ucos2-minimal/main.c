/*
 * ucos2-minimal - the smallest product-style integration of the vnet-rtos driver with
 * uC/OS-II: one virtio-net PCI NIC, its interrupt wired Micrium style, the driver's RX
 * task and a receive callback that counts frames. docs/porting.md explains each step.
 *
 * Product files: this main.c, app_cfg.h (priorities, stacks, heap size) and os_cfg.h
 * (vnet-rtos's os/ucos2/cfg/os_cfg.h, unchanged). The board functions come from app_bsp.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "app_bsp.h"
#include "app_cfg.h"
#include "osal_port.h" /* osal_ucos2_heap_init() */
#include "ucos_ii.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"
#include "vnet/vnet_err.h"

/* ---- storage ------------------------------------------------------------------------ */

static OS_STK AppTaskStartStk[APP_CFG_STARTUP_TASK_STK_SIZE];
static OS_STK AppTaskNicRxStk[APP_CFG_VNET_RX_TASK_STK_SIZE]; /* the driver's RX task */

/* The driver's memory (DMA-capable on this board: identity mapped, cache coherent). */
static uint64_t AppNicHeap[APP_CFG_VNET_HEAP_SIZE / sizeof(uint64_t)];

static struct virtio_transport *AppNicTransport;
static struct virtio_net_dev *AppNic;

/* Written by the RX task only, read by AppTaskStart. */
static volatile INT32U AppRxFrames;
static volatile INT32U AppRxBytes;

/* ---- console helpers (no printf needed) --------------------------------------------- */

static void AppPrintU32(const char *label, INT32U v)
{
    char buf[12];
    INT8U i = sizeof(buf) - 1u;

    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + (v % 10u));
        v /= 10u;
    } while (v != 0u && i > 0u);
    BSP_Ser_WrStr(label);
    BSP_Ser_WrStr(&buf[i]);
}

static void AppPrintErr(const char *step, vnet_err_t err)
{
    BSP_Ser_WrStr("app: ");
    BSP_Ser_WrStr(step);
    BSP_Ser_WrStr(": ");
    BSP_Ser_WrStr(vnet_strerror(err));
    BSP_Ser_WrStr("\r\n");
}

/* ---- driver callbacks (RX task context: may use the OS, must not block for long) ------ */

/* One received Ethernet frame (no virtio-net header). The buffer is the driver's: copy
 * what you keep before returning. Hand it to your stack here. */
static void AppNicRx(void *p_arg, uint8_t *frame, size_t len)
{
    (void)p_arg;
    (void)frame;
    AppRxFrames++;
    AppRxBytes += (INT32U)len;
}

static void AppNicLink(void *p_arg, bool up)
{
    (void)p_arg;
    BSP_Ser_WrStr(up ? "app: link up\r\n" : "app: link down\r\n");
}

/* ---- interrupt ------------------------------------------------------------------------ */

/*
 * Installed with BSP_IntVectSet(). Micrium style: the ISR tells the kernel it runs
 * (OSIntEnter() with interrupts disabled, as OSIntNesting++ must not be interrupted) and
 * ends with OSIntExit(), which switches to the RX task if the ISR woke it. The BSP's
 * dispatcher acknowledges the interrupt controller. If your BSP's dispatcher already
 * brackets every handler with OSIntEnter()/OSIntExit(), drop them here.
 */
static void AppNicISR(void)
{
#if OS_CRITICAL_METHOD == 3u
    OS_CPU_SR cpu_sr = 0u;
#endif

    OS_ENTER_CRITICAL();
    OSIntEnter();
    OS_EXIT_CRITICAL();
    virtio_net_isr(AppNic); /* shared INTx: reads (acknowledges) the device's ISR status */
    OSIntExit();
}

/* ---- start-up task ---------------------------------------------------------------------- */

static vnet_err_t AppNicStart(void)
{
    struct virtio_pci_bus bus;
    struct virtio_net_config cfg;
    INT8U int_id;
    vnet_err_t err;

    if (BSP_PCI_VirtioNetFind(0u, &bus, &int_id) == 0u) {
        BSP_Ser_WrStr("app: no virtio-net PCI function\r\n");
        return VNET_E_NODEV;
    }
    err = virtio_pci_transport_create(&AppNicTransport, &bus, 0u);
    if (err != VNET_OK) {
        AppPrintErr("transport", err);
        return err;
    }

    /* Every field not set here is 0: the driver's default (include/vnet/virtio_net.h). */
    cfg = (struct virtio_net_config){0};
    cfg.transport = AppNicTransport;
    cfg.name = "NIC RX";
    cfg.rx_sw_ring_entries = APP_CFG_VNET_RX_SW_RING;
    cfg.rx_task_prio = APP_CFG_VNET_RX_TASK_PRIO_NIC0;
    cfg.rx_task_stack = AppTaskNicRxStk;
    cfg.rx_task_stack_bytes = sizeof(AppTaskNicRxStk);
    cfg.rx_fn = AppNicRx;
    cfg.link_fn = AppNicLink;
    err = virtio_net_attach(&AppNic, &cfg);
    if (err != VNET_OK) {
        AppPrintErr("attach", err);
        return err;
    }

    /* The interrupt before initialize: the device may interrupt once RX buffers are
     * posted. */
    BSP_IntVectSet(int_id, AppNicISR);
    BSP_IntEn(int_id);
    err = virtio_net_initialize(AppNic);
    if (err != VNET_OK) {
        AppPrintErr("initialize", err);
        return err;
    }
    BSP_Ser_WrStr("app: NIC up\r\n");
    return VNET_OK;
}

static void AppTaskStart(void *p_arg)
{
    (void)p_arg;
    BSP_Init(); /* interrupt controller, console, tick */
#if OS_TASK_STAT_EN > 0u
    OSStatInit();
#endif
    if (osal_ucos2_heap_init(AppNicHeap, sizeof(AppNicHeap)) != VNET_OK ||
        AppNicStart() != VNET_OK) {
        BSP_Ser_WrStr("app: no network\r\n");
        (void)OSTaskDel(OS_PRIO_SELF);
    }
    for (;;) {
        (void)OSTimeDlyHMSM(0u, 0u, 5u, 0u);
        AppPrintU32("app: rx frames ", AppRxFrames);
        AppPrintU32(" bytes ", AppRxBytes);
        BSP_Ser_WrStr("\r\n");
    }
}

int main(void)
{
    INT8U err;

    OSInit();
    err = OSTaskCreateExt(AppTaskStart, (void *)0,
#if OS_STK_GROWTH == 1u
                          &AppTaskStartStk[APP_CFG_STARTUP_TASK_STK_SIZE - 1u],
#else
                          &AppTaskStartStk[0],
#endif
                          APP_CFG_STARTUP_TASK_PRIO, APP_CFG_STARTUP_TASK_PRIO, &AppTaskStartStk[0],
                          APP_CFG_STARTUP_TASK_STK_SIZE, (void *)0,
                          OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR);
    if (err != OS_ERR_NONE)
        return 1;
#if OS_TASK_NAME_EN > 0u
    OSTaskNameSet(APP_CFG_STARTUP_TASK_PRIO, (INT8U *)"Start", &err);
#endif
    OSStart(); /* never returns */
    return 0;
}
