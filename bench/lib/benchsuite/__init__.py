"""vnet-rtos benchmark suite: contenders, workloads, counters and the report.

The suite drives every VM contender through the shared harness
(scripts/lib/vnet_harness) so that all of them run in the one QEMU configuration
and topology; this package adds only what the harness has no business knowing:
the no-VM veth ceiling, offered-rate sweeps, counter deltas and the report.
"""
