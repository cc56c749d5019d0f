#!/bin/sh
# generator.sh MIG SRC_DIR [--update] - machipc-mig's own tests:
#  - errors/*.defs: each stops with exit status 1 and the message its first
#    line expects ("/* expect: LINE:COL: TEXT */"), at that place, and writes
#    no file;
#  - grammar/*.defs: the routines and ids -list prints are those of the .list
#    beside it, and the code written compiles warning-free;
#  - golden/*.defs: the four files written are those kept beside it
#    (--update writes them again);
#  - options and usage errors; and no truncation of a valid file crashes it.
set -u
mig=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
update=${3:-}
here="$src/tests/mig"
inc="-I$src/lib/include"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# Broken input: the message, where it belongs; nothing written.
n=0
for f in "$here"/errors/*.defs; do
  n=$((n + 1))
  b=$(basename "$f")
  want=$(sed -n '1s|^/\* expect: \(.*\) \*/$|\1|p' "$f")
  [ -n "$want" ] || { fail "$b: no expect line"; continue; }
  rm -rf "$tmp/out" && mkdir "$tmp/out"
  (cd "$tmp/out" && "$mig" $inc "$f" >/dev/null 2>"$tmp/err")
  rc=$?
  [ $rc -eq 1 ] || fail "$b: exit status $rc, expected 1"
  case "$want" in
    [0-9]*:[0-9]*:*) loc=${want%%: *}; text=${want#*: }; prefix="$f:$loc: error: " ;;
    *) text=$want; prefix="$f:" ;;
  esac
  if ! grep -F -q -- "$prefix" "$tmp/err" || ! grep -F -q -- "$text" "$tmp/err"; then
    fail "$b: expected \"$prefix$text\", got:"
    sed 's/^/  /' "$tmp/err"
  fi
  [ -z "$(ls -A "$tmp/out")" ] || fail "$b: files written despite the error: $(ls "$tmp/out")"
done
echo "broken inputs: $n"

# Good input: ids and order, and code that compiles.
n=0
for f in "$here"/grammar/*.defs; do
  n=$((n + 1))
  b=$(basename "$f" .defs)
  if ! "$mig" $inc -list "$f" >"$tmp/list" 2>"$tmp/err"; then
    fail "$b: machipc-mig -list failed:"
    cat "$tmp/err"
    continue
  fi
  diff -u "$here/grammar/$b.list" "$tmp/list" || fail "$b: -list differs from $b.list"
  rm -rf "$tmp/g" && mkdir "$tmp/g"
  if (cd "$tmp/g" && "$mig" $inc "$f" 2>"$tmp/err"); then
    for c in "$tmp"/g/*.c; do
      ${CC:-cc} -std=c11 -pedantic -Wall -Wextra -Werror -c -I"$tmp/g" -I"$here/grammar" $inc "$c" -o "$c.o" 2>"$tmp/err" ||
        { fail "$b: $(basename "$c") does not compile:"; head -n 20 "$tmp/err"; }
    done
  else
    fail "$b: machipc-mig failed:"
    cat "$tmp/err"
  fi
done
echo "grammar files: $n"

# Golden output: exactly the kept files (the version in the banner aside).
for f in "$here"/golden/*.defs; do
  b=$(basename "$f" .defs)
  rm -rf "$tmp/o" && mkdir "$tmp/o"
  (cd "$tmp/o" && "$mig" $inc "$f") || { fail "$b: machipc-mig failed"; continue; }
  for out in "$tmp"/o/*; do
    sed -i 's/written by machipc-mig [0-9][0-9.]*[0-9]/written by machipc-mig VERSION/' "$out"
    if [ "$update" = --update ]; then
      cp "$out" "$here/golden/"
    elif ! diff -u "$here/golden/$(basename "$out")" "$out"; then
      fail "$b: $(basename "$out") differs from the kept one (sh tests/mig/generator.sh MIG SRC --update, then review)"
    fi
  done
  for c in "$tmp"/o/*.c; do
    ${CC:-cc} -std=c11 -pedantic -Wall -Wextra -Werror -c -I"$tmp/o" $inc "$c" -o "$c.o" || fail "$b: $(basename "$c") does not compile"
  done
  # The headers serve C++ callers too.
  if command -v c++ >/dev/null 2>&1; then
    for h in "$tmp"/o/*.h; do
      printf '#include "%s"\n' "$h" >"$tmp/h.cc"
      c++ -Wall -Wextra -Werror -fsyntax-only $inc "$tmp/h.cc" || fail "$b: $(basename "$h") does not compile as C++"
    done
  fi
done

# Options.
"$mig" --help | grep -q '^Usage: machipc-mig' || fail "--help"
"$mig" --version | grep -q '^machipc-mig [0-9]' || fail "--version"
"$mig" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no input: expected exit status 2"
"$mig" -bogus x.defs >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] && grep -q 'unknown option -bogus' "$tmp/err" || fail "unknown option"
"$mig" -user >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] && grep -q 'needs a file name' "$tmp/err" || fail "-user without a file"
"$mig" a.defs b.defs >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] && grep -q 'one .defs file at a time' "$tmp/err" || fail "two inputs"
"$mig" "$tmp/none.defs" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] && grep -q 'none.defs: No such file' "$tmp/err" || fail "missing input"
printf '#error broken on purpose\n' >"$tmp/cpp.defs"
"$mig" "$tmp/cpp.defs" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] && grep -q 'the C preprocessor failed' "$tmp/err" || fail "preprocessor failure"
CC=/nonexistent/cc "$mig" "$here/golden/tiny.defs" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] && grep -q 'cannot run the C preprocessor' "$tmp/err" || fail "no preprocessor"
# -D reaches the preprocessor; files go where the options say.
printf 'subsystem d BASE;\n#include <machipc/std_types.defs>\nroutine r(s : mach_port_t);\n' >"$tmp/d.defs"
"$mig" $inc -DBASE=4242 -user "$tmp/u.c" -header "$tmp/u.h" -server "$tmp/s.c" -sheader "$tmp/s.h" "$tmp/d.defs" &&
  grep -q 'msg_id = 4242;' "$tmp/u.c" && grep -q '#include "u.h"' "$tmp/u.c" && grep -q '#include "s.h"' "$tmp/s.c" ||
  fail "-D and the output options"

# Every truncation of a valid file: an error or code, never a crash.
f="$here/grammar/kinds.defs"
size=$(wc -c <"$f")
i=0 crashes=0
while [ $i -lt "$size" ]; do
  head -c $i "$f" >"$tmp/cut.defs"
  (cd "$tmp" && "$mig" -I"$here/grammar" $inc -list cut.defs >/dev/null 2>&1)
  rc=$?
  if [ $rc -gt 1 ]; then
    fail "truncated to $i bytes: exit status $rc"
    crashes=$((crashes + 1))
    [ $crashes -lt 3 ] || break
  fi
  i=$((i + 7))
done
echo "truncations of kinds.defs: $((size / 7 + 1)), $crashes crashed"

[ $fails -eq 0 ] && echo "machipc-mig: all checks passed"
[ $fails -eq 0 ]
