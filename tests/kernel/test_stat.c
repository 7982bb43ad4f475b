/*
 * test_stat.c - OSStatInit() calibration and OSCPUUsage: with the hosted port's virtual clock,
 * a task that keeps the CPU busy for a known share of each tick must show up as that share.
 */
#include <stdio.h>

#include "kt.h"

static volatile INT32U g_busy_units; /* per tick, out of OSHostTickUnits */
static volatile int g_stop;

/* Each tick: burn g_busy_units of virtual time, then sleep until the next tick. */
static void task_burner(void *p_arg)
{
    (void)p_arg;
    while (!g_stop) {
        OSHostAdvance(g_busy_units);
        OSTimeDly(1u);
    }
}

static INT8U usage_after(INT32U busy)
{
    g_busy_units = busy;
    OSTimeDly(OS_TICKS_PER_SEC / 2u); /* several statistics periods at this load */
    return OSCPUUsage;
}

static void main_task(void *p_arg)
{
    INT8U usage;

    (void)p_arg;
    kt_case("calibration");
    KT_EQ(OSStatRdy, OS_FALSE);
    OSStatInit();
    KT_EQ(OSStatRdy, OS_TRUE);
    /* 1/10 s of an idle CPU: every tick period is idle loop passes. */
    printf("OSIdleCtrMax = %u (expected about %u)\n", (unsigned)OSIdleCtrMax,
           (unsigned)(OS_TICKS_PER_SEC / 10u * OSHostTickUnits));
    KT_CHECK(OSIdleCtrMax >= OS_TICKS_PER_SEC / 10u * OSHostTickUnits * 9u / 10u);
    KT_CHECK(OSIdleCtrMax <= OS_TICKS_PER_SEC / 10u * OSHostTickUnits * 11u / 10u);

    kt_case("usage tracks load");
    KT_EQ(kt_spawn(task_burner, NULL, 20), OS_ERR_NONE);
    usage = usage_after(0u);
    printf("load 0%%: OSCPUUsage = %u\n", usage);
    KT_CHECK(usage <= 3u);
    usage = usage_after(OSHostTickUnits / 2u);
    printf("load 50%%: OSCPUUsage = %u\n", usage);
    KT_CHECK(usage >= 45u && usage <= 55u);
    usage = usage_after(OSHostTickUnits * 9u / 10u);
    printf("load 90%%: OSCPUUsage = %u\n", usage);
    KT_CHECK(usage >= 85u && usage <= 95u);
    usage = usage_after(OSHostTickUnits / 4u);
    printf("load 25%%: OSCPUUsage = %u\n", usage);
    KT_CHECK(usage >= 20u && usage <= 30u);
    g_stop = 1;
    kt_finish();
}

int main(void)
{
    kt_run(main_task);
    return 1;
}
