#!/usr/bin/env bash
# test-netmsg.sh BUILD_DIR - ports across hosts: several "hosts" on this machine, each a broker,
# a name server and a machipc-netmsgd, joined over TLS on loopback addresses (127.0.0.x)
# (doc/netmsg.md).  Each case checks what a task on one host sees of ports on another.
set -u
build=$1
. "$(dirname "$0")/common.sh"
need "$build" openssl python3
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${NETMSG_TEST_KEEP:-}" ] && cp -r "$work" /tmp/netmsg-kept; rm -rf "$work"' EXIT
pki=$work/pki
base=$((20000 + $$ % 20000))

# A CA for the hosts, and another one nobody trusts.
mkdir -p "$pki"
ca ca; ca evil
cert hostA ca; cert hostB ca; cert hostC ca; cert hostD ca; cert hostE ca; cert hostF ca; cert hostG ca; cert hostH ca; cert hostI ca; cert mallory evil

# host NAME INDEX [netmsgd options...]: a broker, a name server and a netmsgd on 127.0.0.1:base+INDEX
host() {
  local name=$1 i=$2
  shift 2
  export MACHIPC_SOCKET=$work/$name.sock
  start_ready broker_$name "$build/kernel/machipcd" -q
  start_ready ns_$name "$build/servers/nameserver/machipc-nameserver"
  start_ready nm_$name "$build/netmsgd/machipc-netmsgd" --name "$name" --listen 127.0.0.1:$((base + i)) "$@" \
    2>>"$work/$name.log"
}
tls() { echo --cert "$pki/$1.pem" --key "$pki/$1.key" --ca "$pki/ca.pem"; }
on() { MACHIPC_SOCKET=$work/$1.sock "${@:2}"; }

host hostA 1 $(tls hostA) ${NETMSG_TEST_VERBOSE:+-v}
host hostB 2 $(tls hostB) --peer 127.0.0.1:$((base + 1))
host hostC 3 $(tls hostC) --peer 127.0.0.1:$((base + 1)) --peer 127.0.0.1:$((base + 2))
export MACHIPC_SOCKET=$work/hostB.sock
start_ready echo_b "$build/servers/echo/machipc-echo-server"
start_ready serve_b "$build/tests/netmsg/nm-task" serve nm-b
export MACHIPC_SOCKET=$work/hostC.sock
start_ready serve_c "$build/tests/netmsg/nm-task" serve nm-c

# 1. An RPC to another host through the name server, with the same client program.
out=$(on hostA "$build/clients/echo/machipc-echo" -w 15000 -H hostB echo "across hosts" 2>&1)
[ "$out" = "echo: across hosts" ] && ok "RPC from hostA to hostB's echo server over TLS" || bad "RPC A->B: $out"
out=$(on hostC "$build/clients/echo/machipc-echo" -w 15000 -H hostB calc 6 x 7 2>&1)
[ "$out" = "calc: 6 * 7 = 42" ] && ok "RPC from hostC to hostB" || bad "RPC C->B: $out"
out=$(on hostA "$build/clients/echo/machipc-echo" -w 15000 -H hostB -c 200 echo again 2>&1 | tail -n1)
[ "$out" = "echo: again" ] && ok "200 RPCs in a row, in order" || bad "200 RPCs: $out"
out=$(on hostA "$build/clients/echo/machipc-echo" -w 0 -H nohost echo x 2>&1)
case $out in *"host not found"*) ok "an unknown host: NETNAME_HOST_NOT_FOUND" ;; *) bad "unknown host: $out" ;; esac
out=$(on hostA "$build/clients/echo/machipc-echo" -w 0 -H hostB -n nothing echo x 2>&1)
case $out in *"not checked in"*) ok "an unknown name there: NETNAME_NOT_CHECKED_IN" ;; *) bad "unknown name: $out" ;; esac

# Sender credentials: a message from another host names that host and its certificate, and the
# netmsgd that relayed it, never a pid, uid or gid of this machine.
out=$(on hostA "$build/tests/netmsg/nm-task" who hostB nm-b 2>&1)
want="remote pid=0 uid=4294967295 gid=4294967295 host=hostA identity=hostA relay_pid=$nm_hostB relay_uid=$(id -u)"
[ "$out" = "$want" ] && ok "a message from hostA names hostA and its certificate at hostB" || bad "credentials: $out"
out=$(on hostC "$build/tests/netmsg/nm-task" who hostB nm-b 2>&1)
case $out in "remote pid=0 "*" host=hostC identity=hostC relay_pid=$nm_hostB "*) ok "one from hostC names hostC" ;;
  *) bad "credentials from hostC: $out" ;; esac
out=$(on hostB "$build/tests/netmsg/nm-task" who "" nm-b 2>&1)
case $out in "local pid="*" origin=none") ok "a local sender stays a local pid" ;; *) bad "local credentials: $out" ;; esac

# machipcctl monitor on hostB names the host a relayed message came from.
on hostB "$build/clients/machipcctl/machipcctl" monitor --task "$serve_b" --count 1 >"$work/mon.out" 2>"$work/mon.err" &
mon=$!
while ! grep -q monitoring "$work/mon.err"; do kill -0 $mon 2>/dev/null || break; read -r -t 0.05 <> <(:) || true; done
on hostA "$build/tests/netmsg/nm-task" who hostB nm-b >/dev/null 2>&1
wait "$mon"
out=$(cat "$work/mon.out")
case $out in *" (host hostA) -> port "*"(nm-b) task "*) ok "machipcctl monitor on hostB names the host of a message relayed from hostA ($out)" ;;
  *) bad "monitor of a relayed message: $out $(cat "$work/mon.err")" ;; esac

# A peer's rights are bounded: hostE keeps at most 8 proxies for hostA (--peer-rights 8). Of 12
# send rights in one request (its reply right is a proxy too), 7 get proxies; the rest arrive as
# dead names, and the connection goes on.
host hostE 5 $(tls hostE) --peer 127.0.0.1:$((base + 1)) --peer-rights 8
start_ready serve_e "$build/tests/netmsg/nm-task" serve nm-e
settled() { # settled HOST PEER: until HOST holds no proxy for PEER's ports (releases are asynchronous)
  for _ in $(seq 100); do
    on "$1" "$build/clients/machipcctl/machipcctl" proxies 2>/dev/null | grep -Eq "^[0-9]+ +$2 " || return 0
    read -r -t 0.05 <> <(:) || true
  done
  return 1
}
settled hostE hostA || bad "hostE holds proxies for hostA before any request"
out=$(on hostA "$build/tests/netmsg/nm-task" rights hostE nm-e 12 2>&1)
[ "$out" = "rights: 7 of 12 back as themselves, 5 dead" ] && grep -q "hostA: 8 proxies here for it already" "$work/hostE.log" &&
  ok "hostE with --peer-rights 8: 7 of 12 rights from hostA get proxies, 5 arrive dead ($out)" ||
  bad "--peer-rights: $out; $(cat "$work/hostE.log")"
settled hostE hostA || bad "hostE still holds proxies for hostA"
out=$(on hostA "$build/tests/netmsg/nm-task" right hostE nm-e 2>&1)
case $out in "right ok"*) ok "and the next request from hostA is served" ;; *) bad "after the limit: $out" ;; esac
settled hostE hostA || bad "hostE still holds proxies for hostA"
out=$(on hostA "$build/tests/netmsg/nm-task" mixed hostE nm-e 2>&1)
case $out in "mixed: ours, theirs"*) ok "and mixed items too (hostE's netmsgd must then stop cleanly: no leak)" ;; *) bad "mixed on hostE: $out" ;; esac

# machipcctl shows the peers and the proxy ports here, and where they lead (a task holds one).
on hostA "$build/tests/netmsg/nm-task" watch hostB nm-b >"$work/holder.out" 2>&1 &
holder=$!
while ! grep -q watching "$work/holder.out"; do kill -0 $holder 2>/dev/null || break; read -r -t 0.05 <> <(:) || true; done
out=$(on hostA "$build/clients/machipcctl/machipcctl" proxies 2>&1)
if echo "$out" | grep -qE '^hostB +hostB +yes' && echo "$out" | grep -qE '^[0-9]+ +hostB +[0-9]+ +send '; then
  ok "machipcctl proxies on hostA: hostB up (its certificate), a proxy port leading to hostB"
else
  bad "machipcctl proxies: $out"
fi
out=$(on hostA "$build/clients/machipcctl/machipcctl" --json proxies 2>&1)
case $out in *'"host": "hostB", "certificate": "hostB", "up": true'*'"proxies": [{"port": '*) ok "and as JSON" ;;
  *) bad "proxies --json: $out" ;; esac
kill "$holder"; wait "$holder" 2>/dev/null

# 2. Rights travel: a send right of ours goes to hostB and comes back as itself, not a proxy.
out=$(on hostA "$build/tests/netmsg/nm-task" right hostB nm-b 2>&1)
case $out in "right ok"*) ok "a send right there and back arrives as the original ($out)" ;; *) bad "right: $out" ;; esac
out=$(on hostC "$build/tests/netmsg/nm-task" right hostB nm-b 2>&1)
case $out in "right ok"*) ok "the same from hostC" ;; *) bad "right C: $out" ;; esac

out=$(on hostA "$build/tests/netmsg/nm-task" mixed hostB nm-b 2>&1)
case $out in "mixed: ours, theirs and a dead name"*) ok "rights that arrive differently in one item (a new proxy, one coming home, a dead name) all arrive" ;;
  *) bad "mixed: $out" ;; esac
out=$(on hostA "$build/tests/netmsg/nm-task" relay hostB nm-b hostC nm-c 2>&1)
case $out in *"relay: the server called the right it was given: ok"*) ok "a right to hostC's port, sent from hostA to hostB, works there (B -> A -> C)" ;;
  *) bad "relay: $out" ;; esac

# 2b. Notifications cross: no-senders when the last holder there drops its right; a reply
# right destroyed unused there gives msg_rpc RCV_SERVER_DIED here.
out=$(on hostA "$build/tests/netmsg/nm-task" nosenders hostB nm-b 2>&1)
case $out in "nosenders: notification 70"*) ok "no-senders crosses hosts ($out)" ;; *) bad "nosenders: $out" ;; esac
out=$(on hostA "$build/tests/netmsg/nm-task" noreply hostB nm-b 2>&1)
case $out in *"server died"*|*"SERVER_DIED"*|*"died"*) ok "a reply right destroyed there: msg_rpc says RCV_SERVER_DIED ($out)" ;;
  *) bad "noreply: $out" ;; esac

# 2c. A receive right moves to a task on another host: the port moves, its queued messages and
# what is sent to it afterwards with the rights kept here follow, in order.
out=$(on hostA "$build/tests/netmsg/nm-task" movereceive hostB nm-b 2>&1)
case $out in "movereceive: read 1..5 in order there"*) ok "a receive right moved A->B: 3 queued + 2 sent after, read there in order" ;;
  *) bad "movereceive: $out" ;; esac
out=$(on hostC "$build/tests/netmsg/nm-task" movereceive hostB nm-b 2>&1)
case $out in "movereceive: read 1..5 in order there"*) ok "and from hostC" ;; *) bad "movereceive C: $out" ;; esac

# 3. Out-of-line memory arrives intact, both ways.
out=$(on hostA "$build/tests/netmsg/nm-task" ool hostB nm-b 8 2>&1)
case $out in "ool ok"*) ok "8 MiB out of line there and back, byte for byte ($out)" ;; *) bad "ool: $out" ;; esac
out=$(on hostC "$build/tests/netmsg/nm-task" ool hostB nm-b 96 2>&1)
case $out in "ool ok"*) ok "96 MiB, streamed in 1 MiB frames, there and back ($out)" ;; *) bad "ool 96: $out" ;; esac

# 4. Descriptors cannot cross hosts: refused with a clear code.
out=$(on hostA "$build/tests/netmsg/nm-task" fd hostB nm-b 2>&1)
case $out in *"code 46"*) ok "a descriptor is refused: KERN_NOT_SUPPORTED" ;; *) bad "fd: $out" ;; esac

# 5. A peer with a certificate from another CA is refused.
host mallory 4 --cert "$pki/mallory.pem" --key "$pki/mallory.key" --ca "$pki/ca.pem" --peer 127.0.0.1:$((base + 2))
out=$(on mallory "$build/clients/echo/machipc-echo" -w 0 -H hostB echo x 2>&1)
if grep -qE "certificate verify failed|unknown ca" "$work/hostB.log" "$work/mallory.log" &&
   case $out in *"host not found"*) true ;; *) false ;; esac; then
  ok "a certificate from another CA is refused (hostB never serves mallory)"
else
  bad "mallory: $out; $(cat "$work/hostB.log")"
fi

# 6. Malformed frames never crash netmsgd: garbage to its port, then it still serves.
exec 5<>/dev/tcp/127.0.0.1/$((base + 2)) && { head -c 4096 /dev/urandom >&5; exec 5>&-; }
printf '\xff\xff\xff\xff\x01\x00\x00\x00' | { exec 6<>/dev/tcp/127.0.0.1/$((base + 2)); cat >&6; exec 6>&-; }
kill -0 "$nm_hostB" && ok "garbage on hostB's port: netmsgd still running" || bad "netmsgd B died of garbage"

# A netmsgd that could not give messages from other hosts their host as sender does not start, and
# says why: a host name that cannot name a sender, or not the broker's user.
long=$(printf 'h%.0s' $(seq 70))
out=$(on hostC "$build/netmsgd/machipc-netmsgd" --insecure --name "$long" --listen 127.0.0.1:$((base + 9)) 2>&1)
[ $? = 1 ] && case $out in *"cannot name a sender"*) true ;; *) false ;; esac &&
  ok "a 70-character host name: exit 1, said" || bad "long name: $out"
refused=0
for n in 0 x 1000001; do
  out=$(on hostC "$build/netmsgd/machipc-netmsgd" --insecure --peer-rights $n --listen 127.0.0.1:$((base + 9)) 2>&1)
  [ $? = 2 ] && case $out in *"--peer-rights: 1 to 1000000, not $n"*) refused=$((refused + 1)) ;; esac
done
[ $refused = 3 ] && ok "--peer-rights 0, x, 1000001: usage errors (exit 2), said" || bad "--peer-rights: $out"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  start_ready broker_other "$build/kernel/machipcd" -q -s "$work/other.sock" --allow-group=65534
  chmod 755 "$work"
  out=$(MACHIPC_SOCKET=$work/other.sock setpriv --reuid 65534 --regid 65534 --clear-groups \
        "$build/netmsgd/machipc-netmsgd" --insecure --name hostE --listen 127.0.0.1:$((base + 9)) 2>&1)
  [ $? = 1 ] && case $out in *"run machipc-netmsgd as the broker's user"*) true ;; *) false ;; esac &&
    ok "as another user than the broker's: exit 1, said" || bad "other user: $out"
  kill "$broker_other"
else
  echo "SKIP  netmsgd as another user (needs root and setpriv)"
fi
# An authenticated peer (hostD, a good certificate) that says HELLO, then frames that make no
# sense: NM_DATA no message announced; an NM_MSG announcing a 20 KiB region, then 24 KiB of data.
hello='\x0b\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x05\x00hostD'
bare_peer() { # bare_peer NAME: a TLS client to hostB with NAME's certificate, fed from fd 7; its pid in $sc
  mkfifo "$work/$1.in"
  timeout 30 openssl s_client -quiet -no_ign_eof -connect 127.0.0.1:$((base + 2)) -cert "$pki/$1.pem" \
    -key "$pki/$1.key" -CAfile "$pki/ca.pem" <"$work/$1.in" >/dev/null 2>&1 &
  sc=$!
  exec 7>"$work/$1.in"
}
fake_peer() { # fake_peer BYTES [OPTION]: send them as hostD over TLS, wait for hostB to close (or hang up)
  printf "$hello$1" | timeout 10 openssl s_client -quiet ${2:-} -connect 127.0.0.1:$((base + 2)) -cert "$pki/hostD.pem" \
    -key "$pki/hostD.key" -CAfile "$pki/ca.pem" >/dev/null 2>&1
}
fake_peer '\x04\x00\x00\x00\x0a\x00\x00\x00abcd'
grep -q "peer hostD: NM_DATA that no message announced" "$work/hostB.log" &&
  ok "NM_DATA no message announced: that peer closed" || bad "stray NM_DATA: $(tail -n 3 "$work/hostB.log")"
# NM_MSG: dest u64 1 (no such export: its regions are read and dropped), id, reply ref (null),
# items: one MEMORY item of one 20 KiB region; its 20 KiB follow, then a PING: nothing wrong.
msg='\x01\x00\x00\x00\x00\x00\x00\x00''\x01\x00\x00\x00''\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
msg="\x2a\x00\x00\x00\x02\x00\x00\x00$msg\x10\x00\x00\x00"'\x20\x00\x00\x00\x01\x00\x00\x00''\x00\x50\x00\x00\x00\x00\x00\x00'
data=$(head -c 20480 /dev/zero | tr '\0' 'x')
fake_peer "$msg\x00\x50\x00\x00\x0a\x00\x00\x00$data\x00\x00\x00\x00\x08\x00\x00\x00" -no_ign_eof
tail -n 1 "$work/hostB.log" | grep -q "peer hostD: connection closed" &&
  ok "the regions of a message for a dead export: read and dropped" || bad "dropped regions: $(tail -n 3 "$work/hostB.log")"
# The same with 4 KiB more data than announced.
fake_peer "$msg\x00\x60\x00\x00\x0a\x00\x00\x00$data$(head -c 4096 /dev/zero | tr '\0' 'y')"
grep -q "peer hostD: NM_DATA beyond the regions its message announced" "$work/hostB.log" &&
  ok "more NM_DATA than the message announced: that peer closed" || bad "too much NM_DATA: $(tail -n 3 "$work/hostB.log")"
# 66 regions in one message (two items of 33): more than a message here can carry (64).
regions=$(printf '\\x00%.0s' $(seq 264))
fake_peer "\x3a\x02\x00\x00\x02\x00\x00\x00"'\x01\x00\x00\x00\x00\x00\x00\x00''\x01\x00\x00\x00'"$(printf '\\x00%.0s' $(seq 10))"'\x20\x02\x00\x00'"\x20\x00\x00\x00\x21\x00\x00\x00$regions\x20\x00\x00\x00\x21\x00\x00\x00$regions"
[ "$(grep -c "peer hostD: malformed NM_MSG" "$work/hostB.log")" = 1 ] && kill -0 "$nm_hostB" &&
  ok "66 regions in one message: that peer closed" || bad "66 regions: $(grep "peer hostD" "$work/hostB.log" | tail -n 2)"
# A right of another kind than its item's: a send-once ref in an item of send rights.
bad_item='\x01\x00\x00\x00\x00\x00\x00\x00''\x01\x00\x00\x00''\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00''\x12\x00\x00\x00'
bad_item="$bad_item"'\x11\x00\x00\x00\x01\x00\x00\x00''\x02\x00\x05\x00\x00\x00\x00\x00\x00\x00'
fake_peer "\x2c\x00\x00\x00\x02\x00\x00\x00$bad_item"
[ "$(grep -c "peer hostD: malformed NM_MSG" "$work/hostB.log")" = 2 ] &&
  ok "a send-once right in an item of send rights: that peer closed" || bad "right of another kind: $(tail -n 3 "$work/hostB.log")"
# A peer that goes away in the middle of a large region (its pages being made): the message is
# dropped, and nothing hangs.  hostD looks nm-b up (export 1), sends it 1 MiB of a 64 MiB region.
bare_peer hostD
printf "$hello"'\x0a\x00\x00\x00\x05\x00\x00\x00\x01\x00\x00\x00\x04\x00nm-b' >&7
exported=no
for _ in $(seq 150); do   # until hostB has exported nm-b to hostD
  on hostB "$build/clients/machipcctl/machipcctl" proxies 2>/dev/null | grep -Eq '^hostD +hostD +yes +1$' &&
    { exported=yes; break; }
  sleep 0.1
done
[ $exported = yes ] && ok "a look-up from a bare TLS peer: nm-b exported to it" || bad "hostD's look-up"

msg='\x01\x00\x00\x00\x00\x00\x00\x00''\x01\x00\x00\x00''\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
printf "\x2a\x00\x00\x00\x02\x00\x00\x00$msg"'\x10\x00\x00\x00\x20\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00' >&7
printf '\x00\x00\x10\x00\x0a\x00\x00\x00' >&7
head -c 1048576 /dev/zero >&7
exec 7>&-
wait $sc
grep "peer hostD" "$work/hostB.log" | tail -n 1 | grep -q "connection closed" &&
  ok "a peer gone in the middle of a 64 MiB region: dropped" || bad "half a region: $(grep "peer hostD" "$work/hostB.log" | tail -n 3)"
# Look-ups waiting for a peer's answer are bounded: hostF (a bare TLS peer) never answers; of
# 300 at once from a task on hostB, 44 are refused at once, and the 256 that wait end when it goes.
bare_peer hostF
printf "${hello/hostD/hostF}" >&7
until grep -q "peer hostF: connected" "$work/hostB.log"; do kill -0 $sc 2>/dev/null || break; read -r -t 0.05 <> <(:) || true; done
on hostB "$build/tests/netmsg/nm-task" lookups hostF 300 >"$work/lookups.out" 2>&1 &
lk=$!
while ! grep -q "refused at once" "$work/lookups.out"; do kill -0 $lk 2>/dev/null || break; read -r -t 0.05 <> <(:) || true; done
out=$(cat "$work/lookups.out")
exec 7>&-
kill $sc 2>/dev/null   # its connection closes: hostF is gone
wait $sc
[ "$out" = "lookups: 44 refused at once" ] && ok "look-ups waiting for one peer: 256 at most, the rest refused (KERN_RESOURCE_SHORTAGE)" ||
  bad "look-ups bound: $out"
wait $lk && ok "and the 256 waiting end when that peer goes ($(tail -n 1 "$work/lookups.out"))" ||
  bad "waiting look-ups: $(cat "$work/lookups.out")"
# Credit holds on the receiving side too: hostG (a bare TLS peer) looks up nm-b-stuck (nobody
# reads it, backlog 4) and sends 85 messages without waiting for credit (16, and 64 a netmsgd may
# have had handed ahead when it ran out): at most 4 can have been delivered and credited back,
# so hostB must close it rather than queue the rest.
bare_peer hostG
printf "${hello/hostD/hostG}"'\x10\x00\x00\x00\x05\x00\x00\x00\x01\x00\x00\x00\x0a\x00nm-b-stuck' >&7
for _ in $(seq 150); do
  on hostB "$build/clients/machipcctl/machipcctl" proxies 2>/dev/null | grep -Eq '^hostG +hostG +yes +1$' && break
  sleep 0.1
done
small='\x1a\x00\x00\x00\x02\x00\x00\x00''\x01\x00\x00\x00\x00\x00\x00\x00''\x01\x00\x00\x00'
small="$small"'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00''\x00\x00\x00\x00'
for _ in $(seq 85); do printf "$small"; done >&7
for _ in $(seq 100); do grep -q "peer hostG: more messages" "$work/hostB.log" && break; sleep 0.1; done
exec 7>&-
kill $sc 2>/dev/null
wait $sc
grep -q "peer hostG: more messages for an export than its credit" "$work/hostB.log" &&
  ok "a peer sending past its credit is closed, not queued for" || bad "credit: $(grep "peer hostG" "$work/hostB.log")"
# A reply right sent home unused, in a message to an export that does not exist: hostH (a TLS
# peer in Python) answers a look-up from a task on hostB, gets that task's request, and sends its
# reply right back to hostB with a message nobody can take.  The right goes back to the task,
# whose msg_rpc() says its server died rather than waiting out its timeout.
on hostB "$build/tests/netmsg/nm-task" noreply hostH nothing >"$work/noreply.out" 2>&1 &
rh=$!
python3 "$(dirname "$0")/reply-home.py" 127.0.0.1:$((base + 2)) hostH "$pki/hostH.pem" "$pki/hostH.key" \
  "$pki/ca.pem" >>"$work/reply-home.out" 2>&1
wait $rh && ok "a reply right sent home unused: the caller hears its server died ($(cat "$work/noreply.out"))" ||
  bad "reply home: $(cat "$work/noreply.out" "$work/reply-home.out")"
# A release crossing a new reference: hostI (Python) looks nm-b up twice and releases the export
# saying it saw one reference, before the second answer.  The export lives on for the second.
out=$(python3 "$(dirname "$0")/release-race.py" 127.0.0.1:$((base + 2)) hostI "$pki/hostI.pem" "$pki/hostI.key" \
  "$pki/ca.pem" 2>&1)
case $out in *"kept, the request answered") ok "a release crossing a new reference keeps the export ($out)" ;;
  *) bad "release race: $out" ;; esac
kill -0 "$nm_hostB" && ok "hostB's netmsgd still running after all that" || bad "netmsgd B died of bad frames"
out=$(on hostA "$build/clients/echo/machipc-echo" -w 15000 -H hostB echo "still serving" 2>&1)
[ "$out" = "echo: still serving" ] && ok "and still serving" || bad "after garbage: $out"

# 5b. Backlog holds end to end: a port on hostB nobody reads (backlog 4) fills, then the proxy's
# credit runs out, then the proxy's own queue; a sender on hostA then waits and times out as
# for a full local port.  Nothing in between queues without bound: at most the port's 4, 16 in
# flight, the proxy's 8 and what netmsgd's armed set holds ahead of it (64).
out=$(on hostA "$build/tests/netmsg/nm-task" backlog hostB nm-b-stuck 300 2>&1)
sent=$(echo "$out" | sed -n 's/^backlog: \([0-9]*\) of 300 sent, then send: timed out.*/\1/p')
if [ -n "$sent" ] && [ "$sent" -ge 12 ] && [ "$sent" -le 100 ]; then
  ok "a full remote port stops the sender: $sent messages accepted, then SEND_TIMED_OUT"
else
  bad "backlog: $out"; grep -v "not introduced" "$work/hostB.log" | tail -n 30
fi
out=$(on hostA "$build/clients/echo/machipc-echo" -w 15000 -H hostB echo "others unaffected" 2>&1)
[ "$out" = "echo: others unaffected" ] && ok "meanwhile other ports on hostB are served" || bad "after backlog: $out"

# 7. A host killed: every proxy for its ports becomes a dead name, with the notification, in time.
on hostA "$build/tests/netmsg/nm-task" watch hostB nm-b >"$work/watch.out" 2>&1 &
watch=$!
while ! grep -q watching "$work/watch.out"; do kill -0 $watch 2>/dev/null || break; read -r -t 0.05 <> <(:) || true; done
kill -KILL "$nm_hostB"
wait "$watch"; st=$?
out=$(cat "$work/watch.out")
[ $st -eq 0 ] && ok "hostB's netmsgd killed: hostA's proxy is a dead name (${out##*$'\n'})" || bad "watch: $out"
out=$(on hostA "$build/clients/echo/machipc-echo" -w 0 -H hostB echo x 2>&1)
case $out in *"host not found"*) ok "and hostB is unknown until it is back" ;; *) bad "after kill: $out" ;; esac

# 8. The others stop cleanly on SIGTERM (under the sanitizers: without a leak).
for h in hostA hostC hostE mallory; do
  pid=$(eval echo "\$nm_$h")
  kill -TERM "$pid"
  wait "$pid" && ok "netmsgd of $h stops cleanly" || bad "netmsgd of $h exited $?"
done

[ $fail -eq 0 ] && echo "cross-host tests (loopback 127.0.0.1, TLS): ok"
exit $fail
