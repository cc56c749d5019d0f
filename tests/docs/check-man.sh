#!/bin/sh
# check-man.sh BUILD_DIR SOURCE_DIR - the man pages: each renders with man -l without a
# warning; every symbol libmachipc exports and every code it defines is on a section 3
# page; every installed program has a page and every option it parses is on it.
set -u
build=$1
src=$2
man=$src/doc/man
fail=0
say() { echo "$*"; fail=1; }

if ! command -v scdoc >/dev/null 2>&1 || [ ! -f "$build/doc/man/machipcd.8" ]; then
  echo "SKIP: the man pages were not built (scdoc is not installed)"
  exit 77
fi

# Each page renders, and groff has nothing to say about it.
for page in "$build"/doc/man/*.[0-9]; do
  out=$(MANWIDTH=80 man --warnings -l "$page" 2>"$build/man.err")
  [ -n "$out" ] || say "$page renders as nothing"
  [ -s "$build/man.err" ] && say "$page: $(cat "$build/man.err")"
done
rm -f "$build/man.err"

# The names on a page's NAME line ("a, b, c - what they do").
names_of() { sed -n '/^# NAME/,/^# /p' "$1" | grep ' - ' | head -n1 | sed 's/ - .*//' | tr -d ' ' | tr ',' '\n'; }
all_names() { for f in "$man"/*."$1".scd; do names_of "$f"; done; }

# Every exported symbol is named by a section 3 page.
sed -n '/global:/,/local:/p' "$src/lib/libmachipc.sym" | grep -E '^\s+[a-z_]+;' | tr -d ' \t;' >"$build/man.syms"
all_names 3 >"$build/man.names3"
while read -r sym; do
  grep -qx "$sym" "$build/man.names3" || say "no man page names $sym (exported by libmachipc)"
done <"$build/man.syms"

# Every code of the public headers is on some section 3 page.
cat "$man"/*.3.scd >"$build/man.text3"
grep -hoE '^#define (KERN|SEND|RCV|NETNAME|MIG)_[A-Z_]+' "$src"/lib/include/machipc/*.h | awk '{print $2}' |
  grep -vE '^(NETNAME_MAX|NETNAME_MSG_.*|MIG_REPLY_BODY)$' | sort -u | while read -r code; do
  grep -q "$code" "$build/man.text3" || { echo "no man page mentions $code"; echo x >>"$build/man.fail"; }
done
[ -f "$build/man.fail" ] && fail=1
rm -f "$build/man.fail" "$build/man.syms" "$build/man.names3" "$build/man.text3"

# Every installed program is named by a section 1 or 8 page.
{ all_names 1; all_names 8; } >"$build/man.names18"
for mb in "$src"/kernel/meson.build "$src"/servers/*/meson.build "$src"/clients/*/meson.build "$src"/mig/meson.build; do
  grep -oE "executable\('[a-z-]+'" "$mb" | sed "s/executable('//; s/'//"
done | sort -u | while read -r prog; do
  grep -qx "$prog" "$build/man.names18" || { echo "no man page names the program $prog"; echo x >>"$build/man.fail"; }
done
[ -f "$build/man.fail" ] && fail=1
rm -f "$build/man.fail" "$build/man.names18"

# Every option a program parses is on its page: long options from its struct option
# tables, short ones from its getopt strings.
options_of() {
  cat "$@" | grep -oE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' | sed -E 's/\{ *"([^"]*)".*/--\1/'
  cat "$@" | grep -oE 'getopt(_long)?\(argc, argv, "[^"]*"' | sed -E 's/.*"([^"]*)"/\1/' | tr -d ':+' |
    fold -w1 | sed 's/^/-/'
}
check_options() { # PAGE SOURCES...
  page=$man/$1
  shift
  for opt in $(options_of "$@" | sort -u); do
    grep -qe "$opt\b" "$page" || { echo "$(basename "$page"): option $opt of $(basename "$1") is not documented"; echo x >>"$build/man.fail"; }
  done
}
check_options machipcd.8.scd "$src/kernel/main.c"
check_options machipc-nameserver.8.scd "$src/servers/nameserver/nameserver.c"
check_options machipcctl.1.scd "$src"/clients/machipcctl/*.c
check_options machipc-bench.1.scd "$src/clients/bench/bench.c"
check_options machipc-echo.1.scd "$src/servers/echo/echo-server.c" "$src/clients/echo/echo-client.c"
for demo in ownership one-receiver large-transfer prodcons loop-demo; do
  check_options machipc-demos.1.scd "$src"/clients/$demo/*.c
done
# machipc-mig parses its own (MIG's single-dash options).
for opt in $(grep -oE '"-[-a-zA-Z]+"' "$src/mig/main.c" | tr -d '"' | sort -u); do
  grep -qe "$opt" "$man/machipc-mig.1.scd" || { echo "machipc-mig.1.scd: option $opt is not documented"; echo x >>"$build/man.fail"; }
done
[ -f "$build/man.fail" ] && fail=1
rm -f "$build/man.fail"

[ $fail -eq 0 ] && echo "man pages: ok"
exit $fail
