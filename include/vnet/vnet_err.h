/*
 * vnet-rtos: one error type for the whole driver library.
 *
 * 0 is success; every failure is a distinct negative value with a name, so a caller can
 * tell "ring full, try later" from "the device broke the protocol" without parsing text.
 * Functions that also return a count (e.g. frames serviced) return it as a non-negative
 * value of the same type.
 */
#ifndef VNET_ERR_H
#define VNET_ERR_H

typedef int vnet_err_t;

#define VNET_OK         0
#define VNET_E_INVAL    (-1)  /* bad argument (NULL, out of range, wrong size) */
#define VNET_E_NOMEM    (-2)  /* allocation (DMA or heap) failed */
#define VNET_E_BUSY     (-3)  /* resource temporarily full (TX ring): retry later */
#define VNET_E_TIMEOUT  (-4)  /* bounded wait on the device or an OS object expired */
#define VNET_E_NODEV    (-5)  /* no usable device at this transport (bad magic, id) */
#define VNET_E_FEATURES (-6)  /* feature negotiation failed (FEATURES_OK not kept) */
#define VNET_E_BROKEN   (-7)  /* device violated the virtio protocol; queue is broken */
#define VNET_E_IO       (-8)  /* device reported an error (NEEDS_RESET, setup refused) */
#define VNET_E_STATE    (-9)  /* call not valid in the current state (e.g. halted) */
#define VNET_E_RANGE    (-10) /* value from the device out of the accepted range */
#define VNET_E_NOSPC    (-11) /* no free descriptors in a virtqueue */
#define VNET_E_TOOBIG   (-13) /* frame larger than the negotiated maximum */
#define VNET_E_ISR      (-14) /* call not allowed from interrupt context */
#define VNET_E_UNSUPP   (-16) /* valid request this build or device does not support */
#define VNET_E_OS       (-17) /* the OS port refused (object creation, task creation) */
#define VNET_E_CONTEXT  (-18) /* call not allowed from this context (ISR, own RX callback) */
/* -12 and -15 named errors nobody returned; retired, never to be reused for another meaning. */

/* Short, constant name of an error ("VNET_E_BUSY"); never NULL, "VNET_E_?" if unknown. */
const char *vnet_strerror(vnet_err_t err);

#endif /* VNET_ERR_H */
