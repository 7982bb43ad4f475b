/*
 * RAM one NIC takes from the OS port's allocators, measured: the bytes the driver asks
 * osal_mem_alloc() and osal_dma_alloc() for (allocator headers not included) after
 * transport create, attach and initialize against the simulated device with QEMU's
 * default queue sizes (256), for the driver's defaults and for the router's settings.
 * docs/porting.md quotes the printed lines. Checks: every step allocates something,
 * initialize allocates the rings and buffers (DMA), and detach returns every byte.
 */
#include <stdio.h>
#include <string.h>
#include "osal.h"
#include "osal_posix.h"
#include "simdev.h"
#include "tu.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"

struct usage {
    size_t mem, dma;
};

static struct usage usage_now(void)
{
    struct usage u = {osal_posix_mem_outstanding_bytes(), osal_posix_dma_outstanding_bytes()};
    return u;
}

static void rx_fn(void *arg, uint8_t *frame, size_t len)
{
    (void)arg;
    (void)frame;
    (void)len;
}

static void isr_shared(void *arg)
{
    virtio_net_isr(arg);
}

static void measure(const char *name, uint16_t sw_ring, uint16_t isr_budget)
{
    struct simdev_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.transport = SIMDEV_PCI_MODERN;
    sc.rx_queue_size = 256; /* QEMU's virtio-net-pci default (rx_queue_size, tx_queue_size) */
    sc.tx_queue_size = 256;
    sc.irq_mode = SIMDEV_IRQ_SHARED;
    sc.irq_base = 8;
    struct simdev *sim = NULL;
    TU_REQUIRE(simdev_create(&sim, &sc) == SIMDEV_OK);

    struct usage u0 = usage_now();
    struct virtio_transport *tr = NULL;
    TU_REQUIRE(virtio_pci_transport_create(&tr, simdev_pci_bus(sim), 0) == VNET_OK);
    struct usage u1 = usage_now();

    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = tr;
    cfg.name = "ram";
    cfg.rx_sw_ring_entries = sw_ring;
    cfg.isr_budget = isr_budget;
    cfg.rx_task_prio = 5;
    cfg.rx_fn = rx_fn;
    struct virtio_net_dev *dev = NULL;
    TU_REQUIRE(virtio_net_attach(&dev, &cfg) == VNET_OK);
    struct usage u2 = usage_now();
    unsigned irq = simdev_irq_shared(sim);
    TU_REQUIRE(osal_posix_irq_attach(irq, isr_shared, dev) == VNET_OK);
    TU_REQUIRE(virtio_net_initialize(dev) == VNET_OK);
    struct usage u3 = usage_now();

    printf("ram_per_nic %s (rx_sw_ring_entries %u, queues 256/256, offloads off):\n", name,
           (unsigned)(sw_ring != 0 ? sw_ring : 64u));
    printf("  transport create: %zu bytes mem\n", u1.mem - u0.mem);
    printf("  attach:           %zu bytes mem (device struct)\n", u2.mem - u1.mem);
    printf("  initialize:       %zu bytes mem (software ring, ring bookkeeping) + %zu bytes DMA "
           "(rings, RX/TX buffers)\n",
           u3.mem - u2.mem, u3.dma - u2.dma);
    printf("  total per NIC:    %zu bytes (%zu mem + %zu DMA), RX task stack not included\n",
           (u3.mem - u0.mem) + (u3.dma - u0.dma), u3.mem - u0.mem, u3.dma - u0.dma);
    TU_CHECK(u1.mem > u0.mem);
    TU_CHECK(u2.mem > u1.mem);
    TU_CHECK(u3.dma > u2.dma);

    TU_CHECK_EQ(virtio_net_halt(dev), VNET_OK);
    osal_posix_irq_detach(irq);
    TU_CHECK_EQ(virtio_net_detach(dev), VNET_OK);
    virtio_transport_destroy(tr);
    struct usage u4 = usage_now();
    TU_CHECK_EQ(u4.mem, u0.mem);
    TU_CHECK_EQ(u4.dma, u0.dma);
    simdev_destroy(sim);
}

static void test_defaults(void)
{
    measure("driver defaults", 0, 0);
}

static void test_router(void)
{
    measure("router settings", 256, 16);
}

int main(void)
{
    TU_RUN(test_defaults);
    TU_RUN(test_router);
    return tu_summary("sim.test_ram_per_nic");
}
