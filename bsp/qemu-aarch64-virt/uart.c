/*
 * uart.c - PL011 console at 0x0900_0000 (PrimeCell UART TRM DDI0183): polled transmit and
 * receive. QEMU's PL011 needs no baud-rate setup; the control register is written anyway so
 * a firmware that left it off does not silence us.
 */
#include "bsp_priv.h"

#define UART_DR     0x00u
#define UART_FR     0x18u
#define UART_CR     0x30u
#define UART_IMSC   0x38u
#define FR_RXFE     (1u << 4)
#define FR_TXFF     (1u << 5)
#define CR_UARTEN   (1u << 0)
#define CR_TXE      (1u << 8)
#define CR_RXE      (1u << 9)
#define TX_SPIN_MAX 100000u

void bsp_uart_init(void)
{
    mmio_write32(VIRT_UART_BASE + UART_IMSC, 0u); /* polled: no interrupts */
    mmio_write32(VIRT_UART_BASE + UART_CR, CR_UARTEN | CR_TXE | CR_RXE);
}

static void uart_putc(char c)
{
    uint32_t spin;

    for (spin = 0u; spin < TX_SPIN_MAX; spin++) {
        if ((mmio_read32(VIRT_UART_BASE + UART_FR) & FR_TXFF) == 0u) {
            mmio_write32(VIRT_UART_BASE + UART_DR, (uint8_t)c);
            return;
        }
    }
}

/* Terminal line ends as on the x86_64 board: LF becomes CR LF unless the caller wrote CR LF;
 * `last` is only touched with IRQs masked. */
static char uart_last;

void bsp_puts(const char *s)
{
    uint64_t f = bsp_irq_save();

    for (; *s != '\0'; s++) {
        if (*s == '\n' && uart_last != '\r') {
            uart_putc('\r');
        }
        uart_putc(*s);
        uart_last = *s;
    }
    bsp_irq_restore(f);
}

int bsp_getc(void)
{
    if ((mmio_read32(VIRT_UART_BASE + UART_FR) & FR_RXFE) == 0u) {
        return (int)(mmio_read32(VIRT_UART_BASE + UART_DR) & 0xFFu);
    }
    return -1;
}
