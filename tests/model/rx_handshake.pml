/*
 * Spin model of the RX interrupt handshake and queue ownership (docs/rx-handshake.md,
 * section "Model"). Processes: the device, the ISR, the RX task, and the task CPU's store
 * buffer (x86-TSO: a store may become visible to the device after a later load).
 * Compile with -DBARRIER for the code as written (vnet_mb() in virtq_enable_cb drains the
 * store buffer before the re-check load); without it the checker must find the lost
 * wakeup (tests/model/run.sh checks both).
 *
 * Properties: the semaphore never holds more than one token; the ISR never services the
 * ring while the task owns it; in every final state (nothing can move any more: the
 * device is done, the task parked) every completion was delivered.
 */
#define N 3 /* completions the device makes */

byte used;        /* used->idx: completions written by the device */
byte taken;       /* driver's last_used */
byte sw;          /* frames staged in the software ring, not yet delivered */
byte delivered;
bool cb_on = true; /* RX callbacks as the device sees them (on after initialize) */
bool sb;          /* the task CPU's store buffer holds "callbacks on", not yet visible */
bool irq;         /* interrupt latched at the CPU */
bool in_crit;     /* the task is inside osal_crit (interrupts masked) */
bool task_scheduled;
byte sem;         /* semaphore tokens */
bool owner_task;  /* the task is between its wake-up and parking (touches the ring) */

active proctype device()
{
    do
    :: used < N ->
        atomic {
            used++;
            /* Interrupt only if it sees callbacks on (flag or used_event), spec 2.7.7. */
            if
            :: cb_on -> irq = true
            :: else -> skip
            fi
        }
    :: used == N -> break
    od
}

/* The store buffer drains on its own, at any time. */
active proctype store_buffer()
{
end_sb:
    do
    :: atomic { sb -> cb_on = true; sb = false }
    od
}

inline schedule()
{
    if
    :: !task_scheduled ->
        cb_on = false; /* ownership moves: callbacks off */
        task_scheduled = true;
        sem++;
        assert(sem <= 1)
    :: else -> skip
    fi
}

/* virtio_net_rx_isr / vnet_rx_irq_locked. Entry is serialising for this model: the
 * CPU's own buffered store is committed first (same CPU, FIFO). */
active proctype isr()
{
end_isr:
    do
    :: atomic {
        irq && !in_crit ->
        irq = false;
        if
        :: sb -> cb_on = true; sb = false
        :: else -> skip
        fi;
        if
        :: task_scheduled ->
            skip /* owned by the task: acknowledge and count only (rx_irq_owned) */
        :: else ->
            assert(!owner_task || !task_scheduled);
            cb_on = false;
            sw = sw + (used - taken);
            taken = used;
            if
            :: sw > 0 -> schedule()
            :: else ->
                /* ISR re-arm: enable_cb (its own vnet_mb), re-check */
                cb_on = true;
                if
                :: taken != used -> schedule()
                :: else -> skip
                fi
            fi
        fi
    }
    od
}

active proctype task()
{
    bool recheck;
end_wait:
    do
    :: atomic { sem > 0 -> sem--; owner_task = true }
pass:
        /* vnet_rx_owner_pass: service with interrupts on (the ISR leaves the ring alone
         * while task_scheduled), then deliver. */
        atomic { assert(task_scheduled); sw = sw + (used - taken); taken = used };
        atomic { delivered = delivered + sw; sw = 0 };
        /* H1 (crit): software ring empty -> task_scheduled = false */
        atomic {
            if
            :: sw > 0 -> goto pass
            :: else -> task_scheduled = false
            fi
        };
        /* H2 (crit): re-arm store, vnet_mb(), re-check load. */
        atomic {
            in_crit = true;
            sb = true;
#ifdef BARRIER
            cb_on = true; sb = false;
#endif
            recheck = (taken != used);
            /* H3 */
            if
            :: recheck && !task_scheduled ->
                task_scheduled = true;
                sb = false; cb_on = false;
                in_crit = false;
                goto pass
            :: else ->
                if
                :: task_scheduled -> sb = false; cb_on = false
                :: else -> skip
                fi
            fi;
            owner_task = false;
            in_crit = false
        }
    od
}

/* Final states: nothing else can move. Every completion must have been delivered. */
active proctype monitor()
{
    atomic { timeout -> assert(used == N && delivered == N && sem == 0) }
}
