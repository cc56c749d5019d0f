#!/usr/bin/env bash
# setup.sh - build machipc on a fresh Debian machine and run the demo or the tests.
#
#   ./setup.sh demo    install build dependencies, build, start machipcd on a private
#                      socket, start the name server and the echo server, run the
#                      echo client as a separate process, stop everything cleanly
#   ./setup.sh test    install dependencies, build, run the whole test suite, then
#                      again under AddressSanitizer and UndefinedBehaviorSanitizer
#   ./setup.sh build   install dependencies and build only
#
# Exit status 0 on success.  Builds go to ./build (and ./build-sanitize).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(gcc g++ meson ninja-build pkg-config libevent-dev check binutils libsystemd-dev scdoc libdbus-1-dev dbus-daemon gnumach-dev mig-x86-64-gnu systemd bash-completion man-db strace libssl-dev openssl iproute2 python3)

log() { printf '==> %s\n' "$*"; }

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    log "configuring $dir"
    meson setup "$dir" "$@" >/dev/null
  fi
  log "building $dir"
  ninja -C "$dir" >/dev/null
}

# Start "$@" with its readiness on fd 3 and wait until it reports READY.
start_ready() {
  local fifo=$WORK/ready.$RANDOM
  mkfifo "$fifo"
  "$@" --ready-fd 3 3>"$fifo" &
  STARTED=$!
  local line=""
  read -r -t 10 line <"$fifo" || true
  rm -f "$fifo"
  if [ "$line" != "READY=1" ]; then
    echo "setup.sh: $1 did not become ready" >&2
    return 1
  fi
}

stop() { # stop PID NAME: SIGTERM, then require exit status 0
  kill -TERM "$1" 2>/dev/null || true
  if ! wait "$1"; then
    echo "setup.sh: $2 did not exit cleanly" >&2
    return 1
  fi
}

demo() {
  build build
  WORK=$(mktemp -d)
  export MACHIPC_SOCKET=$WORK/machipc.sock
  local B=build
  trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

  log "starting machipcd on $MACHIPC_SOCKET"
  start_ready "$B/kernel/machipcd"; local broker=$STARTED
  log "starting the name server"
  start_ready "$B/servers/nameserver/machipc-nameserver"; local ns=$STARTED
  log "starting the echo/calculator server"
  start_ready "$B/servers/echo/machipc-echo-server" -v; local echo=$STARTED

  log "running the client, a separate process that finds the server by name"
  "$B/clients/echo/machipc-echo" echo "hello from an unrelated process"
  "$B/clients/echo/machipc-echo" calc 6 x 7
  "$B/clients/echo/machipc-echo" calc 1000000 / 7
  local rc=0
  "$B/clients/echo/machipc-echo" calc 1 / 0 || rc=$?
  [ "$rc" -eq 3 ] || { echo "setup.sh: expected the calculator to report division by zero" >&2; exit 1; }
  local t0 t1
  t0=$(date +%s%N)
  "$B/clients/echo/machipc-echo" --count 10000 calc 2 + 2 >/dev/null
  t1=$(date +%s%N)
  log "10000 RPCs in $(( (t1 - t0) / 1000000 )) ms (client start-up included)"

  log "mailbox ownership moves between two unrelated processes, queued messages and all"
  "$B/clients/ownership/machipc-ownership" taker > "$WORK/taker.out" &
  local taker=$!
  "$B/clients/ownership/machipc-ownership" --wait 5000 owner
  wait "$taker" || { cat "$WORK/taker.out"; echo "setup.sh: the taker failed" >&2; exit 1; }
  cat "$WORK/taker.out"

  log "one receiver per mailbox: a task holding only a send right cannot receive"
  "$B/clients/one-receiver/machipc-one-receiver" owner > "$WORK/owner.out" &
  local boxowner=$!
  "$B/clients/one-receiver/machipc-one-receiver" intruder
  wait "$boxowner" || { cat "$WORK/owner.out"; echo "setup.sh: the mailbox owner failed" >&2; exit 1; }
  cat "$WORK/owner.out"

  log "256 MiB out of line (shared memory) beside the same bytes inline"
  "$B/clients/large-transfer/machipc-large-transfer" -s 256

  log "producer and consumer over a shared ring buffer with two semaphores"
  "$B/clients/prodcons/machipc-prodcons" -n 2000 producer > "$WORK/producer.out" &
  local producer=$!
  "$B/clients/prodcons/machipc-prodcons" consumer
  wait "$producer" || { cat "$WORK/producer.out"; echo "setup.sh: the producer failed" >&2; exit 1; }
  cat "$WORK/producer.out"

  log "the broker's view (machipcctl)"
  "$B/clients/machipcctl/machipcctl"

  log "stopping"
  stop "$echo" "the echo server"
  stop "$ns" "the name server"
  stop "$broker" "machipcd"
  [ ! -e "$MACHIPC_SOCKET" ] || { echo "setup.sh: socket left behind" >&2; exit 1; }
  trap - EXIT
  rm -rf "$WORK"
  log "demo finished"
}

run_tests() {
  build build
  log "test suite"
  meson test -C build --print-errorlogs --num-processes 2
  build build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
  log "test suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-sanitize --print-errorlogs --num-processes 2
}

case "${1:-}" in
  demo) install_deps; demo ;;
  test) install_deps; run_tests ;;
  build) install_deps; build build ;;
  *) echo "usage: $0 demo|test|build" >&2; exit 2 ;;
esac
