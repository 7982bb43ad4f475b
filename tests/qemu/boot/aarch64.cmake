# QEMU boot tests of the kernel-test image on the aarch64 virt board (included by
# CMakeLists.txt when VNET_BOARD is qemu-aarch64-virt). Default machine: virt with GICv3,
# Cortex-A53, entered at EL1 (run_boot_test.sh --board); some runs pick GICv2 or EL2 entry.
# Exit statuses as on x86_64 (semihosting SYS_EXIT: 1 pass, 3 fail, 5 fault report).

vnet_boot_test(a64_banner TIMEOUT 20 STATUS 1 APPEND "test=none"
  EXPECT "^bsp: qemu-aarch64-virt entered at EL1, midr=0x[0-9a-f]+ ram=0x40000000\\+128 MiB .* dtb=ok"
         "^bsp: gicv3 cntfrq=[0-9]+ Hz mmu=on caches=on"
         "vnet-rtos kernel-test: uC/OS-II API v[0-9]+ on qemu-aarch64-virt"
         "cmdline \"test=none\""
         "KTEST done failures=0")

# EL2 entry (virtualization=on) dropped to EL1, and the GICv2 path.
vnet_boot_test(a64_el2_gicv2 TIMEOUT 30 STATUS 1 APPEND "test=preempt"
  MACHINE virt,gic-version=2,virtualization=on
  EXPECT "^bsp: qemu-aarch64-virt entered at EL2"
         "^bsp: gicv2 cntfrq=[0-9]+ Hz mmu=on"
         "KTEST preempt vector=0x1e samples=200 isr_calls=200"
         "KTEST preempt PASS"
  REJECT "FAIL")

vnet_boot_test(a64_pingpong TIMEOUT 40 STATUS 1 APPEND "test=pingpong"
  EXPECT "KTEST pingpong iterations=20000 pong_count=20000 ctxsw=[0-9]+ cycles_per_roundtrip=[0-9]+"
         "KTEST pingpong PASS"
  REJECT "FAIL")

# An ISR (EL1 physical timer, INTID 30) posts; a high task must preempt a busy low task.
vnet_boot_test(a64_preempt TIMEOUT 40 STATUS 1 APPEND "test=preempt"
  EXPECT "KTEST preempt vector=0x1e samples=200 isr_calls=200 interrupted_busy=[0-9]+ interrupted_high=[0-9]+"
         "KTEST preempt latency_cycles min=[0-9]+ median=[0-9]+ p99=[0-9]+ max=[0-9]+"
         "KTEST preempt PASS"
  REJECT "FAIL")

vnet_boot_test(a64_schedlock TIMEOUT 40 STATUS 1 APPEND "test=schedlock"
  EXPECT "KTEST schedlock rounds=50 held_while_locked=50 ran_at_unlock=50"
         "KTEST schedlock PASS"
  REJECT "FAIL")

vnet_boot_test(a64_tickrate TIMEOUT 40 STATUS 1 APPEND "test=tickrate"
  EXPECT "KTEST tickrate nominal=1000 ticks=[0-9]+ cnt_us=[0-9]+ hz_cnt=[0-9.]+ err_ppm=-?[0-9]+"
         "KTEST tickrate PASS"
  REJECT "FAIL")

vnet_boot_test(a64_stkchk TIMEOUT 30 STATUS 1 APPEND "test=stkchk"
  EXPECT "KTEST stkchk prio=20 err=0 used=[0-9]+ free=[0-9]+ size=16384 ok"
         "KTEST stkchk interrupt_stack used=[1-9][0-9]* size=16384"
         "KTEST stkchk PASS"
  REJECT "FAIL")

# x0..x28 and x30 hold known values while the tick, a 1 kHz physical-timer ISR and
# task-level switches (OSCtxSw) interrupt two tasks for 2 s.
vnet_boot_test(a64_stress TIMEOUT 40 STATUS 1 APPEND "test=stress"
  EXPECT "KTEST stress secs=2 aux_vector=0x1e aux_posts=[0-9]+ high_wakes=[0-9]+"
         "KTEST stress regs-a rounds=[0-9]+ corrupt=0 regs-b rounds=[0-9]+ corrupt=0"
         "KTEST stress PASS"
  REJECT "FAIL")

# Deliberate faults in a task: the report names the exception class, ESR, ELR, FAR and the
# task; the board exits with BSP_EXIT_FAULT (status 5).
vnet_boot_test(a64_fault_pf TIMEOUT 20 STATUS 5 APPEND "fault=pf"
  EXPECT "FAULT sync ec=0x25 \\(data abort\\) esr=0x[0-9a-f]+ elr=0x[0-9a-f]+ far=0x7fffdead0000"
         "FAULT task prio=22 name=fault"
         "FAULT data abort: write, translation fault, level 0"
         "FAULT x0 =[0-9a-f]{16}"
         "FAULT halted")
vnet_boot_test(a64_fault_ud TIMEOUT 20 STATUS 5 APPEND "fault=ud"
  EXPECT "FAULT sync ec=0x0 \\(unknown/undefined instruction\\)"
         "FAULT task prio=22 name=fault" "FAULT halted")
# The FP/SIMD policy: general registers only, FP left trapping.
vnet_boot_test(a64_fault_fp TIMEOUT 20 STATUS 5 APPEND "fault=fp"
  EXPECT "FAULT sync ec=0x7 \\(FP/SIMD access trapped\\)"
         "FAULT task prio=22 name=fault" "FAULT halted")

# virtio-mmio probe against QEMU's real devices, both versions: two NICs (one pinned to slot
# 0, one where QEMU puts it: the top slot), an entropy and a block device that must be left
# alone (status register still 0). No host networking (NICs without a netdev peer).
foreach(v legacy modern)
  set(extra "")
  set(ver 1)
  if(v STREQUAL "modern")
    set(extra -global virtio-mmio.force-legacy=false)
    set(ver 2)
  endif()
  vnet_boot_test(a64_mmio_${v} TIMEOUT 30 STATUS 1 APPEND "test=mmio expect_vnet=2 expect_other=2"
    EXPECT "bsp: virtio-mmio slot 0 @0xa000000 intid 48: network device \\(id 1\\), ${v} \\(version ${ver}\\), net0"
           "bsp: virtio-mmio slot 31 @0xa003e00 intid 79: network device \\(id 1\\), ${v} \\(version ${ver}\\), net1"
           "bsp: virtio-mmio slot [0-9]+ @0x[0-9a-f]+ intid [0-9]+: entropy device \\(id 4\\), version ${ver}: not a network device, left alone"
           "bsp: virtio-mmio slot [0-9]+ @0x[0-9a-f]+ intid [0-9]+: block device \\(id 2\\), version ${ver}: not a network device, left alone"
           "KTEST mmio devices=4 virtio_net=2 expected=2 other=2 untouched=2 expected_other=2"
           "KTEST mmio PASS"
    REJECT "FAIL"
    QEMU -device virtio-net-device,mac=52:54:00:12:34:01
         -device virtio-net-device,bus=virtio-mmio-bus.0,mac=52:54:00:12:34:02
         -device virtio-rng-device
         -drive if=none,id=blk0,format=raw,file=/dev/null,readonly=on -device virtio-blk-device,drive=blk0
         ${extra})
endforeach()

# PCIe: the board finds virt's host bridge from the device tree (high ECAM by default, low
# ECAM with highmem=off), assigns the BARs and routes INTx; a transitional and a modern-only
# virtio-net-pci are both found (the router tests a64_*_pci drive them with traffic).
foreach(hm default off)
  set(mach virt,gic-version=3)
  set(ecam "0x4010000000")
  if(hm STREQUAL "off")
    set(mach virt,gic-version=3,highmem=off)
    set(ecam "0x3f000000")
  endif()
  vnet_boot_test(a64_pcie_highmem_${hm} TIMEOUT 20 STATUS 1 APPEND "test=none" MACHINE ${mach}
    EXPECT "bsp: pcie 00:0[0-9a-f].0 1af4:1000 class=0200 pin=1 intid=3[5-8] msix=[1-9][0-9]* virtio-net"
           "bsp: pcie 00:0[0-9a-f].0 1af4:1041 class=0200 pin=1 intid=3[5-8] msix=[1-9][0-9]* virtio-net"
           "bsp: pcie ecam=${ecam} [0-9]+ function\\(s\\) on bus 0, 2 virtio-net"
           "KTEST done failures=0"
    REJECT "does not fit" "FAULT"
    QEMU -device virtio-net-pci,mac=52:54:00:12:34:01,romfile=
         -device virtio-net-pci,disable-legacy=on,mac=52:54:00:12:34:02,romfile=)
endforeach()
