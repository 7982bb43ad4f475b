/*
 * pcie.c - virt's PCIe host bridge (QEMU gpex): ECAM where the device tree says (0x40_1000_0000,
 * or 0x3f00_0000 with highmem=off), 32-bit
 * MMIO window 0x1000_0000-0x3efe_ffff, I/O window at CPU 0x3eff_0000 (PCI ports 0-0xffff),
 * INTx on SPI 3-6. Without firmware nobody assigns BARs, so the board does: it enumerates
 * bus 0 (where -device virtio-net-pci lands), sizes every BAR, places it in the windows,
 * enables decoding and bus mastering, and hands virtio network functions to the
 * application as struct virtio_pci_bus. Interrupts are INTx unless the application routes
 * MSI-X entries (bsp_pcie_msix_attach: GICv2m, gic-version=2 only; see gic.c): virt's
 * device-tree interrupt-map swizzles pin P (1-4) of device D to SPI 3 + (D + P - 1) mod 4,
 * level-triggered.
 */
#include <stdbool.h>
#include "bsp_priv.h"
#include "vnet/virtio_pci_bus.h"

#define MMIO32_BASE          0x10000000uL
#define MMIO32_END           0x3eff0000uL
#define PIO_CPU_BASE         0x3eff0000uL
#define PIO_SIZE             0x10000uL
#define PCI_VENDOR_QUMRANET  0x1AF4u
#define PCI_CMD_IO           0x1u
#define PCI_CMD_MEM          0x2u
#define PCI_CMD_MASTER       0x4u
#define PCI_CMD_INTX_DISABLE 0x400u
#define PCI_STATUS_CAPLIST   0x10u
#define PCI_CAP_ID_MSIX      0x11u
#define MSIX_CTRL_FMASK      0x4000u
#define MSIX_CTRL_EN         0x8000u
#define MSIX_ENT_MASKED      0x1u
#define INTX_SPI_BASE        3u
#define MAX_FUNCS            32u

static struct bsp_pcie_func funcs[MAX_FUNCS];
static unsigned nfuncs;
static unsigned net_idx[MAX_FUNCS];
static unsigned nnet;
static struct virtio_pci_bus net_bus[MAX_FUNCS];
static uint64_t mmio_next = MMIO32_BASE, pio_next = 0x1000u;

static uintptr_t cfg_addr(const struct bsp_pcie_func *f, uint16_t off)
{
    return (uintptr_t)bsp_ecam_base + ((uintptr_t)f->bus << 20) + ((uintptr_t)f->dev << 15) +
           ((uintptr_t)f->fn << 12) + off;
}

static uint32_t cfg_read(void *ctx, uint16_t off, uint8_t width)
{
    uintptr_t a = cfg_addr(ctx, off);

    if (off >= 4096u) {
        return 0xFFFFFFFFu;
    }
    return bsp_mmio_read(a, width);
}

static void cfg_write(void *ctx, uint16_t off, uint8_t width, uint32_t val)
{
    uintptr_t a = cfg_addr(ctx, off);

    if (off >= 4096u) {
        return;
    }
    bsp_mmio_write(a, width, val);
}

/* CPU address of BAR `bar` + off, or 0 when the BAR is absent or off is past its end. */
static uintptr_t bar_addr(const struct bsp_pcie_func *f, uint8_t bar, uint32_t off)
{
    if (bar >= 6u || f->bar_size[bar] == 0u || off >= f->bar_size[bar]) {
        return 0u;
    }
    return (uintptr_t)((f->bar_is_io[bar] ? PIO_CPU_BASE : 0u) + f->bar_addr[bar] + off);
}

static uint32_t bar_read(void *ctx, uint8_t bar, uint32_t off, uint8_t width)
{
    uintptr_t a = bar_addr(ctx, bar, off);

    if (a == 0u) {
        return 0xFFFFFFFFu;
    }
    return bsp_mmio_read(a, width);
}

static void bar_write(void *ctx, uint8_t bar, uint32_t off, uint8_t width, uint32_t val)
{
    uintptr_t a = bar_addr(ctx, bar, off);

    if (a == 0u) {
        return;
    }
    bsp_mmio_write(a, width, val);
}

static volatile void *bar_map(void *ctx, uint8_t bar)
{
    const struct bsp_pcie_func *f = ctx;

    if (bar >= 6u || f->bar_size[bar] == 0u || f->bar_is_io[bar]) {
        return NULL;
    }
    return (volatile void *)(uintptr_t)f->bar_addr[bar];
}

/* Size BAR i (and its upper half for a 64-bit BAR), place it, program it. Returns how many
 * BAR registers it used (1 or 2). */
static unsigned bar_assign(struct bsp_pcie_func *f, unsigned i)
{
    uint16_t off = (uint16_t)(0x10u + 4u * i);
    uint32_t orig = cfg_read(f, off, 4), mask, hi_mask = 0xFFFFFFFFu;
    bool io = (orig & 1u) != 0u, is64 = !io && ((orig >> 1) & 3u) == 2u;
    uint64_t size, base, *next;

    cfg_write(f, off, 4, 0xFFFFFFFFu);
    mask = cfg_read(f, off, 4);
    if (is64) {
        cfg_write(f, (uint16_t)(off + 4u), 4, 0xFFFFFFFFu);
        hi_mask = cfg_read(f, (uint16_t)(off + 4u), 4);
    }
    mask &= io ? ~3u : ~15u;
    if (mask == 0u) {
        cfg_write(f, off, 4, orig);
        return is64 ? 2u : 1u;
    }
    size = (uint64_t)(~mask) + 1u;
    if (io) {
        size &= 0xFFFFu;
    }
    (void)hi_mask; /* sizes above 4 GiB do not fit the 32-bit window anyway */
    next = io ? &pio_next : &mmio_next;
    base = (*next + size - 1u) & ~(size - 1u);
    if (base + size > (io ? PIO_SIZE : MMIO32_END)) {
        bsp_printf("bsp: pcie %02x:%02x.%u bar%u (0x%lx bytes) does not fit, left off\n",
                   (unsigned)f->bus, (unsigned)f->dev, (unsigned)f->fn, i, size);
        cfg_write(f, off, 4, 0u);
        return is64 ? 2u : 1u;
    }
    *next = base + size;
    cfg_write(f, off, 4, (uint32_t)base | (orig & (io ? 3u : 15u)));
    if (is64) {
        cfg_write(f, (uint16_t)(off + 4u), 4, 0u);
    }
    f->bar_addr[i] = base;
    f->bar_size[i] = size;
    f->bar_is_io[i] = io;
    return is64 ? 2u : 1u;
}

/* The MSI-X capability, if the function has one (PCI 3.0 6.8.2): table size and place. */
static void msix_probe(struct bsp_pcie_func *f)
{
    uint8_t p;
    unsigned guard;

    if ((cfg_read(f, 0x06u, 2) & PCI_STATUS_CAPLIST) == 0u) {
        return;
    }
    p = (uint8_t)(cfg_read(f, 0x34u, 1) & 0xFCu);
    for (guard = 0u; p >= 0x40u && guard < 48u; guard++) {
        if (cfg_read(f, p, 1) == PCI_CAP_ID_MSIX) {
            uint32_t t = cfg_read(f, (uint16_t)(p + 4u), 4);
            f->msix_cap = p;
            f->msix_table_size = (uint16_t)((cfg_read(f, (uint16_t)(p + 2u), 2) & 0x7FFu) + 1u);
            f->msix_table_bir = (uint8_t)(t & 7u);
            f->msix_table_off = t & ~7u;
            return;
        }
        p = (uint8_t)(cfg_read(f, (uint16_t)(p + 1u), 1) & 0xFCu);
    }
}

void bsp_pcie_probe(void)
{
    unsigned dev, i;

    for (dev = 0u; dev < 32u && nfuncs < MAX_FUNCS; dev++) {
        struct bsp_pcie_func *f = &funcs[nfuncs];
        uint32_t id, cls;
        uint16_t cmd;
        bool is_net;

        f->bus = 0u;
        f->dev = (uint8_t)dev;
        f->fn = 0u;
        id = cfg_read(f, 0x00u, 4);
        if ((id & 0xFFFFu) == 0xFFFFu || id == 0u) {
            continue;
        }
        f->vendor = (uint16_t)id;
        f->device = (uint16_t)(id >> 16);
        cls = cfg_read(f, 0x08u, 4);
        f->class_code = (uint16_t)(cls >> 16);
        f->irq_pin = (uint8_t)cfg_read(f, 0x3Du, 1);
        f->intid = f->irq_pin != 0u ? 32u + INTX_SPI_BASE + (dev + f->irq_pin - 1u) % 4u : 0u;
        nfuncs++;
        if ((cfg_read(f, 0x0Eu, 1) & 0x7Fu) != 0u) {
            continue; /* a bridge: not configured (nothing behind it is used) */
        }
        cmd = (uint16_t)cfg_read(f, 0x04u, 2);
        cfg_write(f, 0x04u, 2, cmd & ~(uint32_t)(PCI_CMD_IO | PCI_CMD_MEM));
        for (i = 0u; i < 6u;) {
            i += bar_assign(f, i);
        }
        cmd = (uint16_t)((cmd | PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER) & ~PCI_CMD_INTX_DISABLE);
        cfg_write(f, 0x04u, 2, cmd);
        if (f->irq_pin != 0u) {
            cfg_write(f, 0x3Cu, 1, f->intid - 32u); /* informational for drivers */
        }
        msix_probe(f);
        /* virtio-net: transitional 0x1000, modern 0x1041 (virtio 1.x 4.1.2). */
        is_net = f->vendor == PCI_VENDOR_QUMRANET && (f->device == 0x1000u || f->device == 0x1041u);
        if (is_net) {
            net_bus[nnet].ctx = f;
            net_bus[nnet].cfg_read = cfg_read;
            net_bus[nnet].cfg_write = cfg_write;
            net_bus[nnet].bar_read = bar_read;
            net_bus[nnet].bar_write = bar_write;
            net_bus[nnet].bar_map = bar_map;
            net_idx[nnet++] = nfuncs - 1u;
        }
        bsp_printf("bsp: pcie 00:%02x.0 %04x:%04x class=%04x pin=%u intid=%u msix=%u%s\n", dev,
                   (unsigned)f->vendor, (unsigned)f->device, (unsigned)f->class_code,
                   (unsigned)f->irq_pin, (unsigned)f->intid,
                   f->msix_cap != 0u ? (unsigned)f->msix_table_size : 0u,
                   is_net ? " virtio-net" : "");
    }
    bsp_printf("bsp: pcie ecam=0x%lx %u function(s) on bus 0, %u virtio-net\n", bsp_ecam_base,
               nfuncs, nnet);
}

unsigned bsp_pcie_count(void)
{
    return nfuncs;
}

const struct bsp_pcie_func *bsp_pcie_get(unsigned i)
{
    return i < nfuncs ? &funcs[i] : NULL;
}

unsigned bsp_pcie_virtio_net_count(void)
{
    return nnet;
}

const struct bsp_pcie_func *bsp_pcie_virtio_net_func(unsigned i)
{
    return i < nnet ? &funcs[net_idx[i]] : NULL;
}

const struct virtio_pci_bus *bsp_pcie_virtio_net_bus(unsigned i)
{
    return i < nnet ? &net_bus[i] : NULL;
}

/* ---- MSI-X ---- */

/* The board's own (writable) record of a function it handed out, or NULL. */
static struct bsp_pcie_func *func_of(const struct bsp_pcie_func *f)
{
    unsigned i;

    for (i = 0u; i < nfuncs; i++) {
        if (&funcs[i] == f) {
            return &funcs[i];
        }
    }
    return NULL;
}

/* CPU address of table entry `entry`, or 0 when the function cannot route it. */
static uintptr_t msix_entry(const struct bsp_pcie_func *f, uint16_t entry)
{
    uint8_t bir = f->msix_table_bir;

    if (entry >= f->msix_table_size || entry >= BSP_PCIE_MAX_MSIX || bir >= 6u ||
        f->bar_size[bir] == 0u || f->bar_is_io[bir] ||
        (uint64_t)f->msix_table_off + 16u * (entry + 1u) > f->bar_size[bir]) {
        return 0u;
    }
    return (uintptr_t)(f->bar_addr[bir] + f->msix_table_off + 16u * entry);
}

int bsp_pcie_msix_attach(const struct bsp_pcie_func *cf, uint16_t entry, bsp_isr_t isr, void *arg)
{
    struct bsp_pcie_func *f = func_of(cf);
    uint64_t addr;
    uint32_t intid, data;
    uintptr_t e;
    int rc;

    if (f == NULL || isr == NULL) {
        return BSP_E_INVAL;
    }
    if (f->msix_cap == 0u || bsp_msi_count() == 0u) {
        return BSP_E_NODEV;
    }
    e = msix_entry(f, entry);
    if (e == 0u) {
        return BSP_E_INVAL;
    }
    intid = f->msix_intid[entry];
    if (intid == 0u) {
        rc = bsp_msi_alloc(&intid);
        if (rc != BSP_OK) {
            return rc;
        }
        f->msix_intid[entry] = intid;
    }
    rc = bsp_msi_message(intid, &addr, &data);
    if (rc != BSP_OK) {
        return rc;
    }
    rc = bsp_irq_attach(intid, 1, isr, arg);
    if (rc != BSP_OK) {
        return rc;
    }
    /* Masked while address and data change, so no half-written message goes out (PCI 3.0
     * 6.8.2.9). */
    mmio_write32(e + 12u, mmio_read32(e + 12u) | MSIX_ENT_MASKED);
    mmio_write32(e + 0u, (uint32_t)addr);
    mmio_write32(e + 4u, (uint32_t)(addr >> 32));
    mmio_write32(e + 8u, data);
    mmio_write32(e + 12u, mmio_read32(e + 12u) & ~MSIX_ENT_MASKED);
    return BSP_OK;
}

int bsp_pcie_msix_entry_read(const struct bsp_pcie_func *f, uint16_t entry, uint64_t *addr,
                             uint32_t *data, uint32_t *ctrl)
{
    uintptr_t e;

    if (func_of(f) == NULL || f->msix_cap == 0u) {
        return BSP_E_NODEV;
    }
    e = msix_entry(f, entry);
    if (e == 0u) {
        return BSP_E_INVAL;
    }
    *addr = mmio_read32(e) | ((uint64_t)mmio_read32(e + 4u) << 32);
    *data = mmio_read32(e + 8u);
    *ctrl = mmio_read32(e + 12u);
    return BSP_OK;
}

int bsp_pcie_msix_enable(const struct bsp_pcie_func *cf)
{
    struct bsp_pcie_func *f = func_of(cf);
    uint16_t off;

    if (f == NULL || f->msix_cap == 0u) {
        return BSP_E_NODEV;
    }
    cfg_write(f, 0x04u, 2, cfg_read(f, 0x04u, 2) | PCI_CMD_INTX_DISABLE | PCI_CMD_MASTER);
    off = (uint16_t)(f->msix_cap + 2u);
    cfg_write(f, off, 2, (cfg_read(f, off, 2) | MSIX_CTRL_EN) & ~(uint32_t)MSIX_CTRL_FMASK);
    return BSP_OK;
}

int bsp_pcie_msix_disable(const struct bsp_pcie_func *cf)
{
    struct bsp_pcie_func *f = func_of(cf);
    uint16_t off;

    if (f == NULL || f->msix_cap == 0u) {
        return BSP_E_NODEV;
    }
    off = (uint16_t)(f->msix_cap + 2u);
    cfg_write(f, off, 2, cfg_read(f, off, 2) & ~(uint32_t)MSIX_CTRL_EN);
    cfg_write(f, 0x04u, 2, cfg_read(f, 0x04u, 2) & ~(uint32_t)PCI_CMD_INTX_DISABLE);
    return BSP_OK;
}
