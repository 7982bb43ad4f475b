/*
 * os_cfg.h - kernel configuration of the QEMU aarch64 virt board's images: the same options
 * as the x86_64 board's (task and event counts, 1000 Hz tick, stack sizes in OS_STK = 64-bit
 * words, services), so the two boards run the same kernel configuration. The firmware build
 * finds this file through VNET_OS_CFG_DIR (cmake/firmware.cmake). A board that needs other
 * values copies the x86_64 file instead of including it.
 */
#include "../../qemu-x86_64/cfg/os_cfg.h"
