/*
 * uC/OS-II implementation of the vnet-rtos OS contract (os/osal.h).
 *
 * Mapping:
 *   critical section  OS_ENTER_CRITICAL/OS_EXIT_CRITICAL, method 3 (saved status word)
 *   in ISR            OSIntNesting > 0 (the board brackets handlers with OSIntEnter/Exit)
 *   semaphore         OSSemCreate/OSSemPend/OSSemPost/OSSemDel
 *   lock              OSSchedLock/OSSchedUnlock (holder must not block)
 *   task              OSTaskCreateExt with stack checking; a wrapper posts a per-task
 *                     semaphore when the entry returns, then deletes itself
 *   memory            first-fit heap over a board region (and optionally a second,
 *                     coherent one for the rings); DMA addresses and cache maintenance
 *                     from the board (osal_board_dma_*)
 */
#include <string.h>
/* This port's types first, found next to this file whatever the include path (static
 * analysers that do not know the build's include order included). */
#include "osal_port.h"
#include "osal.h"

/* --- configuration checks: everything this port calls must be compiled in ------------ */
#if !defined(OS_CRITICAL_METHOD) || OS_CRITICAL_METHOD != 3
#error "os/ucos2 needs OS_CRITICAL_METHOD 3 (nestable critical sections, OS_CPU_SR cpu_sr)"
#endif
#if !defined(OS_SEM_EN) || OS_SEM_EN == 0
#error "os/ucos2 needs OS_SEM_EN (RX task wake-up, task join)"
#endif
#if !defined(OS_SEM_DEL_EN) || OS_SEM_DEL_EN == 0
#error "os/ucos2 needs OS_SEM_DEL_EN (osal_sem_destroy, osal_task_join)"
#endif
#if !defined(OS_TASK_CREATE_EXT_EN) || OS_TASK_CREATE_EXT_EN == 0
#error "os/ucos2 needs OS_TASK_CREATE_EXT_EN (tasks with stack checking)"
#endif
#if !defined(OS_TASK_DEL_EN) || OS_TASK_DEL_EN == 0
#error "os/ucos2 needs OS_TASK_DEL_EN (a finished task deletes itself)"
#endif
#if !defined(OS_TASK_QUERY_EN) || OS_TASK_QUERY_EN == 0
#error "os/ucos2 needs OS_TASK_QUERY_EN (osal_task_join waits for the deletion)"
#endif
#if !defined(OS_SCHED_LOCK_EN) || OS_SCHED_LOCK_EN == 0
#error "os/ucos2 needs OS_SCHED_LOCK_EN (osal_lock_*)"
#endif
#if !defined(OS_TICKS_PER_SEC) || OS_TICKS_PER_SEC == 0
#error "os/ucos2 needs OS_TICKS_PER_SEC"
#endif

void (*osal_ucos2_log)(const char *msg);

/* --- critical sections ----------------------------------------------------------------- */

osal_crit_t osal_crit_enter(void)
{
    OS_CPU_SR cpu_sr;
    OS_ENTER_CRITICAL();
    return cpu_sr;
}

void osal_crit_exit(osal_crit_t saved)
{
    OS_CPU_SR cpu_sr = saved;
    OS_EXIT_CRITICAL();
}

bool osal_in_isr(void)
{
    return OSIntNesting > 0u;
}

uintptr_t osal_task_self(void)
{
    /* One task per priority in uC/OS-II: the running task's priority names it. */
    return (uintptr_t)OSPrioCur + 1u;
}

/* --- time ----------------------------------------------------------------------------- */

/* Longest delay or timeout the kernel takes, in ticks. Current uC/OS-II (and this project's
 * kernel) take 32-bit tick counts; older versions take INT16U ones, which would silently wrap
 * a long timeout into a short one. A task's delay counter has the width of those parameters. */
#define UCOS2_TICKS_MAX (sizeof(OSTCBCur->OSTCBDly) >= 4u ? 0xffffffffu : 0xffffu)

/* Ticks covering at least `ms`: OSTimeDly(n) may return up to one tick early (the first
 * tick can come at once), hence the extra tick. Saturates at UCOS2_TICKS_MAX. */
static INT32U ucos2_ms_to_ticks(uint32_t ms)
{
    uint64_t t = ((uint64_t)ms * OS_TICKS_PER_SEC + 999u) / 1000u + 1u;
    return t > UCOS2_TICKS_MAX ? (INT32U)UCOS2_TICKS_MAX : (INT32U)t;
}

void osal_sleep_ms(uint32_t ms)
{
    OSTimeDly(ucos2_ms_to_ticks(ms));
}

void osal_delay_us(uint32_t us)
{
    uint64_t start = osal_board_cycles();
    uint64_t span = (uint64_t)us * osal_board_cycles_per_us();
    while (osal_board_cycles() - start < span)
        ;
}

uint64_t osal_cycles(void)
{
    return osal_board_cycles();
}

uint32_t osal_random32(void)
{
    /* xorshift32 (Marsaglia) re-seeded with cycle noise on every call; enough for a
     * locally administered MAC, not for anything secret. */
    static uint32_t state;
    OS_CPU_SR cpu_sr;
    OS_ENTER_CRITICAL();
    uint64_t c = osal_board_cycles();
    uint32_t x = state ^ (uint32_t)c ^ (uint32_t)(c >> 32);
    if (x == 0)
        x = 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    state = x;
    OS_EXIT_CRITICAL();
    return x;
}

void osal_log(const char *msg)
{
    if (osal_ucos2_log != NULL && msg != NULL)
        osal_ucos2_log(msg);
}

/* --- semaphores ------------------------------------------------------------------------ */

vnet_err_t osal_sem_init(osal_sem_t *sem, unsigned initial)
{
    if (sem == NULL || initial > 0xffffu)
        return VNET_E_INVAL;
    sem->ev = OSSemCreate((INT16U)initial);
    return sem->ev != NULL ? VNET_OK : VNET_E_OS;
}

void osal_sem_destroy(osal_sem_t *sem)
{
    if (sem == NULL || sem->ev == NULL)
        return;
    INT8U err;
    (void)OSSemDel(sem->ev, OS_DEL_ALWAYS, &err);
    sem->ev = NULL;
}

vnet_err_t osal_sem_wait(osal_sem_t *sem, uint32_t timeout_ms)
{
    if (OSIntNesting > 0u)
        return VNET_E_ISR;
    INT8U err;
    OSSemPend(sem->ev, timeout_ms == 0 ? 0u : ucos2_ms_to_ticks(timeout_ms), &err);
    if (err == OS_ERR_NONE)
        return VNET_OK;
    return err == OS_ERR_TIMEOUT ? VNET_E_TIMEOUT : VNET_E_OS;
}

vnet_err_t osal_sem_post(osal_sem_t *sem)
{
    return OSSemPost(sem->ev) == OS_ERR_NONE ? VNET_OK : VNET_E_OS;
}

/* --- lock ------------------------------------------------------------------------------ */

vnet_err_t osal_lock_init(osal_lock_t *lock)
{
    if (lock == NULL)
        return VNET_E_INVAL;
    lock->depth_at_acquire = 0;
    return VNET_OK;
}

void osal_lock_destroy(osal_lock_t *lock)
{
    (void)lock;
}

void osal_lock_acquire(osal_lock_t *lock)
{
    OSSchedLock();
    lock->depth_at_acquire = OSLockNesting;
}

void osal_lock_release(osal_lock_t *lock)
{
    (void)lock;
    OSSchedUnlock();
}

/* --- tasks ----------------------------------------------------------------------------- */

static void ucos2_task_wrapper(void *p_arg)
{
    osal_task_t *t = p_arg;
    t->entry(t->arg);
    /* The joiner may be more urgent and run at once; it waits for OSTaskDel to finish
     * (osal_task_join polls OSTaskQuery) before it frees this stack. */
    (void)OSSemPost(t->done);
    (void)OSTaskDel(OS_PRIO_SELF);
    for (;;)
        OSTimeDly(OS_TICKS_PER_SEC); /* not reached: OSTaskDel(SELF) does not return */
}

vnet_err_t osal_task_create(osal_task_t *task, const struct osal_task_params *params)
{
    if (task == NULL || params == NULL || params->entry == NULL ||
        params->prio > OSAL_UCOS2_PRIO_MAX)
        return VNET_E_INVAL;
    size_t bytes = params->stack_bytes ? params->stack_bytes : OSAL_UCOS2_DEFAULT_STACK_BYTES;
    INT32U n = (INT32U)(bytes / sizeof(OS_STK));
    if (n < 64u)
        return VNET_E_INVAL;
    memset(task, 0, sizeof(*task));
    task->entry = params->entry;
    task->arg = params->arg;
    task->prio = (INT8U)params->prio;
    /* task was zeroed above: the copy stays terminated. */
    for (size_t i = 0; params->name != NULL && i + 1u < sizeof(task->name) && params->name[i]; i++)
        task->name[i] = params->name[i];
    OS_STK *stk = params->stack;
    if (stk == NULL) {
        stk = osal_mem_alloc((size_t)n * sizeof(OS_STK));
        if (stk == NULL)
            return VNET_E_NOMEM;
        task->stk_mem = stk;
    }
    task->done = OSSemCreate(0);
    if (task->done == NULL) {
        osal_mem_free(task->stk_mem);
        return VNET_E_OS;
    }
    /* ptos: the first entry the task uses; pbos: the far end, where OSTaskStkChk() starts
     * counting untouched entries (uC/OS-II's convention for both growth directions). */
#if OS_STK_GROWTH == 1
    OS_STK *ptos = &stk[n - 1u];
    OS_STK *pbos = &stk[0];
#else
    OS_STK *ptos = &stk[0];
    OS_STK *pbos = &stk[n - 1u];
#endif
    INT8U err = OSTaskCreateExt(ucos2_task_wrapper, task, ptos, task->prio, task->prio, pbos, n,
                                NULL, OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR);
    if (err != OS_ERR_NONE) {
        INT8U e2;
        (void)OSSemDel(task->done, OS_DEL_ALWAYS, &e2);
        osal_mem_free(task->stk_mem);
        memset(task, 0, sizeof(*task));
        return VNET_E_OS;
    }
#if defined(OS_TASK_NAME_EN) && OS_TASK_NAME_EN > 0
    if (task->name[0] != '\0')
        OSTaskNameSet(task->prio, (INT8U *)task->name, &err);
#endif
    task->created = true;
    return VNET_OK;
}

vnet_err_t osal_task_join(osal_task_t *task)
{
    if (task == NULL || !task->created)
        return VNET_E_INVAL;
    if (OSIntNesting > 0u)
        return VNET_E_ISR;
    INT8U err;
    OSSemPend(task->done, 0, &err);
    if (err != OS_ERR_NONE)
        return VNET_E_OS;
    /* Entry returned; wait (bounded) until the kernel no longer knows the task, so its
     * stack and TCB are no longer in use. */
    OS_TCB tcb;
    unsigned polls = 0;
    while (OSTaskQuery(task->prio, &tcb) == OS_ERR_NONE) {
        if (++polls > 10u * OS_TICKS_PER_SEC)
            return VNET_E_TIMEOUT;
        OSTimeDly(1);
    }
    (void)OSSemDel(task->done, OS_DEL_ALWAYS, &err);
    osal_mem_free(task->stk_mem);
    memset(task, 0, sizeof(*task));
    return VNET_OK;
}

/* --- memory: first-fit heap with coalescing -------------------------------------------- */

/* Block header. `size` includes the header. Free blocks sit on an address-ordered list
 * (so neighbours coalesce on free); a used block's `next` holds a marker that catches
 * double frees and wild pointers. */
struct ucos2_blk {
    size_t size;
    struct ucos2_blk *next;
};

#define UCOS2_ALIGN   16u
#define UCOS2_HDR     ((sizeof(struct ucos2_blk) + UCOS2_ALIGN - 1u) & ~(size_t)(UCOS2_ALIGN - 1u))
#define UCOS2_MIN_BLK (UCOS2_HDR + UCOS2_ALIGN)
#define UCOS2_USED_V  0x55534544u
#define UCOS2_USED    ((struct ucos2_blk *)(uintptr_t)UCOS2_USED_V)
/* Free-list links are block addresses, all UCOS2_ALIGN-aligned; a marker that is not
 * aligned can never equal one, so a double free is always recognised. */
_Static_assert((UCOS2_USED_V % UCOS2_ALIGN) != 0u, "used marker must not look like a link");

/* One heap: its bounds, address-ordered free list and used-block count (all under
 * OS_ENTER_CRITICAL). */
struct ucos2_heap {
    struct ucos2_blk *free_head;
    uintptr_t lo, hi;
    unsigned used_blocks;
};

/* The main heap (osal_mem_alloc, buffers, and the rings unless the board gave a coherent
 * region with osal_ucos2_dma_heap_init), and that optional coherent region. */
static struct ucos2_heap ucos2_main, ucos2_coh;

static uintptr_t ucos2_align_up(uintptr_t v, uintptr_t a)
{
    return (v + a - 1u) & ~(a - 1u);
}

static vnet_err_t ucos2_heap_init(struct ucos2_heap *h, void *base, size_t len)
{
    if (base == NULL)
        return VNET_E_INVAL;
    uintptr_t lo = ucos2_align_up((uintptr_t)base, UCOS2_ALIGN);
    uintptr_t hi = ((uintptr_t)base + len) & ~(uintptr_t)(UCOS2_ALIGN - 1u);
    if (hi <= lo || hi - lo < 4u * UCOS2_MIN_BLK)
        return VNET_E_INVAL;
    OS_CPU_SR cpu_sr;
    OS_ENTER_CRITICAL();
    h->lo = lo;
    h->hi = hi;
    h->free_head = (struct ucos2_blk *)lo;
    h->free_head->size = hi - lo;
    h->free_head->next = NULL;
    h->used_blocks = 0;
    OS_EXIT_CRITICAL();
    return VNET_OK;
}

static void *ucos2_heap_alloc(struct ucos2_heap *h, size_t size, size_t align)
{
    if (size == 0 || align > 4096u || (align & (align - 1u)) != 0)
        return NULL;
    if (align < UCOS2_ALIGN)
        align = UCOS2_ALIGN;
    if (size > h->hi - h->lo)
        return NULL;
    size_t need = ucos2_align_up(size, UCOS2_ALIGN);
    void *ret = NULL;
    OS_CPU_SR cpu_sr;
    OS_ENTER_CRITICAL();
    struct ucos2_blk **link = &h->free_head;
    for (struct ucos2_blk *b = h->free_head; b != NULL; link = &b->next, b = b->next) {
        uintptr_t start = (uintptr_t)b;
        uintptr_t end = start + b->size;
        uintptr_t p = ucos2_align_up(start + UCOS2_HDR, align);
        /* A front gap must be able to live as a free block of its own. */
        while (p - UCOS2_HDR != start && p - UCOS2_HDR - start < UCOS2_MIN_BLK)
            p += align;
        if (p > end || end - p < need)
            continue;
        uintptr_t blk = p - UCOS2_HDR;
        struct ucos2_blk *after = b->next;
        if (blk != start) {
            b->size = blk - start; /* front remainder stays on the list */
            link = &b->next;
        }
        size_t tail = end - (p + need);
        struct ucos2_blk *u = (struct ucos2_blk *)blk;
        if (tail >= UCOS2_MIN_BLK) {
            struct ucos2_blk *t = (struct ucos2_blk *)(p + need);
            t->size = tail;
            t->next = after;
            *link = t;
            u->size = UCOS2_HDR + need;
        } else {
            *link = after;
            u->size = end - blk;
        }
        u->next = UCOS2_USED;
        h->used_blocks++;
        ret = (void *)p;
        break;
    }
    OS_EXIT_CRITICAL();
    return ret;
}

static void ucos2_heap_free(struct ucos2_heap *h, void *ptr)
{
    if (ptr == NULL)
        return;
    uintptr_t p = (uintptr_t)ptr;
    if (p < h->lo + UCOS2_HDR || p >= h->hi || (p & (UCOS2_ALIGN - 1u))) {
        osal_log("osal_ucos2: free of a pointer outside the heap");
        return;
    }
    struct ucos2_blk *b = (struct ucos2_blk *)(p - UCOS2_HDR);
    OS_CPU_SR cpu_sr;
    OS_ENTER_CRITICAL();
    if (b->next != UCOS2_USED) {
        OS_EXIT_CRITICAL();
        osal_log("osal_ucos2: double free or corrupted block header");
        return;
    }
    h->used_blocks--;
    struct ucos2_blk *prev = NULL;
    struct ucos2_blk *cur = h->free_head;
    while (cur != NULL && cur < b) {
        prev = cur;
        cur = cur->next;
    }
    b->next = cur;
    if (prev != NULL)
        prev->next = b;
    else
        h->free_head = b;
    if (cur != NULL && (uintptr_t)b + b->size == (uintptr_t)cur) {
        b->size += cur->size;
        b->next = cur->next;
    }
    if (prev != NULL && (uintptr_t)prev + prev->size == (uintptr_t)b) {
        prev->size += b->size;
        prev->next = b->next;
    }
    OS_EXIT_CRITICAL();
}

static void ucos2_heap_stats(const struct ucos2_heap *h, struct osal_ucos2_heap_stats *out)
{
    memset(out, 0, sizeof(*out));
    OS_CPU_SR cpu_sr;
    OS_ENTER_CRITICAL();
    out->total = h->hi - h->lo;
    out->used_blocks = h->used_blocks;
    for (struct ucos2_blk *b = h->free_head; b != NULL; b = b->next) {
        out->free_bytes += b->size;
        out->free_blocks++;
        if (b->size > out->largest)
            out->largest = b->size;
    }
    OS_EXIT_CRITICAL();
}

vnet_err_t osal_ucos2_heap_init(void *base, size_t len)
{
    return ucos2_heap_init(&ucos2_main, base, len);
}

vnet_err_t osal_ucos2_dma_heap_init(void *base, size_t len)
{
    return ucos2_heap_init(&ucos2_coh, base, len);
}

void osal_ucos2_heap_get_stats(struct osal_ucos2_heap_stats *out)
{
    ucos2_heap_stats(&ucos2_main, out);
}

void osal_ucos2_dma_heap_get_stats(struct osal_ucos2_heap_stats *out)
{
    ucos2_heap_stats(&ucos2_coh, out);
}

/* The heap for coherent memory: the board's coherent region once it gave one. */
static struct ucos2_heap *ucos2_coh_heap(void)
{
    return ucos2_coh.hi != 0 ? &ucos2_coh : &ucos2_main;
}

void *osal_mem_alloc(size_t size)
{
    return ucos2_heap_alloc(&ucos2_main, size, UCOS2_ALIGN);
}

void osal_mem_free(void *ptr)
{
    ucos2_heap_free(&ucos2_main, ptr);
}

static void *ucos2_dma_alloc(struct ucos2_heap *h, size_t size, size_t align, uint64_t *dma_addr)
{
    void *p = ucos2_heap_alloc(h, size, align);
    if (p == NULL)
        return NULL;
    /* Zeroed outside the critical section: rings can be tens of KiB. */
    memset(p, 0, size);
    /* The board says what the device must be given (identity on the QEMU boards). */
    *dma_addr = osal_board_dma_addr(p);
    return p;
}

void *osal_dma_alloc(size_t size, size_t align, uint64_t *dma_addr)
{
    return ucos2_dma_alloc(ucos2_coh_heap(), size, align, dma_addr);
}

void osal_dma_free(void *ptr, size_t size)
{
    (void)size;
    /* By address: a block from the main heap (allocated before the coherent region was
     * given) goes back there. */
    uintptr_t p = (uintptr_t)ptr;
    ucos2_heap_free(p >= ucos2_coh.lo && p < ucos2_coh.hi ? &ucos2_coh : &ucos2_main, ptr);
}

/* Buffers come from the main heap: cached on a board that gave a coherent region for the
 * rings, and kept consistent by the driver's syncs (osal_ucos2_board.h). */
void *osal_dma_buf_alloc(size_t size, size_t align, uint64_t *dma_addr)
{
    return ucos2_dma_alloc(&ucos2_main, size, align, dma_addr);
}

void osal_dma_buf_free(void *ptr, size_t size)
{
    (void)size;
    ucos2_heap_free(&ucos2_main, ptr);
}

void osal_dma_sync_for_device(const void *cpu, size_t len)
{
    osal_board_dma_sync_for_device(cpu, len);
}

void osal_dma_sync_for_cpu(const void *cpu, size_t len)
{
    osal_board_dma_sync_for_cpu(cpu, len);
}
