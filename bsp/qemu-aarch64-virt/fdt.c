/*
 * fdt.c - the two facts the board needs from the flattened device tree QEMU builds for the
 * virt machine (devicetree specification v0.4, chapter 5): /chosen/bootargs (the -append
 * string) and the first /memory node's reg (RAM base and size; virt uses two address and
 * two size cells), and the PCIe host bridge's ECAM window (/pcie@.../reg: QEMU puts it at
 * 0x40_1000_0000 unless highmem is off, then at 0x3f00_0000), and the GICv2m MSI frame (a child
 * of the interrupt controller node with compatible "arm,gic-v2m-frame", present only with
 * gic-version=2; its parent has two address cells). Runs before the MMU is on, so it
 * reads the blob byte by byte (no unaligned accesses to what is still Device memory). The blob is
 * untrusted input in the sense that every offset is checked against its declared size.
 */
#include <stddef.h>
#include "bsp_priv.h"

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u
#define FDT_MAX_SIZE   (2u << 20)

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

static int name_is(const uint8_t *s, uint32_t avail, const char *want, int prefix_only)
{
    uint32_t i = 0u;

    for (; want[i] != '\0'; i++) {
        if (i >= avail || s[i] != (uint8_t)want[i]) {
            return 0;
        }
    }
    return prefix_only || (i < avail && (s[i] == '\0' || s[i] == '@'));
}

/* Whether the NUL-separated string list [s, s + len) holds exactly `want`. */
static int strlist_has(const uint8_t *s, uint32_t len, const char *want)
{
    uint32_t i = 0u;

    while (i < len) {
        uint32_t k = 0u;
        while (i + k < len && want[k] != '\0' && s[i + k] == (uint8_t)want[k]) {
            k++;
        }
        if (want[k] == '\0' && i + k < len && s[i + k] == '\0') {
            return 1;
        }
        while (i < len && s[i] != '\0') {
            i++;
        }
        i++; /* past the terminator */
    }
    return 0;
}

int bsp_fdt_parse(const void *fdt, char *cmd, size_t cmd_size, uint64_t *ram_base,
                  uint64_t *ram_size, uint64_t *ecam_base, uint64_t *v2m_base)
{
    const uint8_t *b = fdt;
    uint32_t total, off_struct, size_struct, off_strings, size_strings, pos, end;
    int depth = 0, in_chosen = 0, in_memory = 0, in_pcie = 0, found_mem = 0;
    int is_v2m = 0; /* the depth-3 node being read is a v2m frame */
    uint64_t v2m_reg = 0u;

    if (b == NULL || be32(b) != FDT_MAGIC) {
        return -1;
    }
    total = be32(b + 4);
    off_struct = be32(b + 8);
    off_strings = be32(b + 12);
    size_strings = be32(b + 32);
    size_struct = be32(b + 36);
    if (total > FDT_MAX_SIZE || off_struct > total || size_struct > total - off_struct ||
        off_strings > total || size_strings > total - off_strings) {
        return -1;
    }
    pos = off_struct;
    end = off_struct + size_struct;
    while (pos + 4u <= end) {
        uint32_t tok = be32(b + pos);
        pos += 4u;
        if (tok == FDT_BEGIN_NODE) {
            const uint8_t *name = b + pos;
            uint32_t n = 0u;
            while (pos + n < end && name[n] != '\0') {
                n++;
            }
            depth++;
            if (depth == 2) {
                in_chosen = name_is(name, n + 1u, "chosen", 0);
                in_memory = name_is(name, n + 1u, "memory", 0);
                in_pcie = name_is(name, n + 1u, "pcie", 0);
            } else if (depth == 3) {
                is_v2m = 0;
                v2m_reg = 0u;
            }
            pos = (pos + n + 1u + 3u) & ~3u;
        } else if (tok == FDT_END_NODE) {
            if (depth == 2) {
                in_chosen = in_memory = in_pcie = 0;
            } else if (depth == 3 && is_v2m && v2m_reg != 0u && *v2m_base == 0u) {
                *v2m_base = v2m_reg; /* the first frame: one is all QEMU makes */
            }
            depth--;
        } else if (tok == FDT_PROP) {
            uint32_t len, nameoff;
            const uint8_t *val, *pname;
            if (pos + 8u > end) {
                return -1;
            }
            len = be32(b + pos);
            nameoff = be32(b + pos + 4u);
            pos += 8u;
            if (len > end - pos || nameoff >= size_strings) {
                return -1;
            }
            val = b + pos;
            pname = b + off_strings + nameoff;
            if (depth == 2 && in_chosen && name_is(pname, size_strings - nameoff, "bootargs", 0) &&
                cmd_size > 0u) {
                uint32_t i;
                for (i = 0u; i < len && i + 1u < cmd_size && val[i] != '\0'; i++) {
                    cmd[i] = (char)val[i];
                }
                cmd[i] = '\0';
            } else if (depth == 2 && in_memory && !found_mem &&
                       name_is(pname, size_strings - nameoff, "reg", 0) && len >= 16u) {
                *ram_base = be64(val);
                *ram_size = be64(val + 8);
                found_mem = 1;
            } else if (depth == 2 && in_pcie && name_is(pname, size_strings - nameoff, "reg", 0) &&
                       len >= 16u) {
                *ecam_base = be64(val);
            } else if (depth == 3 && name_is(pname, size_strings - nameoff, "compatible", 0)) {
                is_v2m = strlist_has(val, len, "arm,gic-v2m-frame");
            } else if (depth == 3 && name_is(pname, size_strings - nameoff, "reg", 0) &&
                       len >= 16u) {
                v2m_reg = be64(val);
            }
            pos = (pos + len + 3u) & ~3u;
        } else if (tok == FDT_NOP) {
            continue;
        } else if (tok == FDT_END) {
            break;
        } else {
            return -1;
        }
    }
    return found_mem ? 0 : -1;
}
