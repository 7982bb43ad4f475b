/*
 * os_cpu_idle.h - CPU usage for ports whose idle hook halts the CPU (x86_64 `hlt`,
 * aarch64 `wfi`). Included once by such a port's os_cpu_c.c, which defines
 * os_cpu_cycles() (a free-running cycle counter) before including it.
 *
 * uC/OS-II's statistics task derives OSCPUUsage from how often the idle loop went round
 * (OSIdleCtr) against a count calibrated by OSStatInit(). With a halting idle hook one
 * pass lasts until the next interrupt, so the count measures interrupts, not idle time:
 * under load (more interrupts) it rose above the calibration and OSCPUUsage read 0-2 %
 * while the CPU was ~96 % busy. Instead the port times the idle task itself: the switch
 * hook records when the idle task gets and loses the CPU, and the statistics hook (which
 * the statistics task calls right after its own computation) replaces OSCPUUsage with
 * 100 - idle share of the cycles since its previous call. Interrupt handlers that run
 * while the idle task is current count as idle (they are short: acknowledge and signal).
 */
#ifndef OS_CPU_IDLE_H
#define OS_CPU_IDLE_H

static INT64U os_cpu_idle_cycles; /* total cycles the idle task held the CPU */
static INT64U os_cpu_idle_since;  /* when it last got it; 0 while another task runs */
static INT64U os_cpu_stat_total;  /* counter and idle total at the previous statistics call */
static INT64U os_cpu_stat_idle;

/* From OSTaskSwHook: interrupts off, OSTCBCur about to give the CPU to OSTCBHighRdy. */
static void os_cpu_idle_switch(void)
{
    INT64U now = os_cpu_cycles();

    if (os_cpu_idle_since != 0u) {
        os_cpu_idle_cycles += now - os_cpu_idle_since;
        os_cpu_idle_since = 0u;
    }
    if (OSTCBHighRdy != (OS_TCB *)0 && OSTCBHighRdy->OSTCBPrio == OS_TASK_IDLE_PRIO) {
        os_cpu_idle_since = now;
    }
}

/* From OSTaskStatHook (statistics task, interrupts on; idle is not running then). */
static void os_cpu_idle_stat(void)
{
    OS_CPU_SR cpu_sr = 0u;
    INT64U now;
    INT64U idle;
    INT64U dt;
    INT64U di;

    OS_ENTER_CRITICAL();
    now = os_cpu_cycles();
    idle = os_cpu_idle_cycles;
    OS_EXIT_CRITICAL();
    dt = now - os_cpu_stat_total;
    di = idle - os_cpu_stat_idle;
    if (os_cpu_stat_total != 0u && dt != 0u) {
        di = (di > dt) ? dt : di;
        OSCPUUsage = (INT8U)(100u - (INT8U)((di * 100u) / dt));
    }
    os_cpu_stat_total = now;
    os_cpu_stat_idle = idle;
}

/*
 * Port extension, not uC/OS-II API (OS_CPU_HAS_IDLE_CYCLES in os_cpu.h): cycles the idle
 * task has held the CPU since boot, the stretch in progress included. Two reads give the
 * busy share of any interval, e.g. of one benchmark run, where OSCPUUsage covers only the
 * last 1/10 s. Any task, interrupts on; takes a short critical section.
 */
INT64U OS_CPU_IdleCycles(void)
{
    OS_CPU_SR cpu_sr = 0u;
    INT64U v;

    OS_ENTER_CRITICAL();
    v = os_cpu_idle_cycles;
    if (os_cpu_idle_since != 0u) {
        v += os_cpu_cycles() - os_cpu_idle_since;
    }
    OS_EXIT_CRITICAL();
    return v;
}

#endif
