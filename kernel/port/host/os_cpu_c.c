/*
 * os_cpu_c.c - hosted CPU port (see os_cpu.h for the model).
 *
 * Context switching: every task owns a pthread that is created the first time the task is
 * switched to. A global "baton" names the one context allowed to run; a switch hands the baton
 * over under host_lock, signals the new owner's condition variable and waits on its own until
 * the baton comes back. Because the hand-over goes through a mutex, every kernel variable
 * written by one task is visible to the next (no data races for ASan/TSan to report).
 *
 * The kernel never runs on the OS_STK arrays here; OSTaskStkInit() only carves the per-task
 * host context out of the stack's top end (ptos and the entries beyond it in the growth
 * direction), so OSTaskStkChk() reports that frame as used, much as a real port's initial
 * register frame.
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "ucos_ii.h"

/* First and last word of a context: never zero, so OSTaskStkChk()'s scan for cleared
 * entries stops at the context whichever end it comes from. */
#define HOST_CTX_MAGIC 0x7461736b63747821ull

struct host_ctx {
    INT64U magic;
    void (*task)(void *p_arg);
    void *p_arg;
    pthread_cond_t cv;
    pthread_t thread;
    int started;
    int dead; /* the task was deleted: its thread must exit instead of running */
    INT64U magic_end;
};

static pthread_mutex_t host_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t host_main_cv = PTHREAD_COND_INITIALIZER;
static struct host_ctx *host_baton; /* context allowed to run; written under host_lock */
static struct host_ctx *host_cur;   /* context of the running task */
static INT64U host_clock;

BOOLEAN OSHostIrqDisabled;
INT32U OSHostTickUnits = 100u;
INT32U OSHostIntCtxSwCtr;
INT32U OSHostCtxSwCtr;
INT32U OSHostTaskReturns;
void (*OSHostIdleHook)(void);

static void host_fatal(const char *msg)
{
    fprintf(stderr, "host port: %s\n", msg);
    abort();
}

OS_CPU_SR OS_CPU_SR_Save(void)
{
    OS_CPU_SR sr = OSHostIrqDisabled;

    OSHostIrqDisabled = OS_TRUE;
    return sr;
}

void OS_CPU_SR_Restore(OS_CPU_SR cpu_sr)
{
    OSHostIrqDisabled = (BOOLEAN)cpu_sr;
}

/* Wait (host_lock held) until this context owns the baton or was deleted. */
static void host_wait_baton(struct host_ctx *self)
{
    while (host_baton != self && !self->dead) {
        pthread_cond_wait(&self->cv, &host_lock);
    }
}

static void *host_task_entry(void *arg)
{
    struct host_ctx *self = arg;

    pthread_mutex_lock(&host_lock);
    host_wait_baton(self);
    if (self->dead) {
        pthread_mutex_unlock(&host_lock);
        return NULL;
    }
    pthread_mutex_unlock(&host_lock);

    /* A task starts with interrupts enabled, whatever its creator was doing. */
    OSHostIrqDisabled = OS_FALSE;
    self->task(self->p_arg);
    OS_TaskReturn();
    host_fatal("OS_TaskReturn() returned");
    return NULL;
}

/* Give the baton to 'to' (starting its thread if needed). Called with host_lock held. */
static void host_give(struct host_ctx *to)
{
    host_cur = to;
    host_baton = to;
    if (!to->started) {
        to->started = 1;
        if (pthread_create(&to->thread, NULL, host_task_entry, to) != 0) {
            host_fatal("pthread_create failed");
        }
    } else {
        pthread_cond_signal(&to->cv);
    }
}

static void host_switch(void)
{
    struct host_ctx *from = host_cur;
    struct host_ctx *to = (struct host_ctx *)(void *)OSTCBHighRdy->OSTCBStkPtr;

    OSTaskSwHook();
    OSTCBCur = OSTCBHighRdy;
    OSPrioCur = OSPrioHighRdy;
    pthread_mutex_lock(&host_lock);
    host_give(to);
    if (from->dead) {
        /* The task deleted itself: nothing will ever switch back to it. */
        pthread_detach(pthread_self());
        pthread_mutex_unlock(&host_lock);
        pthread_exit(NULL);
    }
    host_wait_baton(from);
    if (from->dead) {
        /* Deleted by another task while switched out; OSTaskDelHook() joins us. */
        pthread_mutex_unlock(&host_lock);
        pthread_exit(NULL);
    }
    pthread_mutex_unlock(&host_lock);
}

void OSCtxSw(void)
{
    OSHostCtxSwCtr++;
    host_switch();
}

/* Real ports often defer this to the interrupt return; here the interrupted task's thread
 * simply blocks inside OSIntExit() until it is switched back in, which is equivalent. */
void OSIntCtxSw(void)
{
    OSHostIntCtxSwCtr++;
    host_switch();
}

void OSStartHighRdy(void)
{
    struct host_ctx *to = (struct host_ctx *)(void *)OSTCBHighRdy->OSTCBStkPtr;

    OSTaskSwHook();
    OSRunning = OS_TRUE;
    pthread_mutex_lock(&host_lock);
    host_give(to);
    /* The main thread is not a task; it parks here for good. Tests end with exit(). */
    for (;;) {
        pthread_cond_wait(&host_main_cv, &host_lock);
    }
}

OS_STK *OSTaskStkInit(void (*task)(void *p_arg), void *p_arg, OS_STK *ptos, INT16U opt)
{
    INT32U n = (INT32U)((sizeof(struct host_ctx) + sizeof(OS_STK) - 1u) / sizeof(OS_STK));
#if OS_STK_GROWTH == 1
    struct host_ctx *ctx = (struct host_ctx *)(void *)(ptos - n + 1);
#else
    struct host_ctx *ctx = (struct host_ctx *)(void *)ptos;
#endif

    (void)opt;
    (void)n;
    ctx->magic = HOST_CTX_MAGIC;
    ctx->magic_end = HOST_CTX_MAGIC;
    ctx->task = task;
    ctx->p_arg = p_arg;
    ctx->started = 0;
    ctx->dead = 0;
    pthread_cond_init(&ctx->cv, NULL);
    return (OS_STK *)(void *)ctx;
}

/* ---- Hooks ---- */

void OSInitHookBegin(void)
{
    host_clock = 0u;
}

void OSInitHookEnd(void)
{
}

void OSTaskCreateHook(OS_TCB *ptcb)
{
    (void)ptcb;
}

void OSTaskDelHook(OS_TCB *ptcb)
{
    struct host_ctx *ctx = (struct host_ctx *)(void *)ptcb->OSTCBStkPtr;

    pthread_mutex_lock(&host_lock);
    ctx->dead = 1;
    if (ctx == host_cur || !ctx->started) {
        /* Self-deletion exits in host_switch(); a never-run task has no thread. */
        pthread_mutex_unlock(&host_lock);
        return;
    }
    pthread_cond_signal(&ctx->cv);
    pthread_mutex_unlock(&host_lock);
    /* Join so the stack memory (holding ctx) can be reused by a new task at once. */
    pthread_join(ctx->thread, NULL);
}

void OSTaskIdleHook(void)
{
    OSHostAdvance(1u);
    if (OSHostIdleHook != NULL) {
        OSHostIdleHook();
    }
}

void OSTaskReturnHook(OS_TCB *ptcb)
{
    (void)ptcb;
    OSHostTaskReturns++;
}

void OSTaskStatHook(void)
{
}

void OSTaskSwHook(void)
{
}

void OSTCBInitHook(OS_TCB *ptcb)
{
    (void)ptcb;
}

void OSTimeTickHook(void)
{
}

/* ---- Simulated interrupts and virtual time ---- */

void OSHostIsr(void (*isr)(void *arg), void *arg)
{
    if (OSHostIrqDisabled) {
        host_fatal("OSHostIsr() with interrupts disabled");
    }
    OSHostIrqDisabled = OS_TRUE; /* the CPU masks interrupts on entry */
    OSIntEnter();
    isr(arg);
    OSIntExit();
    OSHostIrqDisabled = OS_FALSE; /* iret */
}

static void host_tick_isr(void *arg)
{
    (void)arg;
    OSTimeTick();
}

void OSHostTick(void)
{
    OSHostIsr(host_tick_isr, NULL);
}

void OSHostAdvance(INT32U units)
{
    while (units > 0u) {
        host_clock++;
        units--;
        if (OSHostTickUnits != 0u && host_clock % OSHostTickUnits == 0u) {
            OSHostTick();
        }
    }
}

INT64U OSHostClock(void)
{
    return host_clock;
}
