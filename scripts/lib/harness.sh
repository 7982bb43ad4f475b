# shellcheck shell=bash
# vnet-rtos harness for bash scripts: source this file, then
#
#   vh_up --guest linux --offloads off     # boot; sets VNET_* (see below); traps set
#   vh_console 'ip route'                  # run a guest shell command, print its output
#   vh_stats                               # the guest's `stats -k` (key=value lines)
#   vh_ping [--count N] [--from wan]       # ping across the router
#   vh_iperf --time 10 [--udp --bitrate 100M] [--streams N] [--reverse]
#   vh_xfer --bytes 10000000 [--from wan]  # checked transfer (sha256 both ends)
#   vh_qmp set_link '{"name":"lan","up":false}'
#   vh_down                                # also runs on EXIT, INT, TERM, HUP
#
# After vh_up: VNET_STATE (session dir), VNET_LAN_NS, VNET_WAN_NS, VNET_LAN_IP,
# VNET_WAN_IP, VNET_ROUTER_LAN, VNET_ROUTER_WAN, VNET_CONSOLE_LOG, VNET_QEMU_LOG,
# VNET_SERIAL_IN, VNET_QMP, VNET_QEMU_PID, VNET_PROMPT.
#
# The traps replace any EXIT/INT/TERM/HUP traps of the caller; a caller with its own
# cleanup defines vh_on_exit(), which runs before the teardown.

VH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VH_CLI="$VH_LIB/vnet-harness"
VNET_STATE=""
_vh_child=""

# Run a harness command in the background and wait for it: `wait` returns when a
# trapped signal arrives, so SIGTERM from an outer `timeout` is handled at once
# instead of after the command finishes.
_vh_run() {
  "$@" &
  _vh_child=$!
  local rc=0
  wait "$_vh_child" || rc=$?
  _vh_child=""
  return "$rc"
}

_vh_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if declare -F vh_on_exit >/dev/null; then vh_on_exit || true; fi
  if [ -n "$_vh_child" ] && kill -0 "$_vh_child" 2>/dev/null; then
    # The CLI turns SIGTERM into its own teardown (e.g. `up` half way through boot).
    kill -TERM "$_vh_child" 2>/dev/null || true
    wait "$_vh_child" 2>/dev/null || true
  fi
  vh_down || rc=1
  exit "$rc"
}

vh_traps() {
  trap _vh_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

vh_up() {
  vh_traps
  local out rc=0
  out=$(mktemp)
  _vh_run "$VH_CLI" up --owner-pid "$$" "$@" >"$out" || rc=$?
  if [ "$rc" -eq 0 ]; then
    # Lines are NAME=shell-quoted-value, written by the CLI itself.
    # shellcheck disable=SC1090
    . "$out"
  fi
  rm -f "$out"
  return "$rc"
}

vh_down() {
  [ -n "$VNET_STATE" ] || return 0
  local st=$VNET_STATE rc=0
  "$VH_CLI" down "$st" || rc=$?
  "$VH_CLI" check "$st" >&2 || rc=1
  VNET_STATE=""
  return "$rc"
}

vh_console() { _vh_run "$VH_CLI" console "$VNET_STATE" -- "$@"; }
vh_console_t() { local t=$1; shift; _vh_run "$VH_CLI" console --timeout "$t" "$VNET_STATE" -- "$@"; }
vh_stats() { _vh_run "$VH_CLI" stats "$VNET_STATE" "$@"; }
vh_wait() { _vh_run "$VH_CLI" wait "$VNET_STATE" "$@"; }
vh_ping() { _vh_run "$VH_CLI" ping "$VNET_STATE" "$@"; }
vh_iperf() { _vh_run "$VH_CLI" iperf "$VNET_STATE" "$@"; }
vh_xfer() { _vh_run "$VH_CLI" xfer "$VNET_STATE" "$@"; }
vh_qmp() { _vh_run "$VH_CLI" qmp "$VNET_STATE" "$@"; }
vh_check() { "$VH_CLI" check "$1"; }
vh_reap() { "$VH_CLI" reap; }
