# Toolchain file for the freestanding aarch64 firmware (VNET_TARGET=qemu-aarch64-virt, board
# bsp/qemu-aarch64-virt). Cross compiler: Debian's gcc-aarch64-linux-gnu by default; its
# Linux target only matters for the C library, which the firmware does not use
# (-ffreestanding, -nostdlib, the board's own mem*/str*). Set VNET_AARCH64_CC=clang to build
# with clang --target=aarch64-none-elf instead (linked with ld.lld).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(VNET_AARCH64_CC "$ENV{VNET_AARCH64_CC}")
if(VNET_AARCH64_CC STREQUAL "clang")
  set(CMAKE_C_COMPILER clang)
  set(CMAKE_ASM_COMPILER clang)
  set(CMAKE_C_COMPILER_TARGET aarch64-none-elf)
  set(CMAKE_ASM_COMPILER_TARGET aarch64-none-elf)
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld")
  set(CMAKE_AR llvm-ar)
  set(CMAKE_RANLIB llvm-ranlib)
  set(CMAKE_NM llvm-nm)
else()
  set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
  set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
  # LTO needs the plugin-aware archiver.
  set(CMAKE_AR aarch64-linux-gnu-gcc-ar)
  set(CMAKE_RANLIB aarch64-linux-gnu-gcc-ranlib)
  set(CMAKE_NM aarch64-linux-gnu-gcc-nm)
endif()

# Compiler checks link a test program; there is no C library to link one against.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(VNET_TARGET "qemu-aarch64-virt" CACHE STRING "host, qemu-x86_64 or qemu-aarch64-virt")
set(VNET_BOARD "qemu-aarch64-virt" CACHE STRING "Board directory under bsp/")
