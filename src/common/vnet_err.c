/* Names for vnet_err_t values (include/vnet/vnet_err.h). */
#include "vnet/vnet_err.h"

const char *vnet_strerror(vnet_err_t err)
{
    switch (err) {
    case VNET_OK:
        return "VNET_OK";
    case VNET_E_INVAL:
        return "VNET_E_INVAL";
    case VNET_E_NOMEM:
        return "VNET_E_NOMEM";
    case VNET_E_BUSY:
        return "VNET_E_BUSY";
    case VNET_E_TIMEOUT:
        return "VNET_E_TIMEOUT";
    case VNET_E_NODEV:
        return "VNET_E_NODEV";
    case VNET_E_FEATURES:
        return "VNET_E_FEATURES";
    case VNET_E_BROKEN:
        return "VNET_E_BROKEN";
    case VNET_E_IO:
        return "VNET_E_IO";
    case VNET_E_STATE:
        return "VNET_E_STATE";
    case VNET_E_RANGE:
        return "VNET_E_RANGE";
    case VNET_E_NOSPC:
        return "VNET_E_NOSPC";
    case VNET_E_TOOBIG:
        return "VNET_E_TOOBIG";
    case VNET_E_ISR:
        return "VNET_E_ISR";
    case VNET_E_UNSUPP:
        return "VNET_E_UNSUPP";
    case VNET_E_OS:
        return "VNET_E_OS";
    case VNET_E_CONTEXT:
        return "VNET_E_CONTEXT";
    default:
        return "VNET_E_?";
    }
}
