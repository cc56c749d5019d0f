#!/bin/sh
# check-docs.sh SRCDIR - the documentation says what the tree does.
#   - README's dependency list is exactly what setup.sh installs.
#   - every call libmachipc exports is in doc/api.md;
#   - every program the tree builds is in doc/api.md's table of programs.
set -eu
src=$1
fail=0

pkgs_setup=$(sed -n 's/^PACKAGES=(\(.*\))$/\1/p' "$src/setup.sh" | tr ' ' '\n' | sed '/^$/d' | sort)
pkgs_readme=$(sed -n 's/^Dependencies, all from Debian: `\([^`]*\)`.*/\1/p' "$src/README.md" | tr ' ' '\n' | sed '/^$/d' | sort)
if [ -z "$pkgs_setup" ] || [ -z "$pkgs_readme" ]; then
        echo "cannot find the package lists (setup.sh PACKAGES=(...), README 'Dependencies, all from Debian: \`...\`')"
        exit 1
fi
if [ "$pkgs_setup" != "$pkgs_readme" ]; then
        echo "README's dependencies differ from setup.sh's:"
        printf '%s\n' "$pkgs_setup" > "${TMPDIR:-/tmp}/deps.setup.$$"
        printf '%s\n' "$pkgs_readme" > "${TMPDIR:-/tmp}/deps.readme.$$"
        diff "${TMPDIR:-/tmp}/deps.setup.$$" "${TMPDIR:-/tmp}/deps.readme.$$" || true
        rm -f "${TMPDIR:-/tmp}/deps.setup.$$" "${TMPDIR:-/tmp}/deps.readme.$$"
        fail=1
fi
for sym in $(sed -n 's/^[[:space:]]*\([a-z_][a-z0-9_]*\);$/\1/p' "$src/lib/libmachipc.sym"); do
        if ! grep -q "\b$sym\b" "$src/doc/api.md"; then
                echo "doc/api.md does not document $sym (lib/libmachipc.sym exports it)"
                fail=1
        fi
done
for prog in $(cat "$src"/clients/*/meson.build "$src"/servers/*/meson.build "$src/kernel/meson.build" \
                 "$src/mig/meson.build" |
              sed -n "s/.*executable('\([^']*\)'.*/\1/p"); do
        if ! grep -q "^| \`$prog\`" "$src/doc/api.md"; then
                echo "doc/api.md's table of programs lacks $prog"
                fail=1
        fi
done
exit $fail
