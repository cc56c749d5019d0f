#!/bin/sh
# test-install.sh BUILD_DIR SOURCE_DIR [SANITIZE] - install into a scratch root, then build
# and run a program against it with pkg-config only; generate and compile stubs
# with the installed machipc-mig; check the headers compile
# alone as C99 and C++, and that the library exports exactly libmachipc.sym.
set -eu
build=$1
src=$2
# A sanitized library needs its runtime in the program too.
san=""
case "${3:-none}" in none|"") ;; *) san="-fsanitize=$3" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null
pc=$(find "$tmp/root" -name libmachipc.pc | head -n1)
[ -n "$pc" ] || { echo "libmachipc.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
libdir=$(dirname "$(find "$tmp/root" -name 'libmachipc.so' | head -n1)")

cc -std=c11 -Wall -Wextra -Werror $san $(pkg-config --cflags libmachipc) "$src/tests/abi/outside.c" \
   -o "$tmp/outside" $(pkg-config --libs libmachipc)
LD_LIBRARY_PATH="$libdir" "$tmp/outside" | grep -q 'outside: ok'

# Static linking against the installed archive works too.
cc -std=c11 $san $(pkg-config --cflags libmachipc) "$src/tests/abi/outside.c" -o "$tmp/outside-static" \
   "$libdir/libmachipc.a" -lpthread
"$tmp/outside-static" | grep -q 'outside: ok'

# pkgconf prefixes variables with the sysroot already.
inc=$(pkg-config --variable=includedir libmachipc)
for h in "$inc"/machipc/*.h; do
  printf '#include <machipc/%s>\n#include <machipc/%s>\n' "$(basename "$h")" "$(basename "$h")" >"$tmp/h.c"
  cc -std=c99 -Wall -Wextra -pedantic -Werror -I"$inc" -fsyntax-only "$tmp/h.c"
  if command -v c++ >/dev/null 2>&1; then
    c++ -x c++ -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/h.c"
  fi
done

# The installed generator, as another project's build calls it: both sides of an
# interface, compiled against the installed headers (<machipc/std_types.defs> is
# found under the installed include directory).
mig=$(pkg-config --variable=mig libmachipc)
[ -x "$mig" ] || { echo "machipc-mig is not where pkg-config says: $mig"; exit 1; }
(cd "$tmp" && "$mig" -I"$inc" "$src/interfaces/echo.defs")
for f in echoUser.c echoServer.c; do
  cc -std=c11 -Wall -Wextra -Werror $san $(pkg-config --cflags libmachipc) -c "$tmp/$f" -o "$tmp/$f.o"
done

# Exports == the version script's global list.
nm -D --defined-only "$libdir/libmachipc.so" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' | sort >"$tmp/exported"
sed -n '/global:/,/local:/p' "$src/lib/libmachipc.sym" | grep -E '^\s+[a-z_]+;' | tr -d ' \t;' | sort >"$tmp/declared"
if ! diff -u "$tmp/declared" "$tmp/exported"; then
  echo "exported symbols differ from libmachipc.sym"
  exit 1
fi
# Installed programs run where they were installed, with no LD_LIBRARY_PATH and no
# ld.so.conf entry: they find libmachipc relative to themselves (\$ORIGIN rpath).
unset LD_LIBRARY_PATH
bindir=$(dirname "$(find "$tmp/root" -path '*bin/machipcctl' -type f | head -n1)")
sbindir=$(dirname "$(find "$tmp/root" -path '*bin/machipcd' -type f | head -n1)")
"$sbindir/machipcd" --version | grep -q '^machipcd '
export MACHIPC_SOCKET="$tmp/socket"
start_ready() {
  fifo=$tmp/ready.$$
  mkfifo "$fifo"
  "$@" --ready-fd 3 3>"$fifo" &
  line=""
  read -r line <"$fifo" || true
  rm -f "$fifo"
  [ "$line" = "READY=1" ] || { echo "installed $1 did not become ready"; exit 1; }
}
start_ready "$sbindir/machipcd" -q
broker=$!
start_ready "$bindir/machipc-nameserver"
ns=$!
start_ready "$bindir/machipc-echo-server" -n installed-echo
echo_srv=$!
"$bindir/machipc-echo" -n installed-echo echo from-the-install | grep -q 'echo: from-the-install'
"$bindir/machipcctl" names | grep -q '^installed-echo '
kill -TERM $echo_srv $ns
wait $echo_srv $ns || true
kill -TERM $broker
wait $broker
# machipc-bench starts the machipcd installed beside it.
unset MACHIPC_SOCKET
"$bindir/machipc-bench" --quick --only rpc --iterations 20 2>"$tmp/bench.err" >/dev/null
grep -q "broker $sbindir/machipcd\$" "$tmp/bench.err" || { cat "$tmp/bench.err"; echo "machipc-bench did not use the installed machipcd"; exit 1; }

# What the service manager and the shell need is installed too.
for f in lib/systemd/user/machipcd.socket lib/systemd/user/machipcd.service lib/systemd/user/machipc-nameserver.service \
         lib/systemd/system/machipcd.socket lib/systemd/system/machipcd.service \
         lib/systemd/system/machipc-nameserver.service lib/sysusers.d/machipc.conf \
         share/bash-completion/completions/machipcctl share/bash-completion/completions/machipcd \
         share/bash-completion/completions/machipc-nameserver; do
  [ -n "$(find "$tmp/root" -path "*/$f" | head -n1)" ] || { echo "not installed: $f"; exit 1; }
done
# A man page for every program and every exported call, found by man itself.
if command -v scdoc >/dev/null 2>&1; then
  mandir=$(dirname "$(find "$tmp/root" -path '*/man8/machipcd.8' | head -n1)")/..
  for p in machipcd.8 machipc-nameserver.8 machipcctl.1 machipc-bench.1 machipc-echo-server.1 machipc-mig.1 \
           machipc-prodcons.1 libmachipc.3; do
    [ -e "$mandir/man${p##*.}/$p" ] || { echo "man page not installed: $p"; exit 1; }
  done
  for sym in $(sed -n '/global:/,/local:/p' "$src/lib/libmachipc.sym" | grep -E '^\s+[a-z_]+;' | tr -d ' \t;'); do
    [ -e "$mandir/man3/$sym.3" ] || { echo "no man page for $sym installed"; exit 1; }
  done
  MANPATH="$mandir" man -w msg_rpc | grep -q 'man3/msg_send.3' || { echo "man -w msg_rpc finds no page"; exit 1; }
  MANPATH="$mandir" MANWIDTH=80 man msg_rpc 2>/dev/null | grep -q 'msg_send, msg_receive, msg_rpc' ||
    { echo "man msg_rpc does not show the messages page"; exit 1; }
fi
unit=$(find "$tmp/root" -path '*/lib/systemd/user/machipcd.service' | head -n1)
grep -q "^ExecStart=.*/machipcd\$" "$unit" || { echo "machipcd.service does not start machipcd"; exit 1; }
echo "install, pkg-config, headers, machipc-mig, exports, installed programs, units and completions: ok"
