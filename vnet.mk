# vnet.mk - the vnet-rtos driver for builds without CMake (GNU make; IAR, Keil and other
# IDE users: the same file lists, one path per line below).
#
#   VNET_DIR := path/to/vnet-rtos        # optional: defaults to this file's directory
#   include $(VNET_DIR)/vnet.mk
#   SRCS   += $(VNET_SRCS)               # driver core + transports + virtio-net + uC/OS-II port
#   CFLAGS += $(VNET_CFLAGS)             # -I and -D for those sources (and your code that
#                                        # includes vnet/virtio_net.h)
#
# The uC/OS-II port (os/ucos2/osal_ucos2.c) also needs your kernel's include directories
# (ucos_ii.h, os_cpu.h, os_cfg.h, app_cfg.h) on the include path. Compile as C11 (or C99
# with stdbool/stdint); no library beyond memcpy/memset/memmove/memcmp is needed.
# docs/porting.md says what else a product provides (board hooks, ISR wiring).
#
# This list is checked against the CMake package's (ctest package.file_lists): when a
# source file is added to or removed from src/, update it here too.

VNET_DIR ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Driver core: error strings, virtqueue, transports, virtio-net.
VNET_DRIVER_SRCS := \
	$(VNET_DIR)/src/common/vnet_err.c \
	$(VNET_DIR)/src/virtio/virtio_mmio.c \
	$(VNET_DIR)/src/virtio/virtio_pci_common.c \
	$(VNET_DIR)/src/virtio/virtio_pci_legacy.c \
	$(VNET_DIR)/src/virtio/virtio_pci_modern.c \
	$(VNET_DIR)/src/virtio/virtio_transport.c \
	$(VNET_DIR)/src/virtio/virtq.c \
	$(VNET_DIR)/src/net/virtio_net.c \
	$(VNET_DIR)/src/net/virtio_net_features.c \
	$(VNET_DIR)/src/net/virtio_net_isr.c \
	$(VNET_DIR)/src/net/virtio_net_lend.c \
	$(VNET_DIR)/src/net/virtio_net_rx.c \
	$(VNET_DIR)/src/net/virtio_net_rx_irq.c \
	$(VNET_DIR)/src/net/virtio_net_rx_task.c \
	$(VNET_DIR)/src/net/virtio_net_setup.c \
	$(VNET_DIR)/src/net/virtio_net_stats.c \
	$(VNET_DIR)/src/net/virtio_net_tx.c

# The uC/OS-II port of the OS contract (os/osal.h).
VNET_OSAL_UCOS2_SRCS := \
	$(VNET_DIR)/os/ucos2/osal_ucos2.c

VNET_SRCS := $(VNET_DRIVER_SRCS) $(VNET_OSAL_UCOS2_SRCS)

# Public API (include/vnet/), OS contract (os/osal.h), the driver's internal headers
# (src/, included by path from its sources), the port's header (os/ucos2/osal_port.h).
VNET_INC_DIRS := $(VNET_DIR)/include $(VNET_DIR)/os $(VNET_DIR)/src $(VNET_DIR)/os/ucos2

# No define is needed. (The benchmark-only old receive design lives in bench/in-isr/,
# never in a product.)
VNET_DEFINES :=

VNET_CFLAGS := $(addprefix -I,$(VNET_INC_DIRS)) $(addprefix -D,$(VNET_DEFINES))
