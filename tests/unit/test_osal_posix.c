/*
 * Tests of the POSIX port itself: the interrupt model (ISR excluded by critical sections,
 * latching while masked / in a critical section / while running), semaphores, DMA
 * address translation and accounting, fault injection, tasks.
 */
#include <stdatomic.h>
#include <string.h>
#include "osal.h"
#include "osal_posix.h"
#include "tu.h"

static atomic_int isr_runs;
static atomic_int isr_in_crit_overlap;
static atomic_bool task_in_crit;
static unsigned reraise_irq = 99;

static void isr_count(void *arg)
{
    (void)arg;
    TU_CHECK(osal_in_isr());
    if (atomic_load(&task_in_crit))
        atomic_fetch_add(&isr_in_crit_overlap, 1);
    atomic_fetch_add(&isr_runs, 1);
    if (reraise_irq != 99 && atomic_load(&isr_runs) == 1)
        osal_posix_irq_raise(reraise_irq); /* raised again while running: re-run once */
}

static void test_irq_basic(void)
{
    atomic_store(&isr_runs, 0);
    TU_CHECK(!osal_in_isr());
    TU_CHECK_EQ(osal_posix_irq_attach(3, isr_count, NULL), VNET_OK);
    TU_CHECK_EQ(osal_posix_irq_attach(3, isr_count, NULL), VNET_E_BUSY);
    TU_CHECK_EQ(osal_posix_irq_attach(OSAL_POSIX_MAX_IRQ, isr_count, NULL), VNET_E_INVAL);
    osal_posix_irq_raise(3);
    TU_CHECK_EQ(atomic_load(&isr_runs), 1);

    /* Raised inside a critical section of the same thread: delivered at exit. */
    osal_crit_t c = osal_crit_enter();
    osal_crit_t c2 = osal_crit_enter();
    osal_posix_irq_raise(3);
    TU_CHECK_EQ(atomic_load(&isr_runs), 1);
    osal_crit_exit(c2);
    TU_CHECK_EQ(atomic_load(&isr_runs), 1); /* still nested */
    osal_crit_exit(c);
    TU_CHECK_EQ(atomic_load(&isr_runs), 2);

    /* Masked: latched (coalesced), one delivery on unmask. */
    osal_posix_irq_mask(3);
    osal_posix_irq_raise(3);
    osal_posix_irq_raise(3);
    TU_CHECK_EQ(atomic_load(&isr_runs), 2);
    osal_posix_irq_unmask(3);
    TU_CHECK_EQ(atomic_load(&isr_runs), 3);

    /* Raised by its own ISR: re-run after it returns, not nested. */
    reraise_irq = 3;
    atomic_store(&isr_runs, 0);
    osal_posix_irq_raise(3);
    TU_CHECK_EQ(atomic_load(&isr_runs), 2);
    reraise_irq = 99;
    TU_CHECK_EQ(osal_posix_irq_count(3), 5);

    osal_posix_irq_detach(3);
    uint64_t sp = osal_posix_irq_spurious();
    osal_posix_irq_raise(3);
    TU_CHECK_EQ(osal_posix_irq_spurious(), sp + 1);
    TU_CHECK_EQ(atomic_load(&isr_runs), 2);
}

struct raiser {
    unsigned irq;
    int n;
    atomic_bool stop;
};

static void raiser_task(void *arg)
{
    struct raiser *r = arg;

    for (int i = 0; i < r->n && !atomic_load(&r->stop); i++) {
        osal_posix_irq_raise(r->irq);
        if ((i & 63) == 0)
            osal_delay_us(5);
    }
}

/* A device thread hammers the irq while the task enters/leaves critical sections: the ISR
 * never runs while the task is inside one. */
static void test_irq_excludes_crit(void)
{
    osal_task_t t;
    struct raiser r = {.irq = 5, .n = 20000};
    struct osal_task_params p = {.name = "raiser", .entry = raiser_task, .arg = &r, .prio = 10};

    atomic_store(&isr_runs, 0);
    atomic_store(&isr_in_crit_overlap, 0);
    TU_CHECK_EQ(osal_posix_irq_attach(5, isr_count, NULL), VNET_OK);
    TU_CHECK_EQ(osal_task_create(&t, &p), VNET_OK);
    for (int i = 0; i < 20000; i++) {
        osal_crit_t c = osal_crit_enter();
        atomic_store(&task_in_crit, true);
        for (volatile int k = 0; k < 20; k++) {
        }
        atomic_store(&task_in_crit, false);
        osal_crit_exit(c);
    }
    TU_CHECK_EQ(osal_task_join(&t), VNET_OK);
    osal_posix_irq_detach(5);
    TU_CHECK_EQ(atomic_load(&isr_in_crit_overlap), 0);
    TU_CHECK(atomic_load(&isr_runs) > 0);
}

static osal_sem_t sem;
static void poster_task(void *arg)
{
    (void)arg;
    osal_sleep_ms(20);
    osal_sem_post(&sem);
}

static void isr_wait(void *arg)
{
    (void)arg;
    TU_CHECK_EQ(osal_sem_wait(&sem, 1), VNET_E_ISR);
    TU_CHECK_EQ(osal_sem_post(&sem), VNET_OK); /* posting from an ISR is allowed */
}

static void test_sem(void)
{
    osal_task_t t;
    struct osal_task_params p = {.name = "poster", .entry = poster_task, .prio = 11};

    TU_CHECK_EQ(osal_sem_init(&sem, 0), VNET_OK);
    TU_CHECK_EQ(osal_sem_wait(&sem, 10), VNET_E_TIMEOUT);
    TU_CHECK_EQ(osal_task_create(&t, &p), VNET_OK);
    TU_CHECK_EQ(osal_sem_wait(&sem, 5000), VNET_OK);
    TU_CHECK_EQ(osal_task_join(&t), VNET_OK);
    TU_CHECK_EQ(osal_posix_irq_attach(7, isr_wait, NULL), VNET_OK);
    osal_posix_irq_raise(7);
    osal_posix_irq_detach(7);
    TU_CHECK_EQ(osal_sem_wait(&sem, 0), VNET_OK);
    osal_sem_destroy(&sem);

    TU_CHECK_EQ(osal_sem_init(&sem, 65534), VNET_OK);
    TU_CHECK_EQ(osal_sem_post(&sem), VNET_OK);
    TU_CHECK_EQ(osal_sem_post(&sem), VNET_E_OS); /* overflow refused, as uC/OS-II */
    osal_sem_destroy(&sem);
    TU_CHECK_EQ(osal_sem_init(&sem, 70000), VNET_E_INVAL);
}

static void nop_task(void *arg)
{
    (void)arg;
}

static void test_tasks(void)
{
    osal_task_t a, b;
    struct osal_task_params p = {.name = "a", .entry = nop_task, .prio = 20};

    TU_CHECK_EQ(osal_task_create(&a, &p), VNET_OK);
    TU_CHECK_EQ(osal_task_create(&b, &p), VNET_E_OS); /* priority taken */
    TU_CHECK_EQ(osal_task_join(&a), VNET_OK);
    TU_CHECK_EQ(osal_task_create(&b, &p), VNET_OK); /* free again */
    TU_CHECK_EQ(osal_task_join(&b), VNET_OK);
    TU_CHECK_EQ(osal_task_join(&b), VNET_E_INVAL);
    p.entry = NULL;
    TU_CHECK_EQ(osal_task_create(&a, &p), VNET_E_INVAL);
    osal_posix_fail_alloc_after(1);
    p.entry = nop_task;
    TU_CHECK_EQ(osal_task_create(&a, &p), VNET_E_NOMEM);
    TU_CHECK(osal_posix_fail_alloc_fired());
}

static void test_dma(void)
{
    uint64_t d1, d2;
    uint8_t *p1 = osal_dma_alloc(100, 16, &d1);
    uint8_t *p2 = osal_dma_alloc(5000, 4096, &d2);

    TU_REQUIRE(p1 != NULL && p2 != NULL);
    TU_CHECK(d1 != (uint64_t)(uintptr_t)p1);
    TU_CHECK(d2 != (uint64_t)(uintptr_t)p2);
    TU_CHECK_EQ(d1 % 16, 0);
    TU_CHECK_EQ(d2 % 4096, 0);
    TU_CHECK_EQ((uintptr_t)p2 % 4096, 0);
    TU_CHECK_EQ(p1[0] | p1[99] | p2[4999], 0); /* zeroed */
    TU_CHECK(osal_posix_dma_ptr(d1, 100) == p1);
    TU_CHECK(osal_posix_dma_ptr(d1 + 99, 1) == p1 + 99);
    TU_CHECK(osal_posix_dma_ptr(d1 + 99, 2) == NULL); /* crosses the end */
    TU_CHECK(osal_posix_dma_ptr(d1 + 100, 0) == NULL);
    TU_CHECK(osal_posix_dma_ptr(d1 - 1, 1) == NULL);
    TU_CHECK(osal_posix_dma_ptr(d2 + 4096, 904) == p2 + 4096);
    TU_CHECK(osal_posix_dma_ptr((uint64_t)(uintptr_t)p1, 1) == NULL); /* a CPU pointer */
    TU_CHECK_EQ(osal_posix_dma_outstanding(), 2);
    TU_CHECK_EQ(osal_posix_dma_outstanding_bytes(), 5100);
    osal_dma_free(p1, 100);
    TU_CHECK(osal_posix_dma_ptr(d1, 1) == NULL); /* freed: never valid again */
    osal_dma_free(p2, 5000);
    TU_CHECK(osal_dma_alloc(10, 3, &d1) == NULL);    /* alignment not a power of two */
    TU_CHECK(osal_dma_alloc(10, 8192, &d1) == NULL); /* above the contract's 4096 */

    osal_posix_fail_alloc_after(2);
    void *m = osal_mem_alloc(8);
    TU_CHECK(m != NULL);
    TU_CHECK(!osal_posix_fail_alloc_fired());
    TU_CHECK(osal_dma_alloc(8, 8, &d1) == NULL);
    TU_CHECK(osal_posix_fail_alloc_fired());
    TU_CHECK_EQ(osal_posix_mem_outstanding(), 1);
    TU_CHECK_EQ(osal_posix_mem_outstanding_bytes(), 8);
    osal_mem_free(m);
    p1 = osal_dma_alloc(8, 8, &d1); /* one-shot: works again */
    TU_CHECK(p1 != NULL);
    osal_dma_free(p1, 8);
}

static void test_misc(void)
{
    uint64_t c0 = osal_cycles();
    osal_delay_us(100);
    TU_CHECK(osal_cycles() > c0);
    osal_posix_seed_random(42);
    uint32_t a = osal_random32();
    osal_posix_seed_random(42);
    TU_CHECK_EQ(osal_random32(), a);
    TU_CHECK(osal_random32() != a);
    uint64_t n = osal_posix_log_count();
    osal_log("test message");
    TU_CHECK_EQ(osal_posix_log_count(), n + 1);
    osal_lock_t l;
    TU_CHECK_EQ(osal_lock_init(&l), VNET_OK);
    osal_lock_acquire(&l);
    osal_lock_release(&l);
    osal_lock_destroy(&l);
}

int main(void)
{
    osal_posix_log_quiet(true);
    TU_RUN(test_irq_basic);
    TU_RUN(test_irq_excludes_crit);
    TU_RUN(test_sem);
    TU_RUN(test_tasks);
    TU_RUN(test_dma);
    TU_RUN(test_misc);
    return tu_summary("test_osal_posix");
}
