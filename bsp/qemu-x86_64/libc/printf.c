/*
 * printf.c - bsp_vsnprintf and the console printf on top of it. Supports what the firmware
 * prints: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width, and the l/ll/z length
 * modifiers (uint64_t is "unsigned long" on x86_64 SysV).
 */
#include <stdarg.h>
#include <stdint.h>
#include "bsp_priv.h"

struct out {
    char *buf;
    size_t size;
    size_t len; /* characters produced, even past size (snprintf semantics) */
};

static void out_c(struct out *o, char c)
{
    if (o->len + 1u < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
    while (n-- > 0) {
        out_c(o, c);
    }
}

static void out_str(struct out *o, const char *s, int width, int left)
{
    int n = 0;

    while (s[n] != '\0') {
        n++;
    }
    if (!left) {
        out_pad(o, ' ', width - n);
    }
    while (*s != '\0') {
        out_c(o, *s++);
    }
    if (left) {
        out_pad(o, ' ', width - n);
    }
}

static void out_num(struct out *o, uint64_t v, int neg, unsigned base, int upper, int width,
                    int zero, int left)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    int len;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v != 0u);
    len = n + (neg ? 1 : 0);
    if (!left && !zero) {
        out_pad(o, ' ', width - len);
    }
    if (neg) {
        out_c(o, '-');
    }
    if (!left && zero) {
        out_pad(o, '0', width - len);
    }
    while (n > 0) {
        out_c(o, tmp[--n]);
    }
    if (left) {
        out_pad(o, ' ', width - len);
    }
}

int bsp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0u};

    for (; *fmt != '\0'; fmt++) {
        int left = 0, zero = 0, width = 0, lng = 0;
        uint64_t u;
        int64_t s;

        if (*fmt != '%') {
            out_c(&o, *fmt);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-') {
                left = 1;
            } else if (*fmt == '0') {
                zero = 1;
            } else {
                break;
            }
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt - '0');
            fmt++;
        }
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i':
            s = lng ? va_arg(ap, long) : va_arg(ap, int);
            u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
            out_num(&o, u, s < 0, 10u, 0, width, zero, left);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
            out_num(&o, u, 0, *fmt == 'u' ? 10u : 16u, *fmt == 'X', width, zero, left);
            break;
        case 'p':
            out_c(&o, '0');
            out_c(&o, 'x');
            out_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16u, 0, 16, 1, 0);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            out_str(&o, str != NULL ? str : "(null)", width, left);
            break;
        }
        case 'c':
            out_c(&o, (char)va_arg(ap, int));
            break;
        case '%':
            out_c(&o, '%');
            break;
        case '\0':
            fmt--; /* stray '%' at the end: stop at the terminator */
            break;
        default:
            out_c(&o, '%');
            out_c(&o, *fmt);
            break;
        }
    }
    if (size > 0u) {
        buf[o.len < size ? o.len : size - 1u] = '\0';
    }
    return (int)o.len;
}

int bsp_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = bsp_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int bsp_vprintf(const char *fmt, va_list ap)
{
    char line[256];
    int n = bsp_vsnprintf(line, sizeof line, fmt, ap);

    bsp_puts(line);
    return n;
}

int bsp_printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = bsp_vprintf(fmt, ap);
    va_end(ap);
    return n;
}
