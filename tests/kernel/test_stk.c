/*
 * test_stk.c - OSTaskStkChk(): the high-water scan, option and argument errors, stack
 * clearing at creation, and the statistics task refreshing OSTCBStkUsed.
 */
#include "kt.h"

static volatile int g_stop;

static void task_idle_loop(void *p_arg)
{
    (void)p_arg;
    while (!g_stop) {
        OSTimeDly(1u);
    }
}

static void case_scan(void)
{
    OS_STK_DATA sd;
    OS_STK *stk = kt_stack(20);
    INT32U frame;

    kt_case("high-water scan");
    /* Dirty the stack first: creation with STK_CLR must clear it. */
    for (INT32U i = 0u; i < KT_STK_SIZE; i++) {
        stk[i] = 0xA5A5A5A5u;
    }
    KT_EQ(kt_spawn(task_idle_loop, NULL, 20), OS_ERR_NONE);
    KT_EQ(OSTaskStkChk(20u, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSFree + sd.OSUsed, KT_STK_SIZE * sizeof(OS_STK));
    /* Only the port's initial frame at the top is in use. */
    frame = sd.OSUsed;
    KT_CHECK(frame > 0u && frame < 32u * sizeof(OS_STK));
    KT_EQ(stk[0], 0);
    /* Simulate the task having reached 100 entries below the top. */
    stk[KT_STK_SIZE - 100u] = 1u;
    KT_EQ(OSTaskStkChk(20u, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSUsed, 100u * sizeof(OS_STK));
    KT_EQ(sd.OSFree, (KT_STK_SIZE - 100u) * sizeof(OS_STK));
    /* And the very bottom: nothing free. */
    stk[0] = 1u;
    KT_EQ(OSTaskStkChk(20u, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSFree, 0);
    KT_EQ(sd.OSUsed, KT_STK_SIZE * sizeof(OS_STK));

    /* The calling task through OS_PRIO_SELF. */
    KT_EQ(OSTaskStkChk(OS_PRIO_SELF, &sd), OS_ERR_NONE);
    KT_EQ(sd.OSFree + sd.OSUsed, KT_STK_SIZE * sizeof(OS_STK));

    /* The statistics task refreshes OSTCBStkUsed every 1/10 s once OSStatInit() ran. */
    OSTimeDly(OS_TICKS_PER_SEC / 5u);
    KT_EQ(OSTCBPrioTbl[20]->OSTCBStkUsed, KT_STK_SIZE * sizeof(OS_STK));
    KT_EQ(OSTCBPrioTbl[OS_TASK_IDLE_PRIO]->OSTCBStkUsed, frame);
}

static void case_errors(void)
{
    static OS_STK stk[KT_STK_SIZE];
    OS_STK_DATA sd;

    kt_case("errors");
    KT_EQ(OSTaskStkChk(33u, &sd), OS_ERR_TASK_NOT_EXIST);
    KT_EQ(OSTaskStkChk(OS_LOWEST_PRIO + 1u, &sd), OS_ERR_PRIO_INVALID);
    KT_EQ(OSTaskStkChk(20u, NULL), OS_ERR_PDATA_NULL);
    /* Created without OS_TASK_OPT_STK_CHK: not checkable. */
    KT_EQ(OSTaskCreate(task_idle_loop, NULL, &stk[KT_STK_SIZE - 1u], 21u), OS_ERR_NONE);
    KT_EQ(OSTaskStkChk(21u, &sd), OS_ERR_TASK_OPT);
    KT_EQ(sd.OSFree, 0);
    KT_EQ(sd.OSUsed, 0);
    KT_EQ(OSTaskCreateExt(task_idle_loop, NULL, kt_stack(22) + KT_STK_SIZE - 1u, 22u, 22u,
                          kt_stack(22), KT_STK_SIZE, NULL, OS_TASK_OPT_NONE),
          OS_ERR_NONE);
    KT_EQ(OSTaskStkChk(22u, &sd), OS_ERR_TASK_OPT);
}

static void main_task(void *p_arg)
{
    (void)p_arg;
    OSStatInit();
    case_scan();
    case_errors();
    g_stop = 1;
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
