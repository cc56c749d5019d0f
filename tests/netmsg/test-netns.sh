#!/usr/bin/env bash
# test-netns.sh BUILD_DIR - two hosts in two network namespaces joined by a veth pair (10.77.0.1 and
# 10.77.0.2): an RPC across, then the link taken down: with no FIN or RST to tell it, hostA's
# netmsgd takes hostB for dead after its silence (6 s), and hostA's proxy becomes a dead name with
# its notification.  Skipped, with the reason, where namespaces cannot be made (not root, no ip).
set -u
build=$1
. "$(dirname "$0")/common.sh"
need "$build" ip openssl
na=machipc-a-$$ nb=machipc-b-$$
if ! ip netns add "$na" 2>/dev/null; then
  echo "SKIP: cannot make network namespaces here (root and CAP_SYS_ADMIN are needed); the loopback test ran instead"
  exit 77
fi
work=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null
  wait 2>/dev/null
  ip netns del "$na" 2>/dev/null
  ip netns del "$nb" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$nb"
ip link add va$$ type veth peer name vb$$
ip link set va$$ netns "$na"
ip link set vb$$ netns "$nb"
ip -n "$na" addr add 10.77.0.1/24 dev va$$
ip -n "$nb" addr add 10.77.0.2/24 dev vb$$
ip -n "$na" link set va$$ up
ip -n "$nb" link set vb$$ up
ip -n "$na" link set lo up
ip -n "$nb" link set lo up
pki=$work/pki
mkdir -p "$pki"
ca ca
cert hostA ca; cert hostB ca

# The brokers and tasks are on Unix sockets (any namespace reaches them); each netmsgd is in its host's.
host() { # host NAME NS ADDR [--peer ...]
  local name=$1 ns=$2 addr=$3
  shift 3
  export MACHIPC_SOCKET=$work/$name.sock
  start_ready b_$name "$build/kernel/machipcd" -q
  start_ready n_$name "$build/servers/nameserver/machipc-nameserver"
  start_ready m_$name ip netns exec "$ns" "$build/netmsgd/machipc-netmsgd" --name "$name" --listen "$addr:7411" \
    --cert "$pki/$name.pem" --key "$pki/$name.key" --ca "$pki/ca.pem" "$@" 2>>"$work/$name.log"
}
host hostA "$na" 10.77.0.1
host hostB "$nb" 10.77.0.2 --peer 10.77.0.1:7411
export MACHIPC_SOCKET=$work/hostB.sock
start_ready s_b "$build/tests/netmsg/nm-task" serve nm-b

out=$(MACHIPC_SOCKET=$work/hostA.sock "$build/tests/netmsg/nm-task" right hostB nm-b 2>&1)
case $out in "right ok"*) ok "across two network namespaces over a veth pair, TLS: rights there and back" ;;
  *) bad "right: $out" ;; esac
MACHIPC_SOCKET=$work/hostA.sock "$build/tests/netmsg/nm-task" watch hostB nm-b >"$work/watch.out" 2>&1 &
watch=$!
while ! grep -q watching "$work/watch.out"; do kill -0 $watch 2>/dev/null || break; read -r -t 0.05 <> <(:) || true; done
# The link goes down: nothing tells hostA; only silence does.
ip -n "$na" link set va$$ down
wait "$watch"; st=$?
out=$(cat "$work/watch.out")
ms=$(echo "$out" | sed -n 's/.*after \([0-9]*\) ms.*/\1/p')
if [ $st -eq 0 ] && [ -n "$ms" ] && [ "$ms" -ge 3000 ] && [ "$ms" -le 12000 ]; then
  ok "link down: hostA's proxy is a dead name after $ms ms (documented: silent 6 s), with its notification"
else
  bad "link down: $out"
fi
[ $fail -eq 0 ] && echo "cross-host tests in network namespaces: ok"
exit $fail
