# Toolchain file for the freestanding x86_64 firmware (VNET_TARGET=qemu-x86_64).
#
# The host compiler (gcc by default, clang with CC=clang) builds the firmware: x86_64 is the
# host's own architecture, so no cross compiler is needed, only freestanding flags
# (cmake/firmware.cmake) and the board's linker script. "Generic" keeps CMake from adding
# host-OS conventions (shared libraries, -rdynamic, system library paths).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# Compiler checks link a test program; there is no C library to link one against.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(VNET_TARGET "qemu-x86_64" CACHE STRING "host or qemu-x86_64")
