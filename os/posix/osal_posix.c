/*
 * POSIX port of os/osal.h for host tests. See osal_posix.h for the interrupt model.
 *
 * Everything here favours catching driver bugs over speed: DMA addresses live in a fake
 * IOVA space with guard gaps, frees are checked against the allocation table, misuse
 * (blocking in a critical section or an ISR, recursive locks) aborts with a message.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "osal.h"
#include "osal_posix.h"

/* Programming errors in the caller: report and stop, so the test fails loudly. */
static void osal_posix_fatal(const char *what)
{
    fprintf(stderr, "[osal_posix] FATAL: %s\n", what);
    abort();
}

/* --- critical sections and simulated interrupts ------------------------------------- */

struct osal_posix_irq {
    void (*isr)(void *arg);
    void *arg;
    bool pending;
    bool masked;
    bool running;
    uint64_t count;
};

static pthread_mutex_t osal_crit_mtx;
static pthread_once_t osal_crit_once = PTHREAD_ONCE_INIT;
static _Thread_local unsigned osal_crit_depth;
static _Thread_local unsigned osal_isr_depth;
/* All fields below are protected by osal_crit_mtx (ISRs run holding it). */
static struct osal_posix_irq osal_irqs[OSAL_POSIX_MAX_IRQ];
static uint64_t osal_irq_spurious;

static void osal_crit_init(void)
{
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    /* Recursive: nested critical sections, and ISRs that enter one, on the same thread. */
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    if (pthread_mutex_init(&osal_crit_mtx, &attr) != 0)
        osal_posix_fatal("critical-section mutex init");
    pthread_mutexattr_destroy(&attr);
}

static void osal_crit_lock(void)
{
    pthread_once(&osal_crit_once, osal_crit_init);
    if (pthread_mutex_lock(&osal_crit_mtx) != 0)
        osal_posix_fatal("critical-section lock");
}

static void osal_crit_unlock(void)
{
    if (pthread_mutex_unlock(&osal_crit_mtx) != 0)
        osal_posix_fatal("critical-section unlock");
}

/*
 * Run every deliverable latched interrupt. Caller holds osal_crit_mtx, is outside any
 * critical section and not in an ISR: the moment a uniprocessor would take them.
 */
static void osal_irq_dispatch(void)
{
    bool again = true;

    while (again) {
        again = false;
        for (unsigned i = 0; i < OSAL_POSIX_MAX_IRQ; i++) {
            struct osal_posix_irq *q = &osal_irqs[i];

            if (!q->pending || q->masked || q->running || q->isr == NULL)
                continue;
            q->pending = false;
            q->running = true;
            q->count++;
            osal_isr_depth++;
            q->isr(q->arg);
            osal_isr_depth--;
            q->running = false;
            if (osal_crit_depth != 0)
                osal_posix_fatal("ISR returned inside a critical section");
            again = true;
        }
    }
}

osal_crit_t osal_crit_enter(void)
{
    osal_crit_t saved;

    osal_crit_lock();
    saved = osal_crit_depth;
    osal_crit_depth = saved + 1;
    return saved;
}

void osal_crit_exit(osal_crit_t saved)
{
    if (osal_crit_depth != saved + 1)
        osal_posix_fatal("unbalanced osal_crit_exit");
    osal_crit_depth = saved;
    /* Leaving the outermost section "unmasks": take interrupts latched meanwhile. */
    if (saved == 0 && osal_isr_depth == 0)
        osal_irq_dispatch();
    osal_crit_unlock();
}

bool osal_in_isr(void)
{
    return osal_isr_depth != 0;
}

uintptr_t osal_task_self(void)
{
    /* The address of a thread-local object: unique per live thread. */
    static _Thread_local char self;
    return (uintptr_t)&self;
}

vnet_err_t osal_posix_irq_attach(unsigned irq, void (*isr)(void *arg), void *arg)
{
    vnet_err_t rc = VNET_OK;

    if (irq >= OSAL_POSIX_MAX_IRQ || isr == NULL)
        return VNET_E_INVAL;
    osal_crit_lock();
    if (osal_irqs[irq].isr != NULL) {
        rc = VNET_E_BUSY;
    } else {
        osal_irqs[irq].isr = isr;
        osal_irqs[irq].arg = arg;
        osal_irqs[irq].pending = false;
        osal_irqs[irq].masked = false;
    }
    osal_crit_unlock();
    return rc;
}

void osal_posix_irq_detach(unsigned irq)
{
    if (irq >= OSAL_POSIX_MAX_IRQ)
        return;
    if (osal_isr_depth != 0)
        osal_posix_fatal("osal_posix_irq_detach from an ISR");
    /* ISRs run holding the lock, so once we hold it none is running. */
    osal_crit_lock();
    osal_irqs[irq].isr = NULL;
    osal_irqs[irq].arg = NULL;
    osal_irqs[irq].pending = false;
    osal_crit_unlock();
}

void osal_posix_irq_raise(unsigned irq)
{
    if (irq >= OSAL_POSIX_MAX_IRQ)
        osal_posix_fatal("osal_posix_irq_raise: irq out of range");
    osal_crit_lock();
    if (osal_irqs[irq].isr == NULL) {
        osal_irq_spurious++;
    } else {
        osal_irqs[irq].pending = true;
        if (osal_crit_depth == 0 && osal_isr_depth == 0)
            osal_irq_dispatch();
    }
    osal_crit_unlock();
}

void osal_posix_irq_mask(unsigned irq)
{
    if (irq >= OSAL_POSIX_MAX_IRQ)
        return;
    osal_crit_lock();
    osal_irqs[irq].masked = true;
    osal_crit_unlock();
}

void osal_posix_irq_unmask(unsigned irq)
{
    if (irq >= OSAL_POSIX_MAX_IRQ)
        return;
    osal_crit_lock();
    osal_irqs[irq].masked = false;
    if (osal_crit_depth == 0 && osal_isr_depth == 0)
        osal_irq_dispatch();
    osal_crit_unlock();
}

uint64_t osal_posix_irq_count(unsigned irq)
{
    uint64_t n = 0;

    if (irq < OSAL_POSIX_MAX_IRQ) {
        osal_crit_lock();
        n = osal_irqs[irq].count;
        osal_crit_unlock();
    }
    return n;
}

uint64_t osal_posix_irq_spurious(void)
{
    uint64_t n;

    osal_crit_lock();
    n = osal_irq_spurious;
    osal_crit_unlock();
    return n;
}

/* Blocking with interrupts "masked" or from an ISR would deadlock a real RTOS. */
static void osal_check_may_block(const char *what)
{
    if (osal_isr_depth != 0 || osal_crit_depth != 0) {
        fprintf(stderr, "[osal_posix] FATAL: %s called %s\n", what,
                osal_isr_depth != 0 ? "from an ISR" : "inside a critical section");
        abort();
    }
}

/* --- time -------------------------------------------------------------------------- */

static uint64_t osal_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void osal_deadline(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000u);
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void osal_sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000u), .tv_nsec = (long)(ms % 1000u) * 1000000L};

    osal_check_may_block("osal_sleep_ms");
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void osal_delay_us(uint32_t us)
{
    uint64_t end = osal_now_ns() + (uint64_t)us * 1000u;

    while (osal_now_ns() < end) {
    }
}

uint64_t osal_cycles(void)
{
#if defined(__x86_64__)
    uint32_t lo, hi;

    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#else
    return osal_now_ns();
#endif
}

static _Atomic uint32_t osal_rand_state = 0x9e3779b9u;

void osal_posix_seed_random(uint32_t seed)
{
    atomic_store(&osal_rand_state, seed != 0 ? seed : 1u);
}

uint32_t osal_random32(void)
{
    uint32_t old = atomic_load(&osal_rand_state), x;

    /* xorshift32; the CAS loop keeps concurrent callers from returning the same value. */
    do {
        x = old;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
    } while (!atomic_compare_exchange_weak(&osal_rand_state, &old, x));
    return x;
}

static _Atomic uint64_t osal_log_n;
static _Atomic bool osal_log_silent;
static pthread_mutex_t osal_log_mtx = PTHREAD_MUTEX_INITIALIZER;

void osal_log(const char *msg)
{
    atomic_fetch_add(&osal_log_n, 1);
    if (atomic_load(&osal_log_silent))
        return;
    pthread_mutex_lock(&osal_log_mtx);
    fprintf(stderr, "[vnet] %s\n", msg != NULL ? msg : "(null)");
    pthread_mutex_unlock(&osal_log_mtx);
}

uint64_t osal_posix_log_count(void)
{
    return atomic_load(&osal_log_n);
}

void osal_posix_log_quiet(bool quiet)
{
    atomic_store(&osal_log_silent, quiet);
}

/* --- memory: accounting, fault injection, fake IOVA space ------------------------- */

static pthread_mutex_t osal_mem_mtx = PTHREAD_MUTEX_INITIALIZER;
static unsigned osal_fail_countdown; /* 0: disarmed */
static bool osal_fail_fired;
static size_t osal_mem_allocs, osal_mem_bytes;

struct osal_dma_block {
    uint64_t iova;
    size_t size;
    void *cpu;
    /* Non-coherent mode, buffer blocks only (NULL otherwise): the device's view of the
     * block (what osal_posix_dma_ptr returns) and one "owned by the device" bit per
     * simulated cache line, set by osal_dma_sync_for_device, cleared by _for_cpu. */
    uint8_t *dev;
    uint8_t *dev_owned;
};

static struct osal_dma_block *osal_dma_tab; /* sorted by iova (allocation order) */
static size_t osal_dma_n, osal_dma_cap;
static size_t osal_dma_bytes;
/*
 * Device addresses start at 32 GiB and grow, page aligned, with an unmapped page between
 * blocks, and are never reused. They never equal a host pointer (user-space heap and
 * ASan's shadow are far above), and QueuePFN (addr >> 12, 32 bits) still fits for
 * well over 15 TiB of allocations.
 */
#define OSAL_IOVA_BASE 0x0000000800000000ull
#define OSAL_PAGE      4096u
static uint64_t osal_iova_next = OSAL_IOVA_BASE;

/*
 * Simulated non-coherent DMA (osal_posix_dma_noncoherent): every osal_dma_buf_alloc()
 * block then has two copies, the CPU's (the pointer the driver gets: its "cache") and the
 * device's (what the simulated device reaches through osal_posix_dma_ptr: "memory"),
 * which start different (the device's is poisoned). Only the sync calls move bytes
 * between them, a whole OSAL_LINE at a time as cache maintenance does: for_device copies
 * CPU -> device (clean), for_cpu device -> CPU (invalidate). A missing sync therefore
 * shows as stale bytes (TX sends poison, RX delivers the previous frame or zeros), and a
 * device access to a line the driver did not hand over first is counted as a violation.
 * Coherent blocks (osal_dma_alloc: the rings) keep one copy.
 */
#define OSAL_LINE       64u
#define OSAL_DEV_POISON 0xdbu
static _Atomic bool osal_dma_nc; /* read without the lock on every sync (fast path) */
static uint64_t osal_dma_nc_violations;

/* Caller holds osal_mem_mtx. True when this allocation must fail (injection). */
static bool osal_inject_failure(void)
{
    if (osal_fail_countdown == 0)
        return false;
    if (--osal_fail_countdown != 0)
        return false;
    osal_fail_fired = true;
    return true;
}

void osal_posix_fail_alloc_after(unsigned n)
{
    pthread_mutex_lock(&osal_mem_mtx);
    osal_fail_countdown = n;
    osal_fail_fired = false;
    pthread_mutex_unlock(&osal_mem_mtx);
}

bool osal_posix_fail_alloc_fired(void)
{
    bool fired;

    pthread_mutex_lock(&osal_mem_mtx);
    fired = osal_fail_fired;
    pthread_mutex_unlock(&osal_mem_mtx);
    return fired;
}

/* Heap blocks carry their size in front, so free can account without a table. */
union osal_mem_hdr {
    size_t size;
    max_align_t align;
};

void *osal_mem_alloc(size_t size)
{
    union osal_mem_hdr *h;
    bool fail;

    pthread_mutex_lock(&osal_mem_mtx);
    fail = osal_inject_failure();
    pthread_mutex_unlock(&osal_mem_mtx);
    if (fail || size > SIZE_MAX - sizeof(*h))
        return NULL;
    h = malloc(sizeof(*h) + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    pthread_mutex_lock(&osal_mem_mtx);
    osal_mem_allocs++;
    osal_mem_bytes += size;
    pthread_mutex_unlock(&osal_mem_mtx);
    return h + 1;
}

void osal_mem_free(void *ptr)
{
    union osal_mem_hdr *h;

    if (ptr == NULL)
        return;
    h = (union osal_mem_hdr *)ptr - 1;
    pthread_mutex_lock(&osal_mem_mtx);
    if (osal_mem_allocs == 0 || osal_mem_bytes < h->size)
        osal_posix_fatal("osal_mem_free: more freed than allocated");
    osal_mem_allocs--;
    osal_mem_bytes -= h->size;
    pthread_mutex_unlock(&osal_mem_mtx);
    free(h);
}

static void *osal_dma_alloc_kind(size_t size, size_t align, uint64_t *dma_addr, bool buf)
{
    void *cpu;
    uint8_t *dev = NULL, *owned = NULL;
    size_t rounded;
    bool fail;

    if (dma_addr == NULL || size == 0 || align == 0 || align > OSAL_PAGE ||
        (align & (align - 1)) != 0 || size > ((size_t)1 << 30))
        return NULL;
    pthread_mutex_lock(&osal_mem_mtx);
    fail = osal_inject_failure();
    pthread_mutex_unlock(&osal_mem_mtx);
    if (fail)
        return NULL;

    rounded = (size + OSAL_PAGE - 1) & ~(size_t)(OSAL_PAGE - 1);
    cpu = aligned_alloc(OSAL_PAGE, rounded);
    if (cpu == NULL)
        return NULL;
    memset(cpu, 0, rounded);
    if (buf && atomic_load(&osal_dma_nc)) {
        dev = aligned_alloc(OSAL_PAGE, rounded);
        owned = calloc(rounded / OSAL_LINE, 1);
        if (dev == NULL || owned == NULL) {
            free(dev);
            free(owned);
            free(cpu);
            return NULL;
        }
        /* The zeroes above sit in the CPU's "cache"; memory still holds old bytes. */
        memset(dev, OSAL_DEV_POISON, rounded);
    }

    pthread_mutex_lock(&osal_mem_mtx);
    if (osal_dma_n == osal_dma_cap) {
        size_t ncap = osal_dma_cap != 0 ? osal_dma_cap * 2 : 256;
        struct osal_dma_block *nt = realloc(osal_dma_tab, ncap * sizeof(*nt));

        if (nt == NULL) {
            pthread_mutex_unlock(&osal_mem_mtx);
            free(dev);
            free(owned);
            free(cpu);
            return NULL;
        }
        osal_dma_tab = nt;
        osal_dma_cap = ncap;
    }
    /* Appending keeps the table sorted: IOVAs only grow. */
    osal_dma_tab[osal_dma_n].iova = osal_iova_next;
    osal_dma_tab[osal_dma_n].size = size;
    osal_dma_tab[osal_dma_n].cpu = cpu;
    osal_dma_tab[osal_dma_n].dev = dev;
    osal_dma_tab[osal_dma_n].dev_owned = owned;
    osal_dma_n++;
    osal_dma_bytes += size;
    *dma_addr = osal_iova_next;
    osal_iova_next += rounded + OSAL_PAGE;
    pthread_mutex_unlock(&osal_mem_mtx);
    return cpu;
}

void *osal_dma_alloc(size_t size, size_t align, uint64_t *dma_addr)
{
    return osal_dma_alloc_kind(size, align, dma_addr, false);
}

void *osal_dma_buf_alloc(size_t size, size_t align, uint64_t *dma_addr)
{
    return osal_dma_alloc_kind(size, align, dma_addr, true);
}

void osal_dma_free(void *ptr, size_t size)
{
    size_t i;
    uint8_t *dev, *owned;

    if (ptr == NULL)
        return;
    pthread_mutex_lock(&osal_mem_mtx);
    for (i = 0; i < osal_dma_n; i++)
        if (osal_dma_tab[i].cpu == ptr)
            break;
    if (i == osal_dma_n)
        osal_posix_fatal("osal_dma_free: pointer is not a live DMA allocation");
    if (osal_dma_tab[i].size != size)
        osal_posix_fatal("osal_dma_free: size differs from the allocation's");
    dev = osal_dma_tab[i].dev;
    owned = osal_dma_tab[i].dev_owned;
    osal_dma_bytes -= size;
    memmove(&osal_dma_tab[i], &osal_dma_tab[i + 1], (osal_dma_n - i - 1) * sizeof(*osal_dma_tab));
    osal_dma_n--;
    pthread_mutex_unlock(&osal_mem_mtx);
    free(dev);
    free(owned);
    free(ptr);
}

void osal_dma_buf_free(void *ptr, size_t size)
{
    /* One table for both kinds; a board with separate pools would tell them apart here. */
    osal_dma_free(ptr, size);
}

/* Non-coherent mode: the buffer block holding [p, p + len), or NULL (a coherent block, or
 * none: a driver bug). Caller holds osal_mem_mtx. */
static struct osal_dma_block *osal_dma_find_cpu(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p;

    for (size_t i = 0; i < osal_dma_n; i++) {
        struct osal_dma_block *b = &osal_dma_tab[i];
        uintptr_t lo = (uintptr_t)b->cpu;

        if (a >= lo && a - lo < b->size && len <= b->size - (a - lo))
            return b;
    }
    return NULL;
}

/* Move whole lines of [p, p + len) between the views (to_dev: clean, else invalidate). */
static void osal_dma_sync(const void *p, size_t len, bool to_dev)
{
    struct osal_dma_block *b;

    /* Coherent (every test but net.noncoherent): nothing to move, no lock per frame. */
    if (len == 0 || !atomic_load(&osal_dma_nc))
        return;
    pthread_mutex_lock(&osal_mem_mtx);
    b = osal_dma_find_cpu(p, len);
    if (b == NULL)
        osal_posix_fatal("osal_dma_sync_*: range is not inside a live DMA block");
    if (b->dev == NULL) {
        /* A coherent block: nothing to do, but the driver's contract says it never
         * syncs ring memory (nor would it need to). */
        osal_posix_fatal("osal_dma_sync_*: range is coherent memory (osal_dma_alloc)");
    }
    size_t off = (size_t)((uintptr_t)p - (uintptr_t)b->cpu);
    size_t first = off / OSAL_LINE, last = (off + len - 1) / OSAL_LINE;
    for (size_t l = first; l <= last; l++) {
        uint8_t *c = (uint8_t *)b->cpu + l * OSAL_LINE, *d = b->dev + l * OSAL_LINE;

        if (to_dev)
            memcpy(d, c, OSAL_LINE);
        else
            memcpy(c, d, OSAL_LINE);
        b->dev_owned[l] = to_dev;
    }
    pthread_mutex_unlock(&osal_mem_mtx);
}

void osal_dma_sync_for_device(const void *cpu, size_t len)
{
    osal_dma_sync(cpu, len, true);
}

void osal_dma_sync_for_cpu(const void *cpu, size_t len)
{
    osal_dma_sync(cpu, len, false);
}

void osal_posix_dma_noncoherent(bool on)
{
    pthread_mutex_lock(&osal_mem_mtx);
    atomic_store(&osal_dma_nc, on);
    osal_dma_nc_violations = 0;
    pthread_mutex_unlock(&osal_mem_mtx);
}

uint64_t osal_posix_dma_sync_violations(void)
{
    uint64_t n;

    pthread_mutex_lock(&osal_mem_mtx);
    n = osal_dma_nc_violations;
    pthread_mutex_unlock(&osal_mem_mtx);
    return n;
}

void *osal_posix_dma_ptr(uint64_t dma_addr, size_t len)
{
    size_t lo = 0, hi, span = len != 0 ? len : 1;
    void *p = NULL;

    pthread_mutex_lock(&osal_mem_mtx);
    hi = osal_dma_n;
    /* Last block whose iova <= dma_addr. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (osal_dma_tab[mid].iova <= dma_addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const struct osal_dma_block *b = &osal_dma_tab[lo - 1];
        uint64_t off = dma_addr - b->iova;

        if (off < b->size && span <= b->size - off) {
            if (b->dev == NULL) {
                p = (uint8_t *)b->cpu + off;
            } else {
                /* Non-coherent buffer: the device reaches memory, and only lines the
                 * driver handed over with osal_dma_sync_for_device. */
                p = b->dev + off;
                for (size_t l = (size_t)off / OSAL_LINE; l <= ((size_t)off + span - 1) / OSAL_LINE;
                     l++) {
                    if (!b->dev_owned[l]) {
                        if (osal_dma_nc_violations++ < 4)
                            fprintf(stderr,
                                    "[osal_posix] device accessed 0x%llx+%zu, line %zu not "
                                    "synced for the device\n",
                                    (unsigned long long)dma_addr, len, l);
                        break;
                    }
                }
            }
        }
    }
    pthread_mutex_unlock(&osal_mem_mtx);
    return p;
}

/* Read one leak counter under the allocation lock (they change together on alloc/free). */
static size_t osal_mem_counter(const size_t *counter)
{
    size_t n;

    pthread_mutex_lock(&osal_mem_mtx);
    n = *counter;
    pthread_mutex_unlock(&osal_mem_mtx);
    return n;
}

size_t osal_posix_dma_outstanding(void)
{
    return osal_mem_counter(&osal_dma_n);
}

size_t osal_posix_dma_outstanding_bytes(void)
{
    return osal_mem_counter(&osal_dma_bytes);
}

size_t osal_posix_mem_outstanding(void)
{
    return osal_mem_counter(&osal_mem_allocs);
}

size_t osal_posix_mem_outstanding_bytes(void)
{
    return osal_mem_counter(&osal_mem_bytes);
}

/* --- semaphores ------------------------------------------------------------------- */

/* uC/OS-II semaphores count to 65535 and refuse to overflow (OS_ERR_SEM_OVF). */
#define OSAL_SEM_MAX 65535u

vnet_err_t osal_sem_init(osal_sem_t *sem, unsigned initial)
{
    pthread_condattr_t ca;

    if (sem == NULL || initial > OSAL_SEM_MAX)
        return VNET_E_INVAL;
    if (pthread_mutex_init(&sem->mtx, NULL) != 0)
        return VNET_E_OS;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_cond_init(&sem->cond, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&sem->mtx);
        return VNET_E_OS;
    }
    pthread_condattr_destroy(&ca);
    sem->count = initial;
    sem->live = true;
    return VNET_OK;
}

void osal_sem_destroy(osal_sem_t *sem)
{
    if (sem == NULL || !sem->live)
        return;
    sem->live = false;
    pthread_cond_destroy(&sem->cond);
    pthread_mutex_destroy(&sem->mtx);
}

vnet_err_t osal_sem_wait(osal_sem_t *sem, uint32_t timeout_ms)
{
    struct timespec dl;
    vnet_err_t rc = VNET_OK;

    if (osal_isr_depth != 0)
        return VNET_E_ISR;
    osal_check_may_block("osal_sem_wait");
    if (sem == NULL || !sem->live)
        return VNET_E_OS;
    if (timeout_ms != 0)
        osal_deadline(&dl, timeout_ms);
    pthread_mutex_lock(&sem->mtx);
    while (sem->count == 0) {
        int e = timeout_ms != 0 ? pthread_cond_timedwait(&sem->cond, &sem->mtx, &dl)
                                : pthread_cond_wait(&sem->cond, &sem->mtx);

        if (e == ETIMEDOUT && sem->count == 0) {
            rc = VNET_E_TIMEOUT;
            break;
        }
        if (e != 0 && e != ETIMEDOUT) {
            rc = VNET_E_OS;
            break;
        }
    }
    if (rc == VNET_OK)
        sem->count--;
    pthread_mutex_unlock(&sem->mtx);
    return rc;
}

vnet_err_t osal_sem_post(osal_sem_t *sem)
{
    vnet_err_t rc = VNET_OK;

    if (sem == NULL || !sem->live)
        return VNET_E_OS;
    pthread_mutex_lock(&sem->mtx);
    if (sem->count >= OSAL_SEM_MAX) {
        rc = VNET_E_OS;
    } else {
        sem->count++;
        pthread_cond_signal(&sem->cond);
    }
    pthread_mutex_unlock(&sem->mtx);
    return rc;
}

/* --- task-level locks --------------------------------------------------------------- */

vnet_err_t osal_lock_init(osal_lock_t *lock)
{
    pthread_mutexattr_t attr;
    int e;

    if (lock == NULL)
        return VNET_E_INVAL;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    e = pthread_mutex_init(&lock->mtx, &attr);
    pthread_mutexattr_destroy(&attr);
    return e == 0 ? VNET_OK : VNET_E_OS;
}

void osal_lock_destroy(osal_lock_t *lock)
{
    if (lock != NULL && pthread_mutex_destroy(&lock->mtx) != 0)
        osal_posix_fatal("osal_lock_destroy: lock is held");
}

void osal_lock_acquire(osal_lock_t *lock)
{
    if (osal_isr_depth != 0)
        osal_posix_fatal("osal_lock_acquire from an ISR");
    if (pthread_mutex_lock(&lock->mtx) != 0)
        osal_posix_fatal("osal_lock_acquire: already held by this task");
}

void osal_lock_release(osal_lock_t *lock)
{
    if (pthread_mutex_unlock(&lock->mtx) != 0)
        osal_posix_fatal("osal_lock_release: not held by this task");
}

/* --- tasks ------------------------------------------------------------------------ */

struct osal_posix_task {
    pthread_t thread;
    void (*entry)(void *arg);
    void *arg;
    unsigned prio;
    char name[32];
    struct osal_posix_task *next; /* live-task list, for uC/OS-II's unique priorities */
};

static pthread_mutex_t osal_task_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct osal_posix_task *osal_tasks;

static void *osal_task_trampoline(void *p)
{
    struct osal_posix_task *t = p;

    t->entry(t->arg);
    return NULL;
}

vnet_err_t osal_task_create(osal_task_t *task, const struct osal_task_params *params)
{
    struct osal_posix_task *t, *it;

    if (task == NULL || params == NULL || params->entry == NULL)
        return VNET_E_INVAL;
    t = osal_mem_alloc(sizeof(*t));
    if (t == NULL)
        return VNET_E_NOMEM;
    memset(t, 0, sizeof(*t));
    t->entry = params->entry;
    t->arg = params->arg;
    t->prio = params->prio;
    snprintf(t->name, sizeof(t->name), "%s", params->name != NULL ? params->name : "task");

    pthread_mutex_lock(&osal_task_mtx);
    /* Priority is recorded, not enforced, but must be unique as in uC/OS-II
     * (OS_ERR_PRIO_EXIST), so two devices configured with one priority fail here too. */
    for (it = osal_tasks; it != NULL; it = it->next) {
        if (it->prio == t->prio) {
            pthread_mutex_unlock(&osal_task_mtx);
            osal_mem_free(t);
            return VNET_E_OS;
        }
    }
    if (pthread_create(&t->thread, NULL, osal_task_trampoline, t) != 0) {
        pthread_mutex_unlock(&osal_task_mtx);
        osal_mem_free(t);
        return VNET_E_OS;
    }
    t->next = osal_tasks;
    osal_tasks = t;
    pthread_mutex_unlock(&osal_task_mtx);
    task->impl = t;
    return VNET_OK;
}

vnet_err_t osal_task_join(osal_task_t *task)
{
    struct osal_posix_task *t, **pp;

    if (task == NULL || task->impl == NULL)
        return VNET_E_INVAL;
    osal_check_may_block("osal_task_join");
    t = task->impl;
    if (pthread_join(t->thread, NULL) != 0)
        return VNET_E_OS;
    pthread_mutex_lock(&osal_task_mtx);
    for (pp = &osal_tasks; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    pthread_mutex_unlock(&osal_task_mtx);
    task->impl = NULL;
    osal_mem_free(t);
    return VNET_OK;
}
