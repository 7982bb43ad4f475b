# Router integration tests on the aarch64 virt board (included by CMakeLists.txt when
# VNET_BOARD is qemu-aarch64-virt): the same scripts as on x86_64, with --board so the
# harness boots qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a53 and puts the NICs
# (virtio-net-device) on virtio-mmio slots 0 (LAN) and 1 (WAN). Both virtio-mmio versions
# run: legacy (QEMU 7.2's default) and modern (--mmio-modern); the *_pci runs put
# virtio-net-pci on virt's PCIe instead (INTx through the GIC); msix_pci boots
# gic-version=2, whose GICv2m frame gives the NICs MSI-X (tests/qemu/router/msix.py asserts
# it is in use and carries the traffic). Sizes as on x86_64 except offloads (32 MiB
# instead of 64).
#
# name|script|budget seconds[|extra arguments...]
foreach(t
    "ping|ping.py|150"
    "ping_modern|ping.py|150|--mmio-modern"
    "xfer|xfer.py|240"
    "xfer_modern|xfer.py|240|--mmio-modern"
    "iperf|iperf.py|150"
    "iperf_modern|iperf.py|150|--mmio-modern"
    "reinit_modern|reinit.py|240|--mmio-modern"
    "ping_pci|ping.py|150|--transport|pci"
    "xfer_pci|xfer.py|240|--transport|pci"
    "iperf_pci|iperf.py|150|--transport|pci"
    "msix_pci|msix.py|200|--transport|pci|--gic|2"
    "overload|overload.py|200"
    "bad_frames|bad_frames.py|180"
    "offloads_modern|offloads.py|300|--mmio-modern|--mib|32")
  string(REPLACE "|" ";" f "${t}")
  list(GET f 0 tname)
  list(GET f 1 tscript)
  list(GET f 2 tbudget)
  set(textra "")
  list(LENGTH f flen)
  if(flen GREATER 3)
    list(SUBLIST f 3 -1 textra)
  endif()
  set(image $<TARGET_FILE:router>)
  if(tname STREQUAL "bad_frames")
    set(image $<TARGET_FILE:router-mtu>)
  endif()
  add_test(NAME qemu.router.a64_${tname}
    COMMAND ${Python3_EXECUTABLE} ${ROUTER_TEST_DIR}/${tscript} --image ${image}
            --board qemu-aarch64-virt --budget ${tbudget} ${textra})
  math(EXPR ctest_timeout "${tbudget} + 30")
  set_tests_properties(qemu.router.a64_${tname} PROPERTIES
    TIMEOUT ${ctest_timeout} LABELS "qemu;router" RUN_SERIAL TRUE)
endforeach()
