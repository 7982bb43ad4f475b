/*
 * POSIX port of the vnet-rtos OS contract (os/osal.h), for host tests.
 *
 * Storage types only; bodies in osal_posix.c. Test-only extensions (simulated interrupts,
 * DMA address translation, leak counters, fault injection) are in osal_posix.h.
 */
#ifndef VNET_OSAL_PORT_POSIX_H
#define VNET_OSAL_PORT_POSIX_H

#include <pthread.h>
#include <stdbool.h>

#if !defined(_POSIX_THREADS) && !defined(__unix__)
#error "os/posix: this port needs POSIX threads"
#endif

/* Nesting depth of the calling thread before osal_crit_enter() (restored on exit). */
typedef unsigned osal_crit_t;

typedef struct {
    pthread_mutex_t mtx;
    pthread_cond_t cond;
    unsigned count;
    bool live; /* guards against use after osal_sem_destroy (programming error) */
} osal_sem_t;

typedef struct {
    pthread_mutex_t mtx; /* error-checking: a recursive acquire aborts instead of hanging */
} osal_lock_t;

/* Host tests run on real CPUs: the CPU's full barrier already orders against the
 * simulated device's thread (os/osal.h, osal_device_mb). */
static inline void osal_device_mb(void)
{
}

struct osal_posix_task;
typedef struct {
    struct osal_posix_task *impl; /* NULL when not created or already joined */
} osal_task_t;

#endif /* VNET_OSAL_PORT_POSIX_H */
