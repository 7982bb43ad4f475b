/*
 * gic.c - the interrupt controller (GICv3 through the ICC system registers, or GICv2
 * memory-mapped; whichever -M virt,gic-version= gave), the central IRQ handler and the
 * fault report.
 *
 * GICv3 bring-up (GIC architecture spec IHI0069, 12.x; the traps seen in other ports'
 * issues): the distributor with affinity routing (ARE) before the groups are enabled, every
 * SPI in group 1 routed to affinity 0.0.0.0, the redistributor woken (GICR_WAKER
 * ProcessorSleep = 0, then wait for ChildrenAsleep = 0), SGIs/PPIs in group 1, then
 * ICC_SRE_EL1.SRE, ICC_PMR_EL1, ICC_IGRPEN1_EL1. QEMU's virt GIC has no security extensions
 * unless secure=on (GICD_CTLR.DS = 1): group 1 is signalled as IRQ at EL1.
 * Version detection: ID_AA64PFR0_EL1.GIC says whether the CPU interface has system
 * registers; QEMU sets it exactly when a GICv3 is connected.
 *
 * MSI (bsp_msi_alloc): with gic-version=2 QEMU adds a GICv2m frame (hw/intc/arm_gicv2m.c;
 * 0x0802_0000 on virt, found in the device tree). MSI_TYPER (frame + 0x008) gives the first
 * INTID it may raise (bits 25:16; QEMU: SPI 48 = INTID 80) and how many (bits 9:0; QEMU:
 * 64); a 32-bit write of an INTID in that range to MSI_SETSPI_NS (frame + 0x040) pulses
 * that SPI, so those SPIs are configured edge-triggered. A PCI function's MSI-X entry is
 * then address = frame + 0x040, data = INTID. With gic-version=3 QEMU offers MSI only
 * through the ITS, which this board does not drive: no MSI there (bsp_msi_count() = 0).
 */
#include <stdbool.h>
#include "bsp_priv.h"
#include "ucos_ii.h"

#define GICD_CTLR       0x0000u
#define GICD_TYPER      0x0004u
#define GICD_IGROUPR    0x0080u
#define GICD_ISENABLER  0x0100u
#define GICD_ICENABLER  0x0180u
#define GICD_ICPENDR    0x0280u
#define GICD_IPRIORITYR 0x0400u
#define GICD_ITARGETSR  0x0800u
#define GICD_ICFGR      0x0C00u
#define GICD_IROUTER    0x6000u
#define GICD_CTLR_RWP   (1u << 31)
/* Bits 0, 1 and 4 mean "enable group 0/1, affinity routing" with DS = 1 and "enable group
 * 1 (NS), group 1A, ARE_NS" in the non-secure view with DS = 0: right either way. */
#define GICD_CTLR_V3_ARE  (1u << 4)
#define GICD_CTLR_V3_GRPS ((1u << 1) | (1u << 0))

#define GICR_WAKER            0x0014u
#define GICR_WAKER_SLEEP      (1u << 1)
#define GICR_WAKER_CHILDSLEEP (1u << 2)
#define GICR_SGI_BASE         0x10000u
#define GICR_IGROUPR0         (GICR_SGI_BASE + 0x0080u)
#define GICR_ISENABLER0       (GICR_SGI_BASE + 0x0100u)
#define GICR_ICENABLER0       (GICR_SGI_BASE + 0x0180u)
#define GICR_IPRIORITYR       (GICR_SGI_BASE + 0x0400u)

#define GICC_CTLR 0x00u
#define GICC_PMR  0x04u
#define GICC_BPR  0x08u
#define GICC_IAR  0x0Cu
#define GICC_EOIR 0x10u

#define V2M_MSI_TYPER     0x008u
#define V2M_MSI_SETSPI_NS 0x040u

#define GIC_PRIO_DEFAULT 0x80u
#define GIC_PMR_ALL      0xF0u
#define WAKE_POLLS       1000000u
#define ISRS_PER_ID      4u
#define IRQS_PER_ENTRY   8u /* IDs acknowledged per exception before returning */

struct id_isr {
    bsp_isr_t fn;
    void *arg;
};

static unsigned gic_ver;
static uint32_t gic_lines; /* SPI + PPI + SGI IDs the distributor implements */
static struct id_isr isrs[BSP_INTID_MAX][ISRS_PER_ID];
static volatile uint32_t id_count[BSP_INTID_MAX];
static uint32_t msi_base, msi_count, msi_used; /* the v2m frame's INTIDs [base, base + count) */

static void gicd_wait_rwp(void)
{
    uint32_t i;

    for (i = 0u; i < WAKE_POLLS && (mmio_read32(VIRT_GICD_BASE + GICD_CTLR) & GICD_CTLR_RWP); i++) {
    }
}

static void gic3_init(void)
{
    uint32_t i;

    mmio_write32(VIRT_GICD_BASE + GICD_CTLR, 0u);
    gicd_wait_rwp();
    mmio_write32(VIRT_GICD_BASE + GICD_CTLR, GICD_CTLR_V3_ARE);
    gicd_wait_rwp();
    for (i = 32u; i < gic_lines; i += 32u) {
        mmio_write32(VIRT_GICD_BASE + GICD_ICENABLER + i / 8u, 0xFFFFFFFFu);
        mmio_write32(VIRT_GICD_BASE + GICD_ICPENDR + i / 8u, 0xFFFFFFFFu);
        mmio_write32(VIRT_GICD_BASE + GICD_IGROUPR + i / 8u, 0xFFFFFFFFu);
    }
    for (i = 32u; i < gic_lines; i++) {
        mmio_write8(VIRT_GICD_BASE + GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT);
        mmio_write64(VIRT_GICD_BASE + GICD_IROUTER + 8u * i, 0u); /* affinity 0.0.0.0 */
    }
    gicd_wait_rwp();
    mmio_write32(VIRT_GICD_BASE + GICD_CTLR, GICD_CTLR_V3_ARE | GICD_CTLR_V3_GRPS);
    gicd_wait_rwp();

    /* Redistributor of CPU 0 (the first frame). */
    mmio_write32(VIRT_GICR_BASE + GICR_WAKER,
                 mmio_read32(VIRT_GICR_BASE + GICR_WAKER) & ~GICR_WAKER_SLEEP);
    for (i = 0u;
         i < WAKE_POLLS && (mmio_read32(VIRT_GICR_BASE + GICR_WAKER) & GICR_WAKER_CHILDSLEEP) != 0u;
         i++) {
    }
    mmio_write32(VIRT_GICR_BASE + GICR_ICENABLER0, 0xFFFFFFFFu);
    mmio_write32(VIRT_GICR_BASE + GICR_IGROUPR0, 0xFFFFFFFFu);
    for (i = 0u; i < 32u; i++) {
        mmio_write8(VIRT_GICR_BASE + GICR_IPRIORITYR + i, GIC_PRIO_DEFAULT);
    }

    /* CPU interface. */
    bsp_sysreg_write(S3_0_C12_C12_5, bsp_sysreg_read(S3_0_C12_C12_5) | 0x7u); /* SRE|DFB|DIB */
    bsp_isb();
    bsp_sysreg_write(S3_0_C4_C6_0, GIC_PMR_ALL); /* ICC_PMR_EL1 */
    bsp_sysreg_write(S3_0_C12_C12_3, 0u);        /* ICC_BPR1_EL1: no subpriority */
    bsp_sysreg_write(S3_0_C12_C12_4, 0u);        /* ICC_CTLR_EL1: EOImode 0 (EOI deactivates) */
    bsp_sysreg_write(S3_0_C12_C12_7, 1u);        /* ICC_IGRPEN1_EL1 */
    bsp_isb();
}

static void gic2_init(void)
{
    uint32_t i;

    mmio_write32(VIRT_GICD_BASE + GICD_CTLR, 0u);
    for (i = 0u; i < gic_lines; i += 32u) {
        mmio_write32(VIRT_GICD_BASE + GICD_ICENABLER + i / 8u, 0xFFFFFFFFu);
        mmio_write32(VIRT_GICD_BASE + GICD_ICPENDR + i / 8u, 0xFFFFFFFFu);
    }
    for (i = 0u; i < gic_lines; i++) {
        mmio_write8(VIRT_GICD_BASE + GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT);
        if (i >= 32u) {
            mmio_write8(VIRT_GICD_BASE + GICD_ITARGETSR + i, 0x01u); /* CPU interface 0 */
        }
    }
    mmio_write32(VIRT_GICD_BASE + GICD_CTLR, 1u);
    mmio_write32(VIRT_GICC_BASE + GICC_PMR, GIC_PMR_ALL);
    mmio_write32(VIRT_GICC_BASE + GICC_BPR, 0u);
    mmio_write32(VIRT_GICC_BASE + GICC_CTLR, 1u);
}

/* The GICv2m frame, if the device tree named one: which INTIDs it raises, bounded by the
 * distributor's lines and the IDs this board dispatches. */
static void v2m_init(void)
{
    uint32_t typer, base, count, top;

    if (bsp_v2m_base == 0u || bsp_v2m_base >= VIRT_DEVICE_TOP) {
        return; /* none, or outside the device map (not what QEMU makes) */
    }
    typer = mmio_read32((uintptr_t)bsp_v2m_base + V2M_MSI_TYPER);
    base = (typer >> 16) & 0x3FFu;
    count = typer & 0x3FFu;
    top = gic_lines < BSP_INTID_MAX ? gic_lines : BSP_INTID_MAX;
    if (base < 32u || base >= top || count == 0u) {
        bsp_printf("bsp: gicv2m at 0x%lx: MSI_TYPER 0x%x unusable, no MSI\n", bsp_v2m_base,
                   (unsigned)typer);
        return;
    }
    if (count > top - base) {
        count = top - base;
    }
    msi_base = base;
    msi_count = count;
    bsp_printf("bsp: gicv2m frame 0x%lx: MSI on INTID %u-%u\n", bsp_v2m_base, (unsigned)base,
               (unsigned)(base + count - 1u));
}

void bsp_gic_init(void)
{
    uint64_t pfr0 = bsp_sysreg_read(id_aa64pfr0_el1);

    gic_ver = ((pfr0 >> 24) & 0xFu) != 0u ? 3u : 2u;
    gic_lines = ((mmio_read32(VIRT_GICD_BASE + GICD_TYPER) & 0x1Fu) + 1u) * 32u;
    if (gic_lines > 1020u) {
        gic_lines = 1020u;
    }
    if (gic_ver == 3u) {
        gic3_init();
    } else {
        gic2_init();
        v2m_init();
    }
}

unsigned bsp_gic_version(void)
{
    return gic_ver;
}

unsigned bsp_msi_count(void)
{
    return msi_count;
}

int bsp_msi_alloc(uint32_t *intid)
{
    OS_CPU_SR cpu_sr;
    int rc = BSP_E_NOSPACE;

    if (msi_count == 0u) {
        return BSP_E_NODEV;
    }
    OS_ENTER_CRITICAL();
    if (msi_used < msi_count) {
        *intid = msi_base + msi_used++;
        rc = BSP_OK;
    }
    OS_EXIT_CRITICAL();
    return rc;
}

int bsp_msi_message(uint32_t intid, uint64_t *addr, uint32_t *data)
{
    if (msi_count == 0u || intid < msi_base || intid >= msi_base + msi_count) {
        return BSP_E_INVAL;
    }
    *addr = bsp_v2m_base + V2M_MSI_SETSPI_NS;
    *data = intid;
    return BSP_OK;
}

static void gic_enable(uint32_t id, int on)
{
    uint32_t bit = 1u << (id % 32u);

    if (gic_ver == 3u && id < 32u) {
        mmio_write32(VIRT_GICR_BASE + (on ? GICR_ISENABLER0 : GICR_ICENABLER0), bit);
    } else {
        mmio_write32(VIRT_GICD_BASE + (on ? GICD_ISENABLER : GICD_ICENABLER) + 4u * (id / 32u),
                     bit);
    }
}

static void gic_set_edge(uint32_t id, int edge)
{
    uintptr_t r = VIRT_GICD_BASE + GICD_ICFGR + 4u * (id / 16u);
    uint32_t bit = 2u << (2u * (id % 16u)), v;

    if (id < 32u) {
        return; /* SGIs and PPIs: fixed configuration (the timers are level) */
    }
    v = mmio_read32(r);
    mmio_write32(r, edge ? (v | bit) : (v & ~bit));
}

int bsp_irq_attach(uint32_t intid, int edge, bsp_isr_t isr, void *arg)
{
    OS_CPU_SR cpu_sr;
    unsigned i, n = 0u;
    int rc = BSP_E_BUSY;

    if (intid >= BSP_INTID_MAX || intid >= gic_lines || intid < 16u || isr == NULL) {
        return BSP_E_INVAL;
    }
    OS_ENTER_CRITICAL();
    for (i = 0u; i < ISRS_PER_ID; i++) {
        if (isrs[intid][i].fn != NULL) {
            n++;
        } else if (rc != BSP_OK) {
            isrs[intid][i].fn = isr;
            isrs[intid][i].arg = arg;
            rc = BSP_OK;
        }
    }
    if (rc == BSP_OK && n == 0u) {
        gic_set_edge(intid, edge);
        gic_enable(intid, 1);
    }
    OS_EXIT_CRITICAL();
    return rc;
}

int bsp_irq_detach(uint32_t intid, bsp_isr_t isr, void *arg)
{
    OS_CPU_SR cpu_sr;
    unsigned i, left = 0u;
    int rc = BSP_E_INVAL;

    if (intid >= BSP_INTID_MAX) {
        return BSP_E_INVAL;
    }
    OS_ENTER_CRITICAL();
    for (i = 0u; i < ISRS_PER_ID; i++) {
        if (rc != BSP_OK && isrs[intid][i].fn == isr && isrs[intid][i].arg == arg) {
            isrs[intid][i].fn = NULL;
            isrs[intid][i].arg = NULL;
            rc = BSP_OK;
        } else if (isrs[intid][i].fn != NULL) {
            left++;
        }
    }
    if (rc == BSP_OK && left == 0u) {
        gic_enable(intid, 0);
    }
    OS_EXIT_CRITICAL();
    return rc;
}

int bsp_irq_mask(uint32_t intid, int masked)
{
    if (intid >= gic_lines) {
        return BSP_E_INVAL;
    }
    gic_enable(intid, !masked);
    return BSP_OK;
}

uint32_t bsp_int_count(uint32_t intid)
{
    return intid < BSP_INTID_MAX ? id_count[intid] : 0u;
}

void bsp_int_stk_usage(uint32_t *used, uint32_t *size)
{
    uint32_t i = 0u, words = BSP_INT_STK_BYTES / 8u;

    while (i < words && bsp_int_stk[i] == BSP_INT_STK_FILL) {
        i++;
    }
    *used = (words - i) * 8u;
    *size = BSP_INT_STK_BYTES;
}

static uint32_t gic_ack(void)
{
    if (gic_ver == 3u) {
        return (uint32_t)bsp_sysreg_read(S3_0_C12_C12_0); /* ICC_IAR1_EL1 */
    }
    return mmio_read32(VIRT_GICC_BASE + GICC_IAR);
}

static void gic_eoi(uint32_t iar)
{
    if (gic_ver == 3u) {
        bsp_sysreg_write(S3_0_C12_C12_1, iar); /* ICC_EOIR1_EL1 */
        bsp_isb();
    } else {
        mmio_write32(VIRT_GICC_BASE + GICC_EOIR, iar);
    }
}

/*
 * The board's BSP_IntHandler (kernel/port/aarch64/os_cpu.h). Acknowledge, run the
 * handlers, EOI, repeat while IDs are pending (bounded); EOI goes out before OSIntExit():
 * if the kernel switches, the entry resumes another task and this interrupt must not stay
 * active meanwhile.
 */
void OS_CPU_IntHandler(OS_CPU_FRAME *frame)
{
    unsigned n;

    (void)frame;
    OSIntEnter();
    for (n = 0u; n < IRQS_PER_ENTRY; n++) {
        uint32_t iar = gic_ack();
        uint32_t id = iar & (gic_ver == 3u ? 0xFFFFFFu : 0x3FFu);
        unsigned i, handled = 0u;

        if (id >= 1020u) {
            break; /* spurious: nothing (more) pending */
        }
        if (id < BSP_INTID_MAX) {
            id_count[id]++;
            for (i = 0u; i < ISRS_PER_ID; i++) {
                if (isrs[id][i].fn != NULL) {
                    isrs[id][i].fn(isrs[id][i].arg);
                    handled++;
                }
            }
        }
        if (handled == 0u) {
            gic_enable(id, 0); /* nobody's: keep it from storming */
            bsp_printf("bsp: interrupt %u has no handler, masked\n", (unsigned)id);
        }
        gic_eoi(iar);
    }
    OSIntExit();
}

/* ---- Fault report ---- */

static const char *ec_name(uint32_t ec)
{
    switch (ec) {
    case 0x00u:
        return "unknown/undefined instruction";
    case 0x01u:
        return "WFI/WFE trapped";
    case 0x07u:
        return "FP/SIMD access trapped";
    case 0x0Eu:
        return "illegal execution state";
    case 0x15u:
        return "SVC";
    case 0x18u:
        return "system register access trapped";
    case 0x20u:
    case 0x21u:
        return "instruction abort";
    case 0x22u:
        return "PC alignment";
    case 0x24u:
    case 0x25u:
        return "data abort";
    case 0x26u:
        return "SP alignment";
    case 0x2Fu:
        return "SError";
    case 0x3Cu:
        return "BRK";
    default:
        return "?";
    }
}

static const char *const kind_names[] = {"sync", "irq", "fiq", "serror", "switch"};

void OS_CPU_FaultHandler(OS_CPU_FRAME *f, INT64U esr, INT64U far, INT32U nested)
{
    uint32_t ec = (uint32_t)(esr >> 26) & 0x3Fu;
    unsigned i;

    bsp_printf("\nFAULT %s ec=0x%x (%s) esr=0x%lx elr=0x%lx far=0x%lx spsr=0x%lx\n",
               f->kind <= OS_CPU_KIND_SWITCH ? kind_names[f->kind] : "?", (unsigned)ec, ec_name(ec),
               esr, f->elr, far, f->spsr);
    if (nested != 0u) {
        bsp_printf("FAULT taken %s\n", nested == 1u ? "inside an exception handler (SP_EL1)"
                                                    : "from a lower exception level");
    } else if (OSRunning) {
        bsp_printf("FAULT task prio=%u name=%s ctxsw=%u int_depth=%u os_int_nesting=%u\n",
                   (unsigned)OSPrioCur,
                   (OSTCBCur != NULL && OSTCBCur->OSTCBTaskName != NULL)
                       ? (const char *)OSTCBCur->OSTCBTaskName
                       : "?",
                   (unsigned)OSCtxSwCtr, (unsigned)OS_CPU_IntDepth, (unsigned)OSIntNesting);
    } else {
        bsp_printf("FAULT before OSStart (no task)\n");
    }
    if (ec == 0x24u || ec == 0x25u) {
        uint32_t dfsc = (uint32_t)esr & 0x3Fu;
        bsp_printf("FAULT data abort: %s, %s, level %u\n", (esr & (1u << 6)) ? "write" : "read",
                   (dfsc & 0x3Cu) == 0x04u   ? "translation fault"
                   : (dfsc & 0x3Cu) == 0x0Cu ? "permission fault"
                   : dfsc == 0x21u           ? "alignment fault"
                                             : "other",
                   (unsigned)(dfsc & 3u));
    }
    for (i = 0u; i + 3u < 31u; i += 4u) {
        bsp_printf("FAULT x%-2u=%016lx x%-2u=%016lx x%-2u=%016lx x%-2u=%016lx\n", i, f->x[i],
                   i + 1u, f->x[i + 1u], i + 2u, f->x[i + 2u], i + 3u, f->x[i + 3u]);
    }
    bsp_printf("FAULT x28=%016lx x29=%016lx x30=%016lx\n", f->x[28], f->x[29], f->x[30]);
    bsp_printf("FAULT halted\n");
    bsp_exit(BSP_EXIT_FAULT);
}
