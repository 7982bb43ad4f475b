# Flags for the freestanding firmware build (included by the top level when VNET_TARGET is
# not "host"). Every target in the firmware tree gets these compile options; images link
# through vnet_firmware_image() with the board's linker script.
#
# -ffreestanding             no hosted C library; the board supplies mem*/str* (bsp/.../libc)
# -fno-pic -fno-pie          absolute addresses: the image runs identity-mapped at 1 MiB
# -mno-red-zone              (x86_64) interrupts arrive on the current task stack (SysV red
#                            zone would be overwritten by the CPU's interrupt frame); AAPCS64
#                            has no red zone
# -mgeneral-regs-only        no SSE/x87 (x86_64) or FP/SIMD (aarch64) in generated code, so a
#                            context is only the general registers (kernel/port/<cpu>)
# -fno-stack-protector       no runtime to provide __stack_chk_guard
# -fno-omit-frame-pointer    the fault report walks RBP for a backtrace
# Board -> CPU port and the processor its toolchain file must set.
if(VNET_TARGET STREQUAL "qemu-aarch64-virt")
  set(VNET_BOARD "qemu-aarch64-virt" CACHE STRING "Board directory under bsp/")
  set(vnet_fw_cpu aarch64)
  set(vnet_fw_toolchain cmake/toolchain-aarch64-elf.cmake)
  set(VNET_FW_ARCH_FLAGS -mgeneral-regs-only -mcmodel=small)
else()
  set(VNET_BOARD "qemu-x86_64" CACHE STRING "Board directory under bsp/")
  set(vnet_fw_cpu x86_64)
  set(vnet_fw_toolchain cmake/toolchain-x86_64-elf.cmake)
  set(VNET_FW_ARCH_FLAGS -mno-red-zone -mgeneral-regs-only -mcmodel=small)
endif()
if(NOT CMAKE_SYSTEM_PROCESSOR STREQUAL vnet_fw_cpu)
  message(FATAL_ERROR "VNET_TARGET=${VNET_TARGET} needs -DCMAKE_TOOLCHAIN_FILE=${vnet_fw_toolchain}")
endif()
# kernel/CMakeLists.txt builds kernel/port/${VNET_CPU_PORT} with the board's os_cfg.h.
set(VNET_CPU_PORT ${vnet_fw_cpu})
set(VNET_OS_CFG_DIR "${CMAKE_SOURCE_DIR}/bsp/${VNET_BOARD}/cfg" CACHE PATH
    "Directory holding the firmware's os_cfg.h")

set(VNET_FW_C_FLAGS
  ${VNET_WARN_FLAGS}
  -ffreestanding -fno-pic -fno-pie ${VNET_FW_ARCH_FLAGS}
  -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables
  -fno-unwind-tables -fno-common -ffunction-sections -fdata-sections)
add_compile_options(-g -O3 "$<$<COMPILE_LANGUAGE:C>:${VNET_FW_C_FLAGS}>"
  "$<$<COMPILE_LANGUAGE:ASM>:-fno-pic;-fno-pie>")
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  # gcc would otherwise turn copy/clear loops into memcpy/memset calls (the board provides
  # them, but the kernel promises to need none).
  add_compile_options("$<$<COMPILE_LANGUAGE:C>:-fno-tree-loop-distribute-patterns>")
endif()

# Link-time optimisation, on by default. Under QEMU TCG every guest call/return and
# indirect jump costs a translation-block lookup, so inlining across the layers (driver,
# OS port, kernel, stack) pays more than on hardware: measured with bench/perf/ab.sh
# (TCG, UDP 64 B flood, 2 rounds each) -O2 221 k, -O2 + LTO 244-273 k, -O3 + LTO
# 264-288 k frames/s forwarded; TCP 1 stream 1.67 -> 1.79 Gbit/s with -O2 + LTO.
# The layers stay separate libraries; LTO only sees through them at link time.
option(VNET_FW_LTO "Link-time optimisation of the firmware images" ON)
if(VNET_FW_LTO)
  include(CheckIPOSupported)
  check_ipo_supported(RESULT vnet_fw_ipo OUTPUT vnet_fw_ipo_why LANGUAGES C)
  if(vnet_fw_ipo)
    set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
  else()
    message(STATUS "firmware LTO not available with this toolchain: ${vnet_fw_ipo_why}")
  endif()
endif()

# vnet_firmware_image(<target> <linker script>): link <target> (an executable) as a static,
# non-PIE ELF64 image with no C runtime, load addresses from the script.
function(vnet_firmware_image target script)
  target_link_options(${target} PRIVATE
    -nostdlib -static -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--gc-sections
    -Wl,-z,max-page-size=0x1000 -Wl,-T,${script} -Wl,-Map,$<TARGET_FILE:${target}>.map)
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    # Debian's gcc links PIE by default; clang's Generic-target driver does not (and warns
    # about the flag).
    target_link_options(${target} PRIVATE -no-pie)
  endif()
  set_target_properties(${target} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${script})
endfunction()
