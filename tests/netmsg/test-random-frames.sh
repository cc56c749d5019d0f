#!/usr/bin/env bash
# test-random-frames.sh BUILD_DIR - a hostile peer: hostB's netmsgd (and the broker behind it)
# takes connection after connection of frames drawn at random (random-frames.py, fixed seeds:
# the same bytes every run) from a bare TLS client with a good certificate, as "hostD".  After
# them hostB still serves hostA, and every netmsgd and broker stops cleanly - under ASan, with
# nothing leaked.  The fuzz target fuzz-netmsg covers the decoder alone; this covers what the
# frames mean: exports, proxies, rights of every kind, credit, moving ports, look-ups.
set -u
build=$1
seeds=${RANDOM_FRAMES_SEEDS:-60}     # the last seed; RANDOM_FRAMES_FIRST the first (1)
here=$(dirname "$0")
. "$here/common.sh"
need "$build" openssl python3
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
pki=$work/pki
base=$((20000 + ($$ + 7919) % 20000))
mkdir -p "$pki"
ca ca
cert hostA ca; cert hostB ca; cert hostD ca

host() { # host NAME INDEX [netmsgd options...]
  local name=$1 i=$2
  shift 2
  export MACHIPC_SOCKET=$work/$name.sock
  start_ready broker_$name "$build/kernel/machipcd" -q
  start_ready ns_$name "$build/servers/nameserver/machipc-nameserver"
  start_ready nm_$name "$build/netmsgd/machipc-netmsgd" --name "$name" --listen 127.0.0.1:$((base + i)) \
    --cert "$pki/$name.pem" --key "$pki/$name.key" --ca "$pki/ca.pem" "$@" 2>>"$work/$name.log"
}
host hostA 1
host hostB 2 --peer 127.0.0.1:$((base + 1))
export MACHIPC_SOCKET=$work/hostB.sock
start_ready echo_b "$build/servers/echo/machipc-echo-server"
start_ready serve_b "$build/tests/netmsg/nm-task" serve nm-b

# Each stream ends with a frame of no known type, so that hostB closes the connection as soon
# as it has read the rest (a stream may also end earlier, at a malformed frame).
for seed in $(seq "${RANDOM_FRAMES_FIRST:-1}" "$seeds"); do
  { python3 "$here/random-frames.py" "$seed" 60 hostD; printf '\x00\x00\x00\x00\x63\x00\x00\x00'; } >"$work/frames"
  timeout 10 openssl s_client -quiet -connect 127.0.0.1:$((base + 2)) -cert "$pki/hostD.pem" \
    -key "$pki/hostD.key" -CAfile "$pki/ca.pem" <"$work/frames" >/dev/null 2>&1
  if ! kill -0 "$nm_hostB" 2>/dev/null || ! kill -0 "$broker_hostB" 2>/dev/null; then
    bad "seed $seed: hostB's netmsgd or broker is gone"
    tail -n 20 "$work/hostB.log"
    exit 1
  fi
done
n=$(grep -c "peer hostD: connected" "$work/hostB.log")
first=${RANDOM_FRAMES_FIRST:-1}
[ "$n" = $((seeds - first + 1)) ] && ok "$((seeds - first + 1)) connections of random frames from hostD: netmsgd and broker still running" ||
  bad "only $n of $((seeds - first + 1)) connections from hostD were made"
echo "how they ended:"
grep "peer hostD" "$work/hostB.log" | grep -v "connected, certificate" | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c |
  sort -rn

out=$(MACHIPC_SOCKET=$work/hostA.sock "$build/clients/echo/machipc-echo" -w 15000 -H hostB echo "after all that" 2>&1)
[ "$out" = "echo: after all that" ] && ok "and hostA's RPCs to hostB are served" || bad "RPC after the frames: $out"

# Everything stops on SIGTERM with exit status 0 (under ASan: nothing leaked), the brokers last
# (nm-task, a test helper, is simply ended).
kill "$serve_b"
for v in nm_hostB nm_hostA echo_b ns_hostB ns_hostA broker_hostB broker_hostA; do
  pid=${!v}
  kill -TERM "$pid"
  wait "$pid" && ok "$v stops cleanly" || bad "$v exited $?"
done
[ $fail = 0 ] && echo "random frames from a hostile peer: ok"
exit $fail
