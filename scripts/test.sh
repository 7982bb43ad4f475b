#!/usr/bin/env bash
# vnet-rtos: the whole test suite, from a fresh Debian 12 machine (run as root; a
# non-root user with sudo: sudo ./scripts/test.sh).
#
#   ./scripts/test.sh                 # everything: host tests (gcc + clang, ASan+UBSan),
#                                     # format/static checks, a short fuzz run, firmware
#                                     # build and the QEMU tests (TCG), x86_64 and
#                                     # aarch64 boards, cross builds of the driver
#   ./scripts/test.sh --host-only     # skip firmware build and QEMU tests (no root needed
#                                     # once the packages are installed)
#
# Installs the Debian packages it needs first. Prints one closing line
# "N passed, M failed" counting every ctest test and every check stage.
set -u -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
host_only=0
fuzz_secs=${VNET_FUZZ_SECONDS:-20}
for a in "$@"; do
  case "$a" in
    --host-only) host_only=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $a" >&2; exit 2 ;;
  esac
done
if [ "$host_only" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: needs root for the QEMU tests (namespaces, taps) and apt-get; with sudo: sudo ./scripts/test.sh, or ./scripts/test.sh --host-only" >&2
  exit 2
fi

pkgs=(build-essential cmake clang lld llvm libclang-rt-14-dev clang-format cppcheck spin
      python3 qemu-system-x86 iperf3 iproute2 iputils-ping procps
      gcc-aarch64-linux-gnu qemu-system-arm gcc-arm-none-eabi gcc-riscv64-linux-gnu)
# shellcheck source=scripts/lib/apt-ensure.sh
. "$top/scripts/lib/apt-ensure.sh"
vnet_apt_ensure "${pkgs[@]}" || exit 2

passed=0
failed=0
failures=()
jobs=$(nproc)

stage() { # stage NAME CMD... : a check that is one pass or one fail
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

run_ctest() { # run_ctest NAME BUILD_DIR [ctest args]: counts every test
  local name=$1 dir=$2; shift 2
  local log="$dir/ctest-summary.log"
  echo "== ctest: $name"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "$jobs" "$@") 2>&1 | tee "$log"
  local line total nfail
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "ctest ($name) produced no summary" >&2
    failed=$((failed + 1)); failures+=("ctest:$name"); return
  fi
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  nfail=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - nfail)); failed=$((failed + nfail))
  [ "$nfail" -eq 0 ] || failures+=("ctest:$name ($nfail)")
}

build() { # build DIR CC [cmake args]
  local dir=$1 cc=$2; shift 2
  CC=$cc cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@" >"$dir.configure.log" 2>&1 &&
    cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1 ||
    { tail -n 60 "$dir.configure.log" "$dir.build.log" 2>/dev/null; return 1; }
}

mkdir -p build
# 1. Host tests, both compilers, ASan+UBSan.
for cc in gcc clang; do
  if stage "host build ($cc)" build "build/host-$cc" "$cc"; then
    run_ctest "host-$cc" "build/host-$cc"
  fi
done

# 1b. Concurrency: the concurrency-labelled tests under ThreadSanitizer (own build), and the
#     Spin model of the RX handshake (with and without its barrier; also in ctest -L model).
if stage "host build (clang, TSan)" build build/host-tsan clang -DVNET_SANITIZE=OFF \
     -DCMAKE_C_FLAGS="-fsanitize=thread -O1" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread; then
  TSAN_OPTIONS="halt_on_error=1 suppressions=$top/tests/tsan.supp" run_ctest host-tsan build/host-tsan -L concurrency
fi
stage "model check (spin)" tests/model/run.sh "$top/build/model"

# 2. Formatting and static analysis of our C sources.
mapfile -t csrc < <(git ls-files '*.c' '*.h' | grep -v '^tests/fuzz/corpus')
stage "clang-format" clang-format --dry-run -Werror "${csrc[@]}"
# The benchmark suite's own arithmetic and report rendering (no VM, no root).
stage "bench self-test" /usr/bin/python3 -m unittest discover -s bench/lib -p 'test_*.py'
stage "layers" "$top/scripts/check-layers.sh"  # docs/architecture.md's map and include arrows
# cppcheck reads each build's compile_commands.json so every file is analysed with its
# real include paths and configuration headers (host build here, firmware build below).
cppcheck_build() { # cppcheck_build BUILD_DIR
  cppcheck --quiet --error-exitcode=1 --inline-suppr -j "$jobs" \
    --enable=warning,portability --std=c11 --platform=unix64 -D__unix__=1 -D__x86_64__=1 \
    --suppress=missingIncludeSystem --suppress=unmatchedSuppression \
    -i "$top/build" --project="$1/compile_commands.json"
}
[ -f build/host-gcc/compile_commands.json ] && stage "cppcheck (host)" cppcheck_build build/host-gcc

# 3. A short bounded fuzz run of every libFuzzer harness.
if [ -x tests/fuzz/run.sh ]; then
  rm -f build/fuzz/crash-* build/fuzz/leak-* build/fuzz/timeout-*
  stage "fuzz (${fuzz_secs}s each)" tests/fuzz/run.sh "$fuzz_secs" "$top/build/fuzz"
fi

# 3b. Build integration: examples/ucos2-minimal built as a product would, through the
# installed CMake package (find_package(vnet) after cmake --install to a temporary prefix),
# through add_subdirectory() and through vnet.mk, against our kernel's hosted port as the
# stand-in for Micrium's; each binary must start the kernel and reach its NIC probe.
# (package.file_lists in the host ctest checks vnet.mk against the CMake source list.)
# os_cfg.h: the package's os/ucos2/cfg/os_cfg.h, unchanged (the example's default).
example_args=(-DUCOS2_DIR="$top/kernel" -DUCOS2_PORT_DIR="$top/kernel/port/host"
              -DUCOS2_PORT_LIBS=pthread)
example_run() { # example_run BINARY: the stand-in board finds no NIC and powers off
  local out
  out=$(timeout 60 "$1") || { echo "$1 failed: $out" >&2; return 1; }
  grep -q "app: no virtio-net PCI function" <<<"$out" &&
    grep -q "bsp: start task ended" <<<"$out" || { echo "unexpected output: $out" >&2; return 1; }
}
example_pkg() {
  local d=build/example prefix=build/example/prefix
  rm -rf "$d" && mkdir -p "$d" &&
    cmake --install build/host-gcc --prefix "$prefix" >"$d/install.log" 2>&1 &&
    cmake -S examples/ucos2-minimal -B "$d/pkg" -DCMAKE_PREFIX_PATH="$top/$prefix" \
      "${example_args[@]}" >"$d/pkg.configure.log" 2>&1 &&
    cmake --build "$d/pkg" -j "$jobs" >"$d/pkg.build.log" 2>&1 &&
    example_run "$d/pkg/ucos2_minimal" ||
    { tail -n 40 "$d"/*.log 2>/dev/null; return 1; }
}
example_subdir() {
  local d=build/example/subdir
  cmake -S examples/ucos2-minimal -B "$d" -DVNET_SOURCE_DIR="$top" "${example_args[@]}" \
      >"$d.configure.log" 2>&1 &&
    cmake --build "$d" -j "$jobs" >"$d.build.log" 2>&1 && example_run "$d/ucos2_minimal" ||
    { tail -n 40 "$d.configure.log" "$d.build.log" 2>/dev/null; return 1; }
}
example_make() { # from the installed tree's vnet.mk, as a non-CMake product would
  local d=$top/build/example/make
  make -C examples/ucos2-minimal -j "$jobs" VNET_DIR="$top/build/example/prefix/share/vnet" \
      UCOS2_DIR="$top/kernel" UCOS2_PORT_DIR="$top/kernel/port/host" \
      PORT_LDLIBS=-pthread OUT="$d" >"$d.log" 2>&1 &&
    example_run "$d/ucos2_minimal" || { tail -n 40 "$d.log"; return 1; }
}
if [ -f build/host-gcc/cmake_install.cmake ]; then
  stage "example ucos2-minimal (find_package)" example_pkg
  stage "example ucos2-minimal (add_subdirectory)" example_subdir
  stage "example ucos2-minimal (vnet.mk)" example_make
fi

# 3b. The driver library cross-compiled warning-free for aarch64, armv7-a, riscv64, i386.
stage "cross builds (driver library)" scripts/cross-build.sh

# 4. Firmware (freestanding) and QEMU tests under TCG.
if [ "$host_only" -eq 0 ]; then
  if [ -f cmake/toolchain-x86_64-elf.cmake ]; then
    if stage "firmware build" build build/fw gcc -DVNET_TARGET=qemu-x86_64 \
         -DCMAKE_TOOLCHAIN_FILE="$top/cmake/toolchain-x86_64-elf.cmake"; then
      # QEMU tests share 2 cores with QEMU itself: run them one at a time.
      stage "cppcheck (firmware)" cppcheck_build build/fw
      # The firmware must also compile warning-free with clang (images not run twice).
      stage "firmware build (clang)" build build/fw-clang clang -DVNET_TARGET=qemu-x86_64 \
        -DCMAKE_TOOLCHAIN_FILE="$top/cmake/toolchain-x86_64-elf.cmake"
      run_ctest "firmware+qemu" build/fw -j 1
    fi
  fi
  # The aarch64 virt board: firmware images and their QEMU tests (TCG, cortex-a53).
  if [ -f cmake/toolchain-aarch64-elf.cmake ]; then
    if stage "firmware build (aarch64)" build build/fw-aarch64 aarch64-linux-gnu-gcc \
         -DVNET_TARGET=qemu-aarch64-virt \
         -DCMAKE_TOOLCHAIN_FILE="$top/cmake/toolchain-aarch64-elf.cmake"; then
      run_ctest "firmware+qemu (aarch64)" build/fw-aarch64 -j 1
    fi
  fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then printf 'FAILED: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
