/*
 * This board's side of the uC/OS-II port's contract (os/ucos2/osal_ucos2_board.h): the
 * only functions the port calls on the board. Under LTO they inline into the port.
 */
#include "bsp.h"
#include "osal_ucos2_board.h"

uint64_t osal_board_cycles(void)
{
    return bsp_cycles();
}

uint64_t osal_board_cycles_per_us(void)
{
    return bsp_cycles_per_us();
}

/* Selected by this board's build (CMakeLists.txt): the TCG barrier, see bsp_device_mb(). */
void osal_board_device_mb(void)
{
    bsp_device_mb();
}
