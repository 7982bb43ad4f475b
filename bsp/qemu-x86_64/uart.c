/*
 * uart.c - COM1 (16550 at I/O 0x3F8) console, polled in both directions.
 *
 * QEMU's 16550 drains THR instantly into the chardev, so polling LSR.THRE costs one port
 * read per byte; the bound below only matters on a wedged UART (we drop the byte then).
 */
#include "bsp_priv.h"

#define COM1        0x3F8u
#define UART_RBR    0u /* receive buffer (read, DLAB=0) */
#define UART_THR    0u /* transmit holding (write, DLAB=0) */
#define UART_IER    1u
#define UART_FCR    2u
#define UART_LCR    3u
#define UART_MCR    4u
#define UART_LSR    5u
#define UART_DLL    0u /* divisor latch (DLAB=1) */
#define UART_DLM    1u
#define LSR_DR      0x01u
#define LSR_THRE    0x20u
#define LCR_DLAB    0x80u
#define LCR_8N1     0x03u
#define TX_SPIN_MAX 100000u

void bsp_uart_init(void)
{
    outb(COM1 + UART_IER, 0x00u); /* polled: no UART interrupts */
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1u); /* 115200 baud = 1.8432 MHz / 16 / 1 */
    outb(COM1 + UART_DLM, 0u);
    outb(COM1 + UART_LCR, LCR_8N1);
    outb(COM1 + UART_FCR, 0x07u); /* enable and clear both FIFOs */
    outb(COM1 + UART_MCR, 0x03u); /* DTR, RTS; OUT2 stays off (no IRQ to the PIC) */
}

void bsp_uart_putc_raw(char c)
{
    uint32_t spin;

    for (spin = 0u; spin < TX_SPIN_MAX; spin++) {
        if (inb(COM1 + UART_LSR) & LSR_THRE) {
            outb(COM1 + UART_THR, (uint8_t)c);
            return;
        }
    }
}

/* Terminal line ends: LF becomes CR LF, unless the caller already wrote CR LF (the router's
 * messages do), so log parsers never see CR CR LF. `last` persists across calls because a
 * line may be assembled from several; it is only touched with interrupts disabled. */
static char uart_last;

void bsp_puts(const char *s)
{
    uint64_t f = bsp_irq_save();

    for (; *s != '\0'; s++) {
        if (*s == '\n' && uart_last != '\r') {
            bsp_uart_putc_raw('\r');
        }
        bsp_uart_putc_raw(*s);
        uart_last = *s;
    }
    bsp_irq_restore(f);
}

int bsp_getc(void)
{
    if (inb(COM1 + UART_LSR) & LSR_DR) {
        return inb(COM1 + UART_RBR);
    }
    return -1;
}
