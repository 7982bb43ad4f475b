/*
 * Host test of the uC/OS-II OS port on a hosted uC/OS-II (this project's kernel or an
 * external one, see VNET_UCOS2_DIR) and a hosted CPU port. Besides the standard uC/OS-II API
 * it needs only hosted_shim.h (a simulated interrupt and a clock). Every check can fail; the
 * program exits 1 on any failure or if nothing was checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "osal.h"
#include "hosted_shim.h"

static int checks, failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(c)) {                                                                                \
            failures++;                                                                            \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                                    \
        }                                                                                          \
    } while (0)

/* Board hooks (osal_ucos2_board.h): the hosted port's clock, plus a counter so reads
 * differ; the device barrier is selected (CMakeLists.txt) and counts its calls. */
static uint64_t fake_cycles;
static unsigned device_mb_calls;
void osal_board_device_mb(void)
{
    device_mb_calls++;
}

uint64_t osal_board_cycles(void)
{
    return hosted_shim_clock() * 1000u + ++fake_cycles;
}
uint64_t osal_board_cycles_per_us(void)
{
    return 1;
}

/* DMA hooks: an offset DMA window (the device sees RAM TEST_DMA_OFF above the CPU), and
 * sync hooks that record their last call, to check the port forwards to them. */
#define TEST_DMA_OFF 0x100000000ull
static const void *sync_dev_p, *sync_cpu_p;
static size_t sync_dev_len, sync_cpu_len;
uint64_t osal_board_dma_addr(const void *cpu)
{
    return (uint64_t)(uintptr_t)cpu + TEST_DMA_OFF;
}
void osal_board_dma_sync_for_device(const void *cpu, size_t len)
{
    sync_dev_p = cpu;
    sync_dev_len = len;
}
void osal_board_dma_sync_for_cpu(const void *cpu, size_t len)
{
    sync_cpu_p = cpu;
    sync_cpu_len = len;
}

static int log_lines;
static void count_log(const char *msg)
{
    (void)msg;
    log_lines++;
}

static _Alignas(4096) uint8_t heap[256 * 1024];
static OS_STK main_stk[1024];

static osal_sem_t sem;
static volatile int woke;
static volatile int waiter_saw_isr;
static volatile int isr_saw_isr;

static void waiter(void *arg)
{
    (void)arg;
    vnet_err_t e = osal_sem_wait(&sem, 0);
    waiter_saw_isr = osal_in_isr();
    woke = (e == VNET_OK) ? 1 : -1;
}

static void isr_post(void *arg)
{
    isr_saw_isr = osal_in_isr();
    (void)osal_sem_post(arg);
}

static volatile vnet_err_t isr_wait_result;
static void isr_wait(void *arg)
{
    isr_wait_result = osal_sem_wait(arg, 0);
}

static void test_heap(void)
{
    struct osal_ucos2_heap_stats s0, s;
    osal_ucos2_heap_get_stats(&s0);
    CHECK(s0.free_blocks == 1 && s0.used_blocks == 0);
    CHECK(s0.free_bytes == s0.total && s0.total > 200 * 1024);

    void *a = osal_mem_alloc(100);
    void *b = osal_mem_alloc(200);
    void *c = osal_mem_alloc(300);
    CHECK(a && b && c);
    CHECK(((uintptr_t)a & 15u) == 0 && ((uintptr_t)b & 15u) == 0);
    CHECK((uint8_t *)b >= (uint8_t *)a + 100 && (uint8_t *)c >= (uint8_t *)b + 200);
    memset(a, 0xa5, 100);
    memset(b, 0x5a, 200);
    memset(c, 0x33, 300);
    osal_mem_free(b);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.free_blocks == 2 && s.used_blocks == 2);
    /* First fit: a block that fits the hole reuses it. */
    void *b2 = osal_mem_alloc(150);
    CHECK(b2 == b);
    osal_mem_free(b2);
    /* Freeing a then c coalesces everything back into one block. */
    osal_mem_free(a);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.free_blocks == 2); /* [a+b] and the tail after c */
    osal_mem_free(c);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.free_blocks == 1 && s.free_bytes == s0.total && s.used_blocks == 0);

    /* DMA: aligned, zeroed, at the board's bus address. */
    void *small = osal_mem_alloc(24); /* misalign the next candidate */
    uint64_t dma = 0;
    uint8_t *d = osal_dma_alloc(5000, 4096, &dma);
    CHECK(d != NULL && ((uintptr_t)d & 4095u) == 0);
    CHECK(dma == (uint64_t)(uintptr_t)d + TEST_DMA_OFF); /* the board's translation */
    int zero = 1;
    for (int i = 0; d && i < 5000; i++)
        zero &= d[i] == 0;
    CHECK(zero);
    uint8_t *d2 = osal_dma_alloc(64, 64, &dma);
    CHECK(d2 != NULL && ((uintptr_t)d2 & 63u) == 0);
    uint64_t bdma = 0;
    uint8_t *bb = osal_dma_buf_alloc(1536, 64, &bdma);
    CHECK(bb != NULL && ((uintptr_t)bb & 63u) == 0);
    CHECK(bdma == (uint64_t)(uintptr_t)bb + TEST_DMA_OFF);
    osal_dma_sync_for_device(bb + 64, 100);
    CHECK(sync_dev_p == bb + 64 && sync_dev_len == 100);
    osal_dma_sync_for_cpu(bb + 128, 60);
    CHECK(sync_cpu_p == bb + 128 && sync_cpu_len == 60);
    osal_dma_buf_free(bb, 1536);
    osal_dma_free(d, 5000);
    osal_dma_free(d2, 64);
    osal_mem_free(small);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.free_blocks == 1 && s.free_bytes == s0.total);

    /* Exhaustion, then everything still coalesces. */
    void *ptrs[64];
    int n = 0;
    while (n < 64 && (ptrs[n] = osal_mem_alloc(8192)) != NULL)
        n++;
    CHECK(n > 20 && n < 64);
    CHECK(osal_mem_alloc(300 * 1024) == NULL);
    for (int i = 0; i < n; i += 2)
        osal_mem_free(ptrs[i]);
    for (int i = 1; i < n; i += 2)
        osal_mem_free(ptrs[i]);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.free_blocks == 1 && s.free_bytes == s0.total);

    /* Double free and wild pointers are refused and logged, heap unchanged. */
    void *x = osal_mem_alloc(64);
    osal_mem_free(x);
    int before = log_lines;
    osal_mem_free(x);
    osal_mem_free(&s);
    CHECK(log_lines == before + 2);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.free_blocks == 1 && s.free_bytes == s0.total);
}

static void test_sem_isr_task(void)
{
    CHECK(osal_sem_init(&sem, 0) == VNET_OK);
    osal_task_t t;
    struct osal_task_params p = {.name = "waiter", .entry = waiter, .prio = 5};
    woke = 0;
    CHECK(osal_task_create(&t, &p) == VNET_OK);
    /* The waiter is more urgent: it ran and now blocks on the semaphore. */
    CHECK(woke == 0);
    CHECK(!osal_in_isr());
    hosted_shim_isr(isr_post, &sem);
    /* Posted from the ISR: the woken task ran at interrupt exit, before we resumed. */
    CHECK(isr_saw_isr == 1);
    CHECK(woke == 1 && waiter_saw_isr == 0);
    CHECK(osal_task_join(&t) == VNET_OK);
    OS_TCB tcb;
    CHECK(OSTaskQuery(5, &tcb) != OS_ERR_NONE);

    /* Same priority twice is refused by the kernel. */
    osal_task_t t1, t2;
    p.entry = waiter;
    woke = 0;
    CHECK(osal_task_create(&t1, &p) == VNET_OK);
    CHECK(osal_task_create(&t2, &p) == VNET_E_OS);
    CHECK(osal_sem_post(&sem) == VNET_OK);
    CHECK(woke == 1);
    CHECK(osal_task_join(&t1) == VNET_OK);

    /* Waiting from an ISR is refused; a timed wait times out on virtual time. */
    hosted_shim_isr(isr_wait, &sem);
    CHECK(isr_wait_result == VNET_E_ISR);
    INT32U t0 = OSTimeGet();
    CHECK(osal_sem_wait(&sem, 50) == VNET_E_TIMEOUT);
    CHECK(OSTimeGet() - t0 >= 50u * OS_TICKS_PER_SEC / 1000u);
    osal_sem_destroy(&sem);
}

static osal_sem_t lock_sem;
static volatile int lock_ran;
static void lock_waiter(void *arg)
{
    (void)arg;
    if (osal_sem_wait(&lock_sem, 0) == VNET_OK)
        lock_ran = 1;
}

static void test_lock_and_sleep(void)
{
    osal_lock_t lk;
    osal_task_t t;
    CHECK(osal_sem_init(&lock_sem, 0) == VNET_OK);
    CHECK(osal_lock_init(&lk) == VNET_OK);
    struct osal_task_params p = {.name = "lockw", .entry = lock_waiter, .prio = 6};
    CHECK(osal_task_create(&t, &p) == VNET_OK);
    lock_ran = 0;
    osal_lock_acquire(&lk);
    CHECK(OSLockNesting == 1);
    (void)osal_sem_post(&lock_sem);
    /* More urgent task readied, but the lock keeps it off the CPU. */
    CHECK(lock_ran == 0);
    osal_lock_release(&lk);
    CHECK(lock_ran == 1);
    CHECK(OSLockNesting == 0);
    CHECK(osal_task_join(&t) == VNET_OK);
    osal_lock_destroy(&lk);
    osal_sem_destroy(&lock_sem);

    INT32U t0 = OSTimeGet();
    osal_sleep_ms(100);
    CHECK(OSTimeGet() - t0 >= 100u * OS_TICKS_PER_SEC / 1000u);

    uint64_t c0 = osal_cycles();
    osal_delay_us(10);
    CHECK(osal_cycles() - c0 >= 10);

    uint32_t r1 = osal_random32(), r2 = osal_random32();
    CHECK(r1 != r2);

    /* This build selects the board's device barrier: osal_device_mb() is the hook. */
    unsigned mb0 = device_mb_calls;
    osal_device_mb();
    CHECK(device_mb_calls == mb0 + 1);
}

static void test_stack_from_heap(void)
{
    struct osal_ucos2_heap_stats s0, s;
    osal_ucos2_heap_get_stats(&s0);
    CHECK(osal_sem_init(&sem, 0) == VNET_OK);
    osal_task_t t;
    struct osal_task_params p = {.entry = waiter, .prio = 7, .stack_bytes = 16384};
    woke = 0;
    CHECK(osal_task_create(&t, &p) == VNET_OK);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.used_blocks == s0.used_blocks + 1); /* the stack */
    (void)osal_sem_post(&sem);
    CHECK(woke == 1);
    CHECK(osal_task_join(&t) == VNET_OK);
    osal_ucos2_heap_get_stats(&s);
    CHECK(s.used_blocks == s0.used_blocks && s.free_bytes == s0.free_bytes);
    osal_sem_destroy(&sem);
    /* Bad parameters. */
    p.entry = NULL;
    CHECK(osal_task_create(&t, &p) == VNET_E_INVAL);
}

static void idle_entry(void *arg)
{
    (void)arg;
}

/* 0..OSAL_UCOS2_PRIO_MAX are the caller's; the kernel's own tasks' priorities are refused by
 * the port itself (bad argument), not passed on to fail in the kernel. */
static void test_prio_range(void)
{
    osal_task_t t;
    struct osal_task_params p = {.name = "prio", .entry = idle_entry};
    CHECK(OSAL_UCOS2_PRIO_MAX == OS_LOWEST_PRIO - OS_N_SYS_TASKS);
    p.prio = OS_LOWEST_PRIO; /* idle task */
    CHECK(osal_task_create(&t, &p) == VNET_E_INVAL);
    p.prio = OSAL_UCOS2_PRIO_MAX + 1u; /* statistics task (or idle without it) */
    CHECK(osal_task_create(&t, &p) == VNET_E_INVAL);
    p.prio = OS_PRIO_SELF;
    CHECK(osal_task_create(&t, &p) == VNET_E_INVAL);
    p.prio = OSAL_UCOS2_PRIO_MAX; /* the least urgent one allowed: created, runs, joins */
    CHECK(osal_task_create(&t, &p) == VNET_OK);
    CHECK(osal_task_join(&t) == VNET_OK);
}

/*
 * A caller-provided stack, heap-allocated to its exact size so that the sanitizer catches a
 * stack clear or scan running off either end. The kernel must see both ends the right way
 * round for this build's OS_STK_GROWTH (the port test also runs with stacks growing up).
 * The task outranks main_task (8): it runs at once and parks on a semaphore.
 */
static volatile int stk_parked;
static osal_sem_t stk_sem;
static void stk_entry(void *arg)
{
    (void)arg;
    stk_parked = 1;
    (void)osal_sem_wait(&stk_sem, 0);
}

/* OSTaskStkChk() counts bytes up to V2.92 (and in this project's kernel), entries from V2.93. */
#if OS_VERSION >= 29300u
#define STK_CHK_UNIT 1u
#else
#define STK_CHK_UNIT sizeof(OS_STK)
#endif

static void test_stack_ends(void)
{
    enum { N = 512 };
    OS_STK *stk = malloc(N * sizeof(OS_STK));
    CHECK(stk != NULL);
    if (stk == NULL)
        return;
    memset(stk, 0xee, N * sizeof(OS_STK)); /* OS_TASK_OPT_STK_CLR must clear all of it */
    CHECK(osal_sem_init(&stk_sem, 0) == VNET_OK);
    osal_task_t t;
    struct osal_task_params p = {.name = "stk",
                                 .entry = stk_entry,
                                 .prio = 3,
                                 .stack = stk,
                                 .stack_bytes = sizeof(OS_STK) * N};
    stk_parked = 0;
    CHECK(osal_task_create(&t, &p) == VNET_OK);
    CHECK(stk_parked == 1);
    OS_TCB tcb;
    CHECK(OSTaskQuery(3, &tcb) == OS_ERR_NONE);
    CHECK(tcb.OSTCBStkSize == N);
#if OS_STK_GROWTH == 1
    CHECK(tcb.OSTCBStkBottom == &stk[0]);
    CHECK(stk[0] == 0); /* the far end was cleared */
#else
    CHECK(tcb.OSTCBStkBottom == &stk[N - 1]);
    CHECK(stk[N - 1] == 0);
#endif
    OS_STK_DATA sd;
    CHECK(OSTaskStkChk(3, &sd) == OS_ERR_NONE);
    CHECK(sd.OSFree + sd.OSUsed == N * STK_CHK_UNIT);
    CHECK(sd.OSUsed > 0 && sd.OSFree > N * STK_CHK_UNIT / 2);
    (void)osal_sem_post(&stk_sem);
    CHECK(osal_task_join(&t) == VNET_OK);
    osal_sem_destroy(&stk_sem);
    free(stk);
}

/* OSTaskNameSet() keeps the pointer: the port must hand it a copy that lives with the task. */
static void test_name_copied(void)
{
    char name[32];
    strcpy(name, "rx-nic0-with-a-long-name");
    CHECK(osal_sem_init(&stk_sem, 0) == VNET_OK);
    osal_task_t t;
    struct osal_task_params p = {.name = name, .entry = stk_entry, .prio = 3};
    CHECK(osal_task_create(&t, &p) == VNET_OK);
    memset(name, 'x', sizeof(name) - 1u);
    INT8U *got = NULL;
    INT8U err = 0xff;
    (void)OSTaskNameGet(3, &got, &err);
    CHECK(err == OS_ERR_NONE && got != NULL);
    CHECK(got != NULL && strcmp((const char *)got, "rx-nic0-with-a-") == 0);
    (void)osal_sem_post(&stk_sem);
    CHECK(osal_task_join(&t) == VNET_OK);
    osal_sem_destroy(&stk_sem);
}

/* A coherent region for the rings (a non-coherent board's uncached one): osal_dma_alloc
 * serves from it once given, buffers and driver memory stay on the main heap; a ring
 * block from before goes back to the main heap. */
static _Alignas(4096) uint8_t coh_region[64 * 1024];
static void test_dma_regions(void)
{
    struct osal_ucos2_heap_stats m0, c, m;
    uint64_t dma = 0;
    osal_ucos2_heap_get_stats(&m0);
    osal_ucos2_dma_heap_get_stats(&c);
    CHECK(c.total == 0); /* none given yet */
    uint8_t *early = osal_dma_alloc(256, 64, &dma);
    CHECK(early >= heap && early < heap + sizeof(heap));
    CHECK(osal_ucos2_dma_heap_init(coh_region, sizeof(coh_region)) == VNET_OK);
    uint8_t *ring = osal_dma_alloc(5000, 4096, &dma);
    CHECK(ring >= coh_region && ring + 5000 <= coh_region + sizeof(coh_region));
    CHECK(dma == (uint64_t)(uintptr_t)ring + TEST_DMA_OFF);
    uint8_t *buf = osal_dma_buf_alloc(2048, 64, &dma);
    CHECK(buf >= heap && buf < heap + sizeof(heap));
    CHECK(dma == (uint64_t)(uintptr_t)buf + TEST_DMA_OFF);
    osal_ucos2_dma_heap_get_stats(&c);
    CHECK(c.used_blocks == 1);
    osal_dma_free(ring, 5000);
    osal_dma_free(early, 256);
    osal_dma_buf_free(buf, 2048);
    osal_ucos2_dma_heap_get_stats(&c);
    osal_ucos2_heap_get_stats(&m);
    CHECK(c.used_blocks == 0 && c.free_blocks == 1 && c.free_bytes == c.total);
    CHECK(m.used_blocks == m0.used_blocks && m.free_bytes == m0.free_bytes);
}

static void main_task(void *arg)
{
    (void)arg;
    test_heap();
    test_dma_regions();
    test_sem_isr_task();
    test_lock_and_sleep();
    test_stack_from_heap();
    test_prio_range();
    test_stack_ends();
    test_name_copied();
    printf("%d checks, %d failed\n", checks, failures);
    fflush(stdout);
    exit(failures == 0 && checks > 0 ? 0 : 1);
}

int main(void)
{
    osal_ucos2_log = count_log;
    OSInit();
    if (osal_ucos2_heap_init(heap, sizeof(heap)) != VNET_OK) {
        printf("FAIL heap init\n");
        return 1;
    }
#if OS_STK_GROWTH == 1
    OS_STK *ptos = &main_stk[1023], *pbos = &main_stk[0];
#else
    OS_STK *ptos = &main_stk[0], *pbos = &main_stk[1023];
#endif
    if (OSTaskCreateExt(main_task, NULL, ptos, 8, 8, pbos, 1024, NULL,
                        OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR) != OS_ERR_NONE) {
        printf("FAIL create main task\n");
        return 1;
    }
    OSStart();
    return 1;
}
