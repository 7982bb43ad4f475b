/*
 * os_cfg.h - configuration of the hosted kernel (kernel/port/host) used by host unit tests and
 * by host builds of the uC/OS-II OS port: os/ucos2/cfg/os_cfg.h, which documents every option,
 * with the overrides below. The kernel task stacks keep the base's sizes: the same
 * configuration must also work with a CPU port that really runs the tasks on them.
 */
#ifndef VNET_HOST_PORT_OS_CFG_H
#define VNET_HOST_PORT_OS_CFG_H

/* Virtual ticks (see kernel/port/host/os_cpu.h): 100 per second keeps timed tests short. */
#define OS_TICKS_PER_SEC 100u

#include "../../../../os/ucos2/cfg/os_cfg.h"

#endif /* VNET_HOST_PORT_OS_CFG_H */
