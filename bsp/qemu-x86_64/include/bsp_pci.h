/*
 * bsp_pci.h - PCI on the QEMU x86_64 board: enumeration, BARs, MSI-X, INTx, and the
 * virtio-pci bus instances (include/vnet/virtio_pci_bus.h) for every virtio-net function.
 *
 * The board enumerates once at boot (configuration mechanism #1, ports 0xCF8/0xCFC) and keeps
 * the addresses SeaBIOS assigned; it enables memory/I/O decoding and bus mastering and maps
 * memory BARs uncached. Nothing here re-assigns resources.
 */
#ifndef BSP_PCI_H
#define BSP_PCI_H

#include <stdint.h>
#include "bsp.h"
#include "vnet/virtio_pci_bus.h"

#define BSP_PCI_MAX_FUNCS 32u
#define BSP_PCI_MAX_MSIX  64u /* table entries the board will program per function */

struct bsp_pci_bar {
    uint64_t addr; /* bus address (= CPU physical, identity-mapped) or I/O port */
    uint64_t size; /* 0: BAR not implemented */
    uint8_t is_io;
    uint8_t is_64; /* memory BAR taking two slots (the upper slot reads size 0) */
    uint8_t prefetchable;
};

struct bsp_pci_func {
    uint8_t bus, dev, fn;
    struct bsp_pci_func *parent; /* bridge whose secondary bus this is; NULL on bus 0 */
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;
    uint8_t irq_line; /* as SeaBIOS assigned it: on machine "pc" this is the IOAPIC GSI */
    uint8_t irq_pin;  /* 1 = INTA .. 4 = INTD, 0 = none */
    struct bsp_pci_bar bar[6];
    uint8_t msix_cap;         /* config offset of the MSI-X capability, 0 = none */
    uint16_t msix_table_size; /* entries */
    uint8_t msix_table_bir;
    uint32_t msix_table_off;
    uint8_t msix_pba_bir;
    uint32_t msix_pba_off;
    uint8_t msix_vector[BSP_PCI_MAX_MSIX]; /* LAPIC vector per programmed entry, 0 = none */
    uint8_t intx_vector;                   /* after bsp_pci_intx_attach(), else 0 */
    uint8_t intx_gsi;                      /* IOAPIC input it routed, valid with intx_vector */
    struct virtio_pci_bus bus_if;          /* filled for every function */
};

/* Functions found at boot, in bus/device/function order. */
unsigned bsp_pci_count(void);
struct bsp_pci_func *bsp_pci_get(unsigned idx);
struct bsp_pci_func *bsp_pci_find(uint16_t vendor, uint16_t device, unsigned nth);

/* Raw configuration access (width 1, 2, 4; naturally aligned). Any. */
uint32_t bsp_pci_cfg_read(const struct bsp_pci_func *f, uint16_t off, uint8_t width);
void bsp_pci_cfg_write(const struct bsp_pci_func *f, uint16_t off, uint8_t width, uint32_t v);
/* Offset of the first capability with this id at or after `start` (0 = from the list
 * head), 0 if none. */
uint8_t bsp_pci_cap_find(const struct bsp_pci_func *f, uint8_t cap_id, uint8_t start);

/*
 * MSI-X. bsp_pci_msix_attach() allocates a LAPIC vector, attaches isr(arg) to it and writes
 * table entry `entry` (message address = this CPU's LAPIC, data = vector, edge) unmasked.
 * bsp_pci_msix_enable() sets MSI-X Enable with Function Mask clear (and INTx disabled, as
 * the PCI spec requires once MSI-X is on); disable clears Enable again. The driver then only
 * selects entries (virtio msix_config / queue_msix_vector). Task.
 * Return BSP_OK, BSP_E_NODEV (no capability), BSP_E_INVAL (entry out of range),
 * BSP_E_NOSPACE (no vector left).
 */
int bsp_pci_msix_attach(struct bsp_pci_func *f, uint16_t entry, bsp_isr_t isr, void *arg);
int bsp_pci_msix_enable(struct bsp_pci_func *f);
int bsp_pci_msix_disable(struct bsp_pci_func *f);
int bsp_pci_msix_mask(struct bsp_pci_func *f, uint16_t entry, int masked); /* Any */
/* Read back table entry `entry` (diagnostics/tests). */
int bsp_pci_msix_entry_read(const struct bsp_pci_func *f, uint16_t entry, uint64_t *addr,
                            uint32_t *data, uint32_t *ctrl);

/*
 * INTx fallback (no MSI-X, e.g. QEMU virtio-net-pci vectors=0): route the function's
 * interrupt pin through the IOAPIC, level-triggered, active-high, and attach isr(arg).
 *   machine "pc" (i440FX/PIIX3): the line register SeaBIOS wrote is a PIIX3 PIRQ's ISA IRQ,
 *     an IOAPIC input as declared by the MADT overrides (pins 5/9/10/11);
 *   machine "q35" (ICH9): the pin, swizzled through any bridges, selects PIRQ A..H by the
 *     LPC bridge's routing (see pci.c), which drives IOAPIC pin 16..23; the PIRQ's ISA route
 *     is switched off.
 * The line may be shared: isr must check its device (virtio: read ISR status, which also
 * deasserts the line) and return quietly if it was not the source. Returns BSP_OK (the
 * vector is then in f->intx_vector), BSP_E_NOSPACE/BSP_E_BUSY, or BSP_E_NODEV when the
 * function has no interrupt pin or the chipset is neither of the two. Task.
 */
int bsp_pci_intx_attach(struct bsp_pci_func *f, bsp_isr_t isr, void *arg);

/* ---- virtio-net ---- */

/* virtio-net functions (vendor 0x1AF4, device 0x1000 transitional or 0x1041 modern). */
unsigned bsp_virtio_net_count(void);
struct bsp_pci_func *bsp_virtio_net_func(unsigned idx);
/* The bus interface the driver's PCI transport is handed for virtio-net function idx. */
const struct virtio_pci_bus *bsp_virtio_net_bus(unsigned idx);

#endif /* BSP_PCI_H */
