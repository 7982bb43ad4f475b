/*
 * pci.c - PCI enumeration through configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2),
 * BAR discovery, MSI-X table programming (PCI 3.0, 6.8.2) and the virtio-pci board bus
 * (include/vnet/virtio_pci_bus.h) for virtio-net functions.
 *
 * SeaBIOS has assigned BARs and interrupt lines before the PVH entry; we keep them and only
 * size BARs (write all-ones with decoding off, then restore).
 */
#include <string.h>
#include "bsp_pci.h"
#include "bsp_priv.h"

#define CFG_ADDR 0xCF8u
#define CFG_DATA 0xCFCu

#define PCI_VENDOR      0x00u
#define PCI_COMMAND     0x04u
#define PCI_STATUS      0x06u
#define PCI_CLASS_REV   0x08u
#define PCI_HEADER_TYPE 0x0Eu
#define PCI_BAR0        0x10u
#define PCI_SUBSYS      0x2Cu
#define PCI_CAP_PTR     0x34u
#define PCI_IRQ_LINE    0x3Cu
#define PCI_IRQ_PIN     0x3Du
#define PCI_SEC_BUS     0x19u
#define CMD_IO          (1u << 0)
#define CMD_MEM         (1u << 1)
#define CMD_MASTER      (1u << 2)
#define CMD_INTX_OFF    (1u << 10)
#define STATUS_CAPS     (1u << 4)
#define CAP_ID_MSIX     0x11u
#define MSIX_CTRL_EN    (1u << 15)
#define MSIX_CTRL_FMASK (1u << 14)
#define MSIX_ENT_MASKED 1u
#define MSI_ADDR_BASE   0xFEE00000u /* SDM vol. 3, 10.11.1 */

#define INTEL_VENDOR       0x8086u
#define I440FX_HOST_BRIDGE 0x1237u

/*
 * ICH9 LPC bridge (00:1f.0 on QEMU's q35) and its interrupt routing (Intel ICH9 datasheet,
 * 13.1 LPC configuration registers and 10.1 chipset configuration registers; QEMU
 * hw/isa/lpc_ich9.c). Each device INTx pin drives one of eight PIRQ lines A..H:
 *   - devices 25..29 and 31 on bus 0 through their DnnIR register (3 bits per pin, INTA in
 *     bits 2:0) in the chipset configuration block at RCBA;
 *   - device 30 (the DMI-to-PCI bridge) INTA..D -> PIRQE..H (QEMU's choice, fixed);
 *   - any other bus-0 slot, which a real ICH9 does not route: PIRQ E + (slot + pin) % 4
 *     (QEMU's fallback, matching its ACPI _PRT).
 * In APIC mode PIRQ n always drives IOAPIC pin 16 + n (QEMU: level, active high). Its route
 * control byte can in addition steer it to an ISA IRQ (bit 7 clear, IRQ in bits 3:0).
 */
#define ICH9_LPC_DEV           31u
#define ICH9_LPC_DEVICE        0x2918u
#define ICH9_PIRQA_ROUT        0x60u /* PIRQA..D route control, one byte each */
#define ICH9_PIRQE_ROUT        0x68u /* PIRQE..H */
#define ICH9_PIRQ_ROUT_ISA_OFF 0x80u /* set: the PIRQ drives no ISA IRQ */
#define ICH9_RCBA              0xF0u /* root complex register block base address */
#define ICH9_RCBA_EN           0x1u
#define ICH9_RCBA_MASK         0xFFFFC000u
#define ICH9_RCBA_SIZE         0x4000u
#define ICH9_DIR_DEFAULT       0x3210u /* INTA..D -> PIRQA..D, the reset value of every DnnIR */
#define ICH9_PIRQ_GSI_BASE     16u

#define VIRTIO_VENDOR     0x1AF4u
#define VIRTIO_NET_TRANS  0x1000u
#define VIRTIO_NET_MODERN 0x1041u

static struct bsp_pci_func funcs[BSP_PCI_MAX_FUNCS];
static unsigned nfuncs;
static struct bsp_pci_func *vnet[BSP_PCI_MAX_FUNCS];
static unsigned nvnet;
static uint8_t bus_seen[256 / 8];

static uint32_t cfg_read_bdf(uint8_t b, uint8_t d, uint8_t fn, uint16_t off, uint8_t width)
{
    uint32_t addr = 0x80000000u | ((uint32_t)b << 16) | ((uint32_t)d << 11) | ((uint32_t)fn << 8) |
                    (off & 0xFCu);
    uint64_t f = bsp_irq_save(); /* the address/data pair must not be split by an ISR */
    uint32_t v;

    outl(CFG_ADDR, addr);
    if (width == 1u) {
        v = inb((uint16_t)(CFG_DATA + (off & 3u)));
    } else if (width == 2u) {
        v = inw((uint16_t)(CFG_DATA + (off & 2u)));
    } else {
        v = inl(CFG_DATA);
    }
    bsp_irq_restore(f);
    return v;
}

static void cfg_write_bdf(uint8_t b, uint8_t d, uint8_t fn, uint16_t off, uint8_t width, uint32_t v)
{
    uint32_t addr = 0x80000000u | ((uint32_t)b << 16) | ((uint32_t)d << 11) | ((uint32_t)fn << 8) |
                    (off & 0xFCu);
    uint64_t f = bsp_irq_save();

    outl(CFG_ADDR, addr);
    if (width == 1u) {
        outb((uint16_t)(CFG_DATA + (off & 3u)), (uint8_t)v);
    } else if (width == 2u) {
        outw((uint16_t)(CFG_DATA + (off & 2u)), (uint16_t)v);
    } else {
        outl(CFG_DATA, v);
    }
    bsp_irq_restore(f);
}

uint32_t bsp_pci_cfg_read(const struct bsp_pci_func *f, uint16_t off, uint8_t width)
{
    if (off >= 256u || (width != 1u && width != 2u && width != 4u) || (off & (width - 1u))) {
        return 0xFFFFFFFFu; /* mechanism #1 reaches only the first 256 bytes */
    }
    return cfg_read_bdf(f->bus, f->dev, f->fn, off, width);
}

void bsp_pci_cfg_write(const struct bsp_pci_func *f, uint16_t off, uint8_t width, uint32_t v)
{
    if (off >= 256u || (width != 1u && width != 2u && width != 4u) || (off & (width - 1u))) {
        return;
    }
    cfg_write_bdf(f->bus, f->dev, f->fn, off, width, v);
}

uint8_t bsp_pci_cap_find(const struct bsp_pci_func *f, uint8_t cap_id, uint8_t start)
{
    uint8_t p;
    unsigned guard;

    if (!(bsp_pci_cfg_read(f, PCI_STATUS, 2u) & STATUS_CAPS)) {
        return 0u;
    }
    p = start == 0u ? (uint8_t)bsp_pci_cfg_read(f, PCI_CAP_PTR, 1u)
                    : (uint8_t)bsp_pci_cfg_read(f, (uint16_t)(start + 1u), 1u);
    /* 48 = the most capabilities that fit in 192 bytes: a looping list ends here. */
    for (guard = 0u; guard < 48u && p >= 0x40u; guard++) {
        p &= 0xFCu;
        if (bsp_pci_cfg_read(f, p, 1u) == cap_id) {
            return p;
        }
        p = (uint8_t)bsp_pci_cfg_read(f, (uint16_t)(p + 1u), 1u);
    }
    return 0u;
}

static void size_bars(struct bsp_pci_func *f)
{
    uint16_t cmd = (uint16_t)bsp_pci_cfg_read(f, PCI_COMMAND, 2u);
    unsigned i;

    bsp_pci_cfg_write(f, PCI_COMMAND, 2u, cmd & ~(CMD_IO | CMD_MEM));
    for (i = 0u; i < 6u; i++) {
        uint16_t off = (uint16_t)(PCI_BAR0 + 4u * i);
        uint32_t lo = bsp_pci_cfg_read(f, off, 4u), szlo;
        struct bsp_pci_bar *b = &f->bar[i];

        bsp_pci_cfg_write(f, off, 4u, 0xFFFFFFFFu);
        szlo = bsp_pci_cfg_read(f, off, 4u);
        bsp_pci_cfg_write(f, off, 4u, lo);
        if (szlo == 0u || szlo == 0xFFFFFFFFu) {
            continue;
        }
        if (lo & 1u) {
            b->is_io = 1u;
            b->addr = lo & ~3u;
            b->size = (uint32_t)(~(szlo & ~3u) + 1u) & 0xFFFFu;
        } else if (((lo >> 1) & 3u) == 2u && i < 5u) {
            uint32_t hi = bsp_pci_cfg_read(f, (uint16_t)(off + 4u), 4u), szhi;
            uint64_t mask;
            bsp_pci_cfg_write(f, (uint16_t)(off + 4u), 4u, 0xFFFFFFFFu);
            szhi = bsp_pci_cfg_read(f, (uint16_t)(off + 4u), 4u);
            bsp_pci_cfg_write(f, (uint16_t)(off + 4u), 4u, hi);
            mask = ((uint64_t)szhi << 32) | (szlo & ~0xFu);
            b->is_64 = 1u;
            b->prefetchable = (lo >> 3) & 1u;
            b->addr = ((uint64_t)hi << 32) | (lo & ~0xFu);
            b->size = ~mask + 1u;
            i++; /* the upper half is not a BAR of its own */
        } else {
            b->prefetchable = (lo >> 3) & 1u;
            b->addr = lo & ~0xFu;
            b->size = (uint32_t)(~(szlo & ~0xFu) + 1u);
        }
    }
    bsp_pci_cfg_write(f, PCI_COMMAND, 2u, cmd);
}

static void msix_probe(struct bsp_pci_func *f)
{
    uint8_t cap = bsp_pci_cap_find(f, CAP_ID_MSIX, 0u);
    uint32_t t, p;

    if (cap == 0u) {
        return;
    }
    f->msix_cap = cap;
    f->msix_table_size = (uint16_t)((bsp_pci_cfg_read(f, (uint16_t)(cap + 2u), 2u) & 0x7FFu) + 1u);
    t = bsp_pci_cfg_read(f, (uint16_t)(cap + 4u), 4u);
    p = bsp_pci_cfg_read(f, (uint16_t)(cap + 8u), 4u);
    f->msix_table_bir = (uint8_t)(t & 7u);
    f->msix_table_off = t & ~7u;
    f->msix_pba_bir = (uint8_t)(p & 7u);
    f->msix_pba_off = p & ~7u;
}

/* ---- virtio-pci bus interface ---- */

static uint32_t vbus_cfg_read(void *ctx, uint16_t off, uint8_t width)
{
    return bsp_pci_cfg_read(ctx, off, width);
}

static void vbus_cfg_write(void *ctx, uint16_t off, uint8_t width, uint32_t val)
{
    bsp_pci_cfg_write(ctx, off, width, val);
}

static int bar_ok(const struct bsp_pci_func *f, uint8_t bar, uint32_t off, uint8_t width)
{
    return bar < 6u && f->bar[bar].size != 0u && (width == 1u || width == 2u || width == 4u) &&
           (off & (width - 1u)) == 0u && (uint64_t)off + width <= f->bar[bar].size;
}

static uint32_t vbus_bar_read(void *ctx, uint8_t bar, uint32_t off, uint8_t width)
{
    const struct bsp_pci_func *f = ctx;
    uint64_t a;

    if (!bar_ok(f, bar, off, width)) {
        return 0xFFFFFFFFu; /* what a master abort reads: the transport sees a dead device */
    }
    a = f->bar[bar].addr + off;
    if (f->bar[bar].is_io) {
        return width == 1u ? inb((uint16_t)a) : width == 2u ? inw((uint16_t)a) : inl((uint16_t)a);
    }
    if (width == 1u) {
        return *(volatile uint8_t *)(uintptr_t)a;
    }
    if (width == 2u) {
        return *(volatile uint16_t *)(uintptr_t)a;
    }
    return *(volatile uint32_t *)(uintptr_t)a;
}

static void vbus_bar_write(void *ctx, uint8_t bar, uint32_t off, uint8_t width, uint32_t val)
{
    const struct bsp_pci_func *f = ctx;
    uint64_t a;

    if (!bar_ok(f, bar, off, width)) {
        return;
    }
    a = f->bar[bar].addr + off;
    if (f->bar[bar].is_io) {
        if (width == 1u) {
            outb((uint16_t)a, (uint8_t)val);
        } else if (width == 2u) {
            outw((uint16_t)a, (uint16_t)val);
        } else {
            outl((uint16_t)a, val);
        }
    } else if (width == 1u) {
        *(volatile uint8_t *)(uintptr_t)a = (uint8_t)val;
    } else if (width == 2u) {
        *(volatile uint16_t *)(uintptr_t)a = (uint16_t)val;
    } else {
        *(volatile uint32_t *)(uintptr_t)a = val;
    }
}

static volatile void *vbus_bar_map(void *ctx, uint8_t bar)
{
    const struct bsp_pci_func *f = ctx;

    if (bar >= 6u || f->bar[bar].size == 0u || f->bar[bar].is_io) {
        return NULL;
    }
    return (volatile void *)(uintptr_t)f->bar[bar].addr;
}

/* ---- enumeration ---- */

static void scan_bus(uint8_t b, unsigned depth, struct bsp_pci_func *bridge);

static void add_func(uint8_t b, uint8_t d, uint8_t fn, struct bsp_pci_func *bridge)
{
    struct bsp_pci_func *f;
    uint32_t id = cfg_read_bdf(b, d, fn, PCI_VENDOR, 4u);
    uint32_t cr;
    unsigned i;

    if (nfuncs == BSP_PCI_MAX_FUNCS) {
        bsp_printf("pci: more than %u functions, ignoring %02x:%02x.%u\n", BSP_PCI_MAX_FUNCS, b, d,
                   fn);
        return;
    }
    f = &funcs[nfuncs++];
    f->bus = b;
    f->dev = d;
    f->fn = fn;
    f->parent = bridge;
    f->vendor = (uint16_t)id;
    f->device = (uint16_t)(id >> 16);
    cr = cfg_read_bdf(b, d, fn, PCI_CLASS_REV, 4u);
    f->revision = (uint8_t)cr;
    f->prog_if = (uint8_t)(cr >> 8);
    f->subclass = (uint8_t)(cr >> 16);
    f->class_code = (uint8_t)(cr >> 24);
    f->header_type = (uint8_t)(cfg_read_bdf(b, d, fn, PCI_HEADER_TYPE, 1u) & 0x7Fu);
    f->bus_if.ctx = f;
    f->bus_if.cfg_read = vbus_cfg_read;
    f->bus_if.cfg_write = vbus_cfg_write;
    f->bus_if.bar_read = vbus_bar_read;
    f->bus_if.bar_write = vbus_bar_write;
    f->bus_if.bar_map = vbus_bar_map;
    if (f->header_type == 0u) {
        uint32_t ss = cfg_read_bdf(b, d, fn, PCI_SUBSYS, 4u);
        f->subsys_vendor = (uint16_t)ss;
        f->subsys_id = (uint16_t)(ss >> 16);
        f->irq_line = (uint8_t)cfg_read_bdf(b, d, fn, PCI_IRQ_LINE, 1u);
        f->irq_pin = (uint8_t)cfg_read_bdf(b, d, fn, PCI_IRQ_PIN, 1u);
        size_bars(f);
        msix_probe(f);
        for (i = 0u; i < 6u; i++) {
            if (f->bar[i].size != 0u && !f->bar[i].is_io &&
                bsp_mmio_map(f->bar[i].addr, f->bar[i].size) != BSP_OK) {
                bsp_printf("pci: %02x:%02x.%u BAR%u at 0x%lx not mappable, ignored\n", b, d, fn, i,
                           f->bar[i].addr);
                f->bar[i].size = 0u;
            }
        }
        if (f->vendor == VIRTIO_VENDOR &&
            (f->device == VIRTIO_NET_TRANS || f->device == VIRTIO_NET_MODERN)) {
            /* Decode and bus mastering: the driver's rings are DMA. */
            uint16_t cmd = (uint16_t)cfg_read_bdf(b, d, fn, PCI_COMMAND, 2u);
            cfg_write_bdf(b, d, fn, PCI_COMMAND, 2u, cmd | CMD_IO | CMD_MEM | CMD_MASTER);
            vnet[nvnet++] = f;
        }
    } else if (f->header_type == 1u) {
        uint8_t sec = (uint8_t)cfg_read_bdf(b, d, fn, PCI_SEC_BUS, 1u);
        if (sec != 0u) {
            scan_bus(sec, 1u, f);
        }
    }
}

static void scan_bus(uint8_t b, unsigned depth, struct bsp_pci_func *bridge)
{
    uint8_t d, fn;

    if (depth > 8u || (bus_seen[b / 8u] & (1u << (b % 8u)))) {
        return; /* bounded: a misprogrammed bridge cannot loop us */
    }
    bus_seen[b / 8u] |= (uint8_t)(1u << (b % 8u));
    for (d = 0u; d < 32u; d++) {
        uint8_t nfn = 1u;
        if ((uint16_t)cfg_read_bdf(b, d, 0u, PCI_VENDOR, 2u) == 0xFFFFu) {
            continue;
        }
        if (cfg_read_bdf(b, d, 0u, PCI_HEADER_TYPE, 1u) & 0x80u) {
            nfn = 8u;
        }
        for (fn = 0u; fn < nfn; fn++) {
            if ((uint16_t)cfg_read_bdf(b, d, fn, PCI_VENDOR, 2u) != 0xFFFFu) {
                add_func(b, d, fn, bridge);
            }
        }
    }
}

void bsp_pci_init(void)
{
    unsigned i;

    scan_bus(0u, 0u, NULL);
    for (i = 0u; i < nfuncs; i++) {
        const struct bsp_pci_func *f = &funcs[i];
        bsp_printf("pci: %02x:%02x.%u %04x:%04x class %02x.%02x irq %u pin %u msix %u\n", f->bus,
                   f->dev, f->fn, f->vendor, f->device, f->class_code, f->subclass, f->irq_line,
                   f->irq_pin, f->msix_table_size);
    }
}

unsigned bsp_pci_count(void)
{
    return nfuncs;
}

struct bsp_pci_func *bsp_pci_get(unsigned idx)
{
    return idx < nfuncs ? &funcs[idx] : NULL;
}

struct bsp_pci_func *bsp_pci_find(uint16_t vendor, uint16_t device, unsigned nth)
{
    unsigned i;

    for (i = 0u; i < nfuncs; i++) {
        if (funcs[i].vendor == vendor && funcs[i].device == device && nth-- == 0u) {
            return &funcs[i];
        }
    }
    return NULL;
}

/* ---- MSI-X ---- */

static uintptr_t msix_entry_addr(const struct bsp_pci_func *f, uint16_t entry)
{
    return (uintptr_t)(f->bar[f->msix_table_bir].addr + f->msix_table_off + 16u * entry);
}

static int msix_usable(const struct bsp_pci_func *f, uint16_t entry)
{
    if (f->msix_cap == 0u) {
        return BSP_E_NODEV;
    }
    if (entry >= f->msix_table_size || entry >= BSP_PCI_MAX_MSIX ||
        f->bar[f->msix_table_bir].size == 0u || f->bar[f->msix_table_bir].is_io) {
        return BSP_E_INVAL;
    }
    return BSP_OK;
}

int bsp_pci_msix_attach(struct bsp_pci_func *f, uint16_t entry, bsp_isr_t isr, void *arg)
{
    uintptr_t e;
    int rc = msix_usable(f, entry);
    int v;

    if (rc != BSP_OK) {
        return rc;
    }
    v = f->msix_vector[entry];
    if (v == 0) {
        v = bsp_vector_alloc();
        if (v < 0) {
            return v;
        }
        f->msix_vector[entry] = (uint8_t)v;
    }
    rc = bsp_int_vect_set((uint8_t)v, isr, arg);
    if (rc != BSP_OK) {
        return rc;
    }
    e = msix_entry_addr(f, entry);
    /* Mask while the address/data pair changes so no half-written message is sent
     * (PCI 3.0, 6.8.2.9). Fixed delivery, physical destination, edge. */
    mmio_write32(e + 12u, mmio_read32(e + 12u) | MSIX_ENT_MASKED);
    mmio_write32(e + 0u, MSI_ADDR_BASE | (bsp_lapic_id() << 12));
    mmio_write32(e + 4u, 0u);
    mmio_write32(e + 8u, (uint32_t)v);
    mmio_write32(e + 12u, mmio_read32(e + 12u) & ~MSIX_ENT_MASKED);
    return BSP_OK;
}

int bsp_pci_msix_mask(struct bsp_pci_func *f, uint16_t entry, int masked)
{
    uintptr_t e;
    uint32_t c;
    int rc = msix_usable(f, entry);

    if (rc != BSP_OK) {
        return rc;
    }
    e = msix_entry_addr(f, entry);
    c = mmio_read32(e + 12u);
    mmio_write32(e + 12u, masked ? (c | MSIX_ENT_MASKED) : (c & ~MSIX_ENT_MASKED));
    return BSP_OK;
}

int bsp_pci_msix_entry_read(const struct bsp_pci_func *f, uint16_t entry, uint64_t *addr,
                            uint32_t *data, uint32_t *ctrl)
{
    uintptr_t e;
    int rc = msix_usable(f, entry);

    if (rc != BSP_OK) {
        return rc;
    }
    e = msix_entry_addr(f, entry);
    *addr = mmio_read32(e) | ((uint64_t)mmio_read32(e + 4u) << 32);
    *data = mmio_read32(e + 8u);
    *ctrl = mmio_read32(e + 12u);
    return BSP_OK;
}

int bsp_pci_msix_enable(struct bsp_pci_func *f)
{
    uint16_t ctrl;
    uint16_t cmd;

    if (f->msix_cap == 0u) {
        return BSP_E_NODEV;
    }
    cmd = (uint16_t)bsp_pci_cfg_read(f, PCI_COMMAND, 2u);
    bsp_pci_cfg_write(f, PCI_COMMAND, 2u, cmd | CMD_INTX_OFF | CMD_MEM | CMD_MASTER);
    ctrl = (uint16_t)bsp_pci_cfg_read(f, (uint16_t)(f->msix_cap + 2u), 2u);
    bsp_pci_cfg_write(f, (uint16_t)(f->msix_cap + 2u), 2u,
                      (ctrl | MSIX_CTRL_EN) & ~MSIX_CTRL_FMASK);
    return BSP_OK;
}

int bsp_pci_msix_disable(struct bsp_pci_func *f)
{
    uint16_t ctrl;

    if (f->msix_cap == 0u) {
        return BSP_E_NODEV;
    }
    ctrl = (uint16_t)bsp_pci_cfg_read(f, (uint16_t)(f->msix_cap + 2u), 2u);
    bsp_pci_cfg_write(f, (uint16_t)(f->msix_cap + 2u), 2u, ctrl & ~MSIX_CTRL_EN);
    return BSP_OK;
}

/* ---- INTx ---- */

/* Bus-0 slot and pin (0 = INTA) at which a function's INTx enters the root complex: every
 * bridge on the way swizzles the pin by the device number below it (PCI-to-PCI Bridge
 * Architecture 1.2, 9.1; QEMU's bridges and PCIe root ports do the same). */
static int intx_root_pin(const struct bsp_pci_func *f, uint8_t *slot, uint8_t *pin)
{
    uint8_t p = (uint8_t)(f->irq_pin - 1u);
    unsigned hops = 0u;

    while (f->parent != NULL) {
        p = (uint8_t)((p + f->dev) % 4u);
        f = f->parent;
        if (++hops > 8u) {
            return BSP_E_NODEV; /* deeper than the enumeration goes: not our tree */
        }
    }
    if (f->bus != 0u) {
        return BSP_E_NODEV;
    }
    *slot = f->dev;
    *pin = p;
    return BSP_OK;
}

/* DnnIR of bus-0 device `slot` (25..29, 31) from the chipset configuration block, or its
 * reset value when firmware left RCBA disabled or it cannot be mapped. */
static uint16_t ich9_dir(const struct bsp_pci_func *lpc, uint8_t slot)
{
    /* D31IR 0x3140, D30IR 0x3142, D29IR 0x3144, D28IR 0x3146, D27IR 0x3148, then a gap:
     * D26IR 0x314C, D25IR 0x3150. */
    uint32_t off = slot >= 27u ? 0x3140u + 2u * (31u - slot) : (slot == 26u ? 0x314Cu : 0x3150u);
    uint32_t rcba = bsp_pci_cfg_read(lpc, ICH9_RCBA, 4u);
    uint64_t base = rcba & ICH9_RCBA_MASK;

    if ((rcba & ICH9_RCBA_EN) == 0u || base == 0u || bsp_mmio_map(base, ICH9_RCBA_SIZE) != BSP_OK) {
        return ICH9_DIR_DEFAULT;
    }
    return *(volatile const uint16_t *)(uintptr_t)(base + off);
}

/* q35: the IOAPIC pin (GSI) of a function's INTx through the ICH9 PIRQ routing. The PIRQ's
 * ISA route is switched off so that the line drives only its IOAPIC pin, as in APIC mode it
 * should: nothing on this board listens to the 8259, and an ISA IRQ shared with a PIRQ would
 * otherwise see this device's level too. */
static int q35_intx_gsi(const struct bsp_pci_func *f, uint32_t *gsi)
{
    const struct bsp_pci_func *lpc = bsp_pci_find(INTEL_VENDOR, ICH9_LPC_DEVICE, 0u);
    uint8_t slot, pin, pirq, rout;
    uint16_t rout_off;
    int rc;

    if (lpc == NULL || lpc->bus != 0u || lpc->dev != ICH9_LPC_DEV || lpc->fn != 0u) {
        return BSP_E_NODEV;
    }
    rc = intx_root_pin(f, &slot, &pin);
    if (rc != BSP_OK) {
        return rc;
    }
    if (slot == 30u) {
        pirq = (uint8_t)(4u + pin);
    } else if (slot >= 25u) {
        pirq = (uint8_t)((ich9_dir(lpc, slot) >> (4u * pin)) & 0x7u);
    } else {
        pirq = (uint8_t)(4u + (slot + pin) % 4u);
    }
    rout_off = (uint16_t)(pirq < 4u ? ICH9_PIRQA_ROUT + pirq : ICH9_PIRQE_ROUT + (pirq - 4u));
    rout = (uint8_t)bsp_pci_cfg_read(lpc, rout_off, 1u);
    if ((rout & ICH9_PIRQ_ROUT_ISA_OFF) == 0u) {
        bsp_pci_cfg_write(lpc, rout_off, 1u, rout | ICH9_PIRQ_ROUT_ISA_OFF);
    }
    *gsi = ICH9_PIRQ_GSI_BASE + pirq;
    bsp_printf("pci: %02x:%02x.%u INT%c -> slot %u INT%c -> PIRQ%c -> GSI %u (ISA route %s)\n",
               f->bus, f->dev, f->fn, 'A' + f->irq_pin - 1, slot, 'A' + pin, 'A' + pirq,
               (unsigned)*gsi, (rout & ICH9_PIRQ_ROUT_ISA_OFF) ? "was off" : "switched off");
    return BSP_OK;
}

int bsp_pci_intx_attach(struct bsp_pci_func *f, bsp_isr_t isr, void *arg)
{
    int level = 1, low = 0, v, rc;
    uint32_t gsi;
    uint16_t cmd;

    if (f->irq_pin == 0u || f->irq_pin > 4u) {
        return BSP_E_NODEV;
    }
    if (funcs[0].vendor == INTEL_VENDOR && funcs[0].device == I440FX_HOST_BRIDGE) {
        /* "pc": the line register SeaBIOS wrote is the PIIX3 PIRQ's ISA IRQ; the MADT's
         * override for it says how the IOAPIC sees it (QEMU: level, active high). */
        if (f->irq_line == 0u || f->irq_line == 0xFFu) {
            return BSP_E_NODEV;
        }
        gsi = bsp_isa_irq_to_gsi(f->irq_line, &level, &low);
        if (f->irq_line < 16u && bsp_acpi.isa_flags[f->irq_line] == 0u) {
            level = 1;
            low = 0;
        }
    } else {
        /* "q35" (or refused): PIRQ lines on IOAPIC pins 16-23, level, active high as in
         * QEMU's ACPI _PRT. The line register (SeaBIOS's 8259 routing) is not used. */
        rc = q35_intx_gsi(f, &gsi);
        if (rc != BSP_OK) {
            return rc;
        }
    }
    v = bsp_ioapic_route(gsi, level, low, isr, arg);
    if (v < 0) {
        return v;
    }
    f->intx_vector = (uint8_t)v;
    f->intx_gsi = (uint8_t)gsi;
    cmd = (uint16_t)bsp_pci_cfg_read(f, PCI_COMMAND, 2u);
    bsp_pci_cfg_write(f, PCI_COMMAND, 2u, cmd & ~CMD_INTX_OFF);
    return BSP_OK;
}

/* ---- virtio-net ---- */

unsigned bsp_virtio_net_count(void)
{
    return nvnet;
}

struct bsp_pci_func *bsp_virtio_net_func(unsigned idx)
{
    return idx < nvnet ? vnet[idx] : NULL;
}

const struct virtio_pci_bus *bsp_virtio_net_bus(unsigned idx)
{
    return idx < nvnet ? &vnet[idx]->bus_if : NULL;
}
