#!/bin/sh
# gnumach.sh MIG SRC_DIR - machipc-mig on every .defs file GNU Mach ships
# (Debian's gnumach-dev): each one must either generate code that compiles
# warning-free against libmachipc, or stop with a message naming why
# ("unsupported: ...", or a file of types only).  exc, bootstrap, notify and
# mach_port must compile.  Skipped (77) where gnumach-dev is not installed.
set -u
mig=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
arch=$(${CC:-cc} -print-multiarch 2>/dev/null || true)
inc=/usr/include/${arch:-x86_64-linux-gnu}
if [ ! -f "$inc/mach/exc.defs" ]; then
  echo "SKIP: GNU Mach's .defs files are not installed ($inc/mach/exc.defs; Debian package gnumach-dev)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
compiled=0 unsupported=0 typesonly=0 failed=0 total=0
must="mach/exc.defs mach/bootstrap.defs mach/notify.defs mach/mach_port.defs"
for f in $(cd "$inc" && find mach device mach_debug -name '*.defs' | sort); do
  total=$((total + 1))
  b=$(basename "$f" .defs)
  d="$tmp/$b"
  mkdir -p "$d"
  if "$mig" -I"$src/tests/mig/compat" -I"$inc" -user "$d/${b}User.c" -header "$d/$b.h" \
       -server "$d/${b}Server.c" -sheader "$d/${b}Server.h" "$inc/$f" 2>"$d/err"; then
    ok=yes
    for c in "$d/${b}User.c" "$d/${b}Server.c"; do
      if ! ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -c -I"$d" -I"$src/tests/mig/compat" \
             -I"$src/lib/include" "$c" -o "$c.o" 2>"$d/cc"; then
        echo "FAIL: $f: generated $(basename "$c") does not compile:"
        sed 's/^/  /' "$d/cc" | head -n 20
        ok=no
      fi
    done
    if [ $ok = yes ]; then
      compiled=$((compiled + 1))
      echo "compiles: $f"
    else
      failed=$((failed + 1))
    fi
  elif grep -q ': error: unsupported: ' "$d/err"; then
    unsupported=$((unsupported + 1))
    echo "unsupported: $f: $(grep -m1 ': error: unsupported: ' "$d/err" | sed 's/.*error: //')"
  elif grep -q -e 'nothing to generate: no subsystem statement' \
                -e 'no subsystem statement came before it' "$d/err"; then
    typesonly=$((typesonly + 1))
    echo "types only: $f: $(head -n1 "$d/err" | sed 's/.*error: //' | cut -c1-100)"
  else
    failed=$((failed + 1))
    echo "FAIL: $f: neither code nor a named reason:"
    sed 's/^/  /' "$d/err" | head -n 10
  fi
  case " $must " in
    *" $f "*)
      [ -f "$d/${b}Server.c.o" ] || { echo "FAIL: $f must generate compiling code"; failed=$((failed + 1)); } ;;
  esac
done
echo "GNU Mach .defs files: $total; $compiled generate compiling code, $unsupported unsupported, $typesonly types only (read through the files that include them), $failed failed"
[ "$total" -ge 25 ] || { echo "FAIL: expected at least 25 files, found $total"; exit 1; }
[ "$failed" -eq 0 ]
