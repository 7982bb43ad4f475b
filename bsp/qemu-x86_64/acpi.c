/*
 * acpi.c - the little of ACPI the board needs, from SeaBIOS's tables: the MADT (LAPIC and
 * IOAPIC addresses, ISA interrupt source overrides) and the FADT (PM timer port and width).
 * Layouts from the ACPI 6.x specification, sections 5.2.5 (RSDP), 5.2.7/8 (RSDT/XSDT),
 * 5.2.9 (FADT), 5.2.12 (MADT). Tables sit in identity-mapped low RAM.
 */
#include <string.h>
#include "bsp_priv.h"

struct bsp_acpi_info bsp_acpi;

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static int checksum_ok(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0u;
    uint32_t i;

    for (i = 0u; i < len; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return sum == 0u;
}

static const uint8_t *rsdp_scan(uintptr_t lo, uintptr_t hi)
{
    uintptr_t a;

    for (a = lo; a + 20u <= hi; a += 16u) {
        const uint8_t *p = (const uint8_t *)a;
        if (memcmp(p, "RSD PTR ", 8u) == 0 && checksum_ok(p, 20u)) {
            return p;
        }
    }
    return NULL;
}

static void parse_madt(const uint8_t *t, uint32_t len)
{
    uint32_t off = 44u;

    bsp_acpi.lapic_addr = rd32(t + 36);
    bsp_acpi.have_madt = 1u;
    while (off + 2u <= len) {
        uint8_t type = t[off];
        uint8_t elen = t[off + 1u];
        if (elen < 2u || off + elen > len) {
            break;
        }
        if (type == 1u && elen >= 12u && bsp_acpi.ioapic_addr == 0u) {
            bsp_acpi.ioapic_addr = rd32(t + off + 4u);
            bsp_acpi.ioapic_gsi_base = rd32(t + off + 8u);
        } else if (type == 2u && elen >= 10u && t[off + 3u] < 16u) {
            uint8_t irq = t[off + 3u];
            bsp_acpi.isa_gsi[irq] = rd32(t + off + 4u);
            bsp_acpi.isa_flags[irq] = (uint16_t)(t[off + 8u] | (t[off + 9u] << 8));
        } else if (type == 5u && elen >= 12u) {
            bsp_acpi.lapic_addr = rd64(t + off + 4u); /* 64-bit LAPIC address override */
        }
        off += elen;
    }
}

static void parse_fadt(const uint8_t *t, uint32_t len)
{
    if (len >= 80u) {
        bsp_acpi.pm_tmr_port = (uint16_t)rd32(t + 76);
    }
    if (len >= 116u) {
        bsp_acpi.pm_tmr_32bit = (rd32(t + 112) & (1u << 8)) != 0u; /* TMR_VAL_EXT */
    }
}

void bsp_acpi_init(uint64_t rsdp_hint)
{
    const uint8_t *rsdp = NULL;
    const uint8_t *root;
    uint32_t i, n, entry_size;
    unsigned irq;

    for (irq = 0u; irq < 16u; irq++) {
        bsp_acpi.isa_gsi[irq] = irq; /* identity unless overridden */
    }
    bsp_acpi.lapic_addr = 0xFEE00000u; /* architectural defaults */
    bsp_acpi.ioapic_addr = 0u;
    if (rsdp_hint != 0u) {
        rsdp = (const uint8_t *)(uintptr_t)rsdp_hint;
    } else {
        uintptr_t bda = 0x40Eu; /* BIOS data area: EBDA segment */
        uintptr_t ebda;
        /* Hide the constant from gcc's -Warray-bounds, which treats low fixed addresses as
         * pointers into zero-sized objects. */
        __asm__("" : "+r"(bda));
        ebda = (uintptr_t)(*(const volatile uint16_t *)bda) << 4;
        if (ebda >= 0x80000u && ebda < 0xA0000u) {
            rsdp = rsdp_scan(ebda, ebda + 1024u);
        }
        if (rsdp == NULL) {
            rsdp = rsdp_scan(0xE0000u, 0x100000u);
        }
    }
    if (rsdp == NULL) {
        bsp_printf("bsp: no ACPI RSDP found\n");
        bsp_acpi.ioapic_addr = 0xFEC00000u;
        return;
    }
    if (rsdp[15] >= 2u && rd64(rsdp + 24) != 0u) {
        root = (const uint8_t *)(uintptr_t)rd64(rsdp + 24);
        entry_size = 8u;
    } else {
        root = (const uint8_t *)(uintptr_t)rd32(rsdp + 16);
        entry_size = 4u;
    }
    n = (rd32(root + 4) - 36u) / entry_size;
    for (i = 0u; i < n; i++) {
        const uint8_t *e = root + 36u + i * entry_size;
        const uint8_t *t =
            (const uint8_t *)(uintptr_t)(entry_size == 8u ? rd64(e) : (uint64_t)rd32(e));
        uint32_t len = rd32(t + 4);
        if (!checksum_ok(t, len)) {
            continue;
        }
        if (memcmp(t, "APIC", 4u) == 0) {
            parse_madt(t, len);
        } else if (memcmp(t, "FACP", 4u) == 0) {
            parse_fadt(t, len);
        }
    }
    if (bsp_acpi.ioapic_addr == 0u) {
        bsp_acpi.ioapic_addr = 0xFEC00000u;
    }
}

uint32_t bsp_isa_irq_to_gsi(uint8_t irq, int *level, int *active_low)
{
    uint16_t fl = irq < 16u ? bsp_acpi.isa_flags[irq] : 0u;

    /* MPS INTI flags: polarity 1:0 (0 = bus default = high for ISA, 3 = low), trigger 3:2
     * (0 = bus default = edge for ISA, 3 = level). */
    if (level != NULL) {
        *level = ((fl >> 2) & 3u) == 3u;
    }
    if (active_low != NULL) {
        *active_low = (fl & 3u) == 3u;
    }
    return irq < 16u ? bsp_acpi.isa_gsi[irq] : irq;
}
