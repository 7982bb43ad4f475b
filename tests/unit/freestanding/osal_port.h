/*
 * Storage types only, for the driver's freestanding check (cmake/vnet_freestanding.cmake):
 * the driver core is compiled against the OS contract with no real port, so every osal_*
 * call shows up as an undefined symbol and nothing else may.
 */
#ifndef VNET_OSAL_PORT_FREESTANDING_H
#define VNET_OSAL_PORT_FREESTANDING_H

typedef unsigned long osal_crit_t;
typedef struct {
    void *impl;
} osal_sem_t;
typedef struct {
    void *impl;
} osal_lock_t;
typedef struct {
    void *impl;
} osal_task_t;
/* A function here, so that the driver's uses of it show up as undefined symbols too. */
void osal_device_mb(void);

#endif
