/*
 * hosted_shim_vnet_host.c - hosted_shim.h for this project's hosted CPU port
 * (kernel/port/host): its simulated interrupt and virtual clock.
 */
#include "hosted_shim.h"
#include "ucos_ii.h"

void hosted_shim_isr(void (*isr)(void *arg), void *arg)
{
    OSHostIsr(isr, arg);
}

uint64_t hosted_shim_clock(void)
{
    return OSHostClock();
}
