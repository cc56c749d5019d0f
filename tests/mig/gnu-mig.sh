#!/bin/sh
# gnu-mig.sh MIG SRC_DIR - message ids and routine order agree with GNU MIG's
# (Debian's mig-x86-64-gnu) for every GNU Mach .defs file with a subsystem:
# each routine's user-side name, request id and reply id, in order, and the
# range of ids the server's demux answers.  Skipped (77) where GNU MIG or
# GNU Mach's .defs files are not installed.
set -u
mig=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
gnu=$(command -v x86_64-gnu-mig || command -v mig || true)
arch=$(${CC:-cc} -print-multiarch 2>/dev/null || true)
inc=/usr/include/${arch:-x86_64-linux-gnu}
if [ -z "$gnu" ]; then
  echo "SKIP: GNU MIG is not installed (Debian package mig-x86-64-gnu)"
  exit 77
fi
if [ ! -f "$inc/mach/exc.defs" ]; then
  echo "SKIP: GNU Mach's .defs files are not installed ($inc/mach; Debian package gnumach-dev)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "NAME REQUEST REPLY" per routine of a user stubs file, in order (REPLY "-": none).
ours() {
  awk '/^kern_return_t [A-Za-z_0-9]+\($/ { if (name) print name, req, rep; name = substr($2, 1, length($2) - 1); req = "-"; rep = "-" }
       /migM\.Head\.msg_id = [0-9]+;/ { v = $3; sub(/;/, "", v); req = v }
       /if \(migM\.Head\.msg_id != [0-9]+\)/ { v = $4; sub(/\).*/, "", v); rep = v }
       END { if (name) print name, req, rep }' "$1"
}
theirs() {
  awk '/^mig_external kern_return_t [A-Za-z_0-9]+$/ { if (name) print name, req, rep; name = $3; req = "-"; rep = "-" }
       /InP->Head\.msgh_id = [0-9]+;/ { v = $3; sub(/;/, "", v); req = v }
       /OutP->Head\.msgh_id != [0-9]+\)/ { v = $0; sub(/.*msgh_id != /, "", v); sub(/\).*/, "", v); rep = v }
       END { if (name) print name, req, rep }' "$1"
}

n=0 bad=0 routines=0
for f in $(cd "$inc" && find mach device mach_debug -name '*.defs' | sort); do
  grep -q '^[[:space:]]*subsystem' "$inc/$f" || continue
  b=$(basename "$f" .defs)
  mkdir -p "$tmp/g/$b" "$tmp/m/$b"
  if ! (cd "$tmp/g/$b" && "$gnu" -I"$inc" "$inc/$f" >out 2>&1); then
    echo "note: GNU MIG fails on $f: skipped"
    continue
  fi
  if ! "$mig" -I"$src/tests/mig/compat" -I"$inc" -user "$tmp/m/$b/${b}User.c" -header "$tmp/m/$b/$b.h" \
         -server "$tmp/m/$b/${b}Server.c" -sheader "$tmp/m/$b/${b}Server.h" "$inc/$f"; then
    echo "FAIL: machipc-mig fails on $f"
    bad=$((bad + 1))
    continue
  fi
  n=$((n + 1))
  # GNU MIG names its files after the subsystem, not the file.
  gu=$(ls "$tmp/g/$b"/*User.c 2>/dev/null | head -n1)
  gs=$(ls "$tmp/g/$b"/*Server.c 2>/dev/null | head -n1)
  if [ -z "$gu" ] || [ -z "$gs" ]; then
    echo "FAIL: GNU MIG wrote no stubs for $f"
    bad=$((bad + 1))
    continue
  fi
  theirs "$gu" >"$tmp/theirs"
  ours "$tmp/m/$b/${b}User.c" >"$tmp/ours"
  if [ ! -s "$tmp/theirs" ] || ! diff -u "$tmp/theirs" "$tmp/ours" >"$tmp/diff"; then
    echo "FAIL: $f: routines, ids or order differ from GNU MIG's (-: GNU MIG, +: machipc-mig):"
    cat "$tmp/diff"
    bad=$((bad + 1))
    continue
  fi
  routines=$((routines + $(wc -l <"$tmp/ours")))
  # The demux's range: GNU MIG's "msgh_id > MAX) || (InP->msgh_id < BASE)".
  range=$(sed -n 's/.*msgh_id > \([0-9]*\)) || (InP->msgh_id < \([0-9]*\)).*/\2 \1/p' "$gs" | head -n1)
  base=$(sed -n 's/^#define [A-Za-z_0-9]*_MSG_ID_BASE \([0-9]*\)$/\1/p' "$tmp/m/$b/${b}Server.h")
  ids=$(sed -n 's/^#define [A-Za-z_0-9]*_MSG_IDS \([0-9]*\)$/\1/p' "$tmp/m/$b/${b}Server.h")
  if [ "$range" != "$base $((base + ids - 1))" ]; then
    echo "FAIL: $f: the server answers ids $base..$((base + ids - 1)); GNU MIG's answers ${range:-?}"
    bad=$((bad + 1))
    continue
  fi
  echo "agrees: $f ($(wc -l <"$tmp/ours") routines, ids $base..$((base + ids - 1)))"
done
echo "$n files, $routines routines compared with GNU MIG ($gnu); $bad disagree"
[ "$n" -ge 19 ] || { echo "FAIL: expected at least 19 files with a subsystem, compared $n"; exit 1; }
[ "$bad" -eq 0 ]
