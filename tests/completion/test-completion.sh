#!/usr/bin/env bash
# test-completion.sh BUILD_DIR SOURCE_DIR - the bash completions of machipcctl,
# machipcd and machipc-nameserver, run by bash-completion against a real broker
# with a name server and the echo server (so that service names complete).
set -eu
build=$1
src=$2
if [ ! -r /usr/share/bash-completion/bash_completion ]; then
  echo "SKIP: bash-completion is not installed"
  exit 77
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export MACHIPC_SOCKET=$work/socket
export PATH="$build/clients/machipcctl:$PATH"

# Start "$@" with --ready-fd and wait for READY=1 (no sleeping).
start_ready() {
  local fifo=$work/ready.$RANDOM line=""
  mkfifo "$fifo"
  "$@" --ready-fd 3 3>"$fifo" &
  started=$!
  read -r -t 10 line <"$fifo" || true
  rm -f "$fifo"
  [ "$line" = "READY=1" ] || { echo "$1 did not become ready"; exit 1; }
}
start_ready "$build/kernel/machipcd" -q
start_ready "$build/servers/nameserver/machipc-nameserver"
start_ready "$build/servers/echo/machipc-echo-server" -n completed-service
echo_pid=$started

set +eu
compopt() { :; }   # outside a real completion, compopt has nothing to set
# shellcheck disable=SC1091
. /usr/share/bash-completion/bash_completion
for f in machipcctl machipcd machipc-nameserver; do
  # shellcheck disable=SC1090
  . "$src/completion/$f"
done

fail=0
# complete "WORDS..." EXPECTED: the completions of the last word must include EXPECTED.
expect() {
  local line=$1 want=$2 fn
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  fn=$(complete -p "${COMP_WORDS[0]}" | sed -E 's/.*-F ([^ ]+).*/\1/')
  COMPREPLY=()
  "$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
  local w
  for w in "${COMPREPLY[@]}"; do
    [ "$w" = "$want" ] && return 0
  done
  echo "FAIL: '$line' completes to [${COMPREPLY[*]}], without '$want'"
  fail=1
}

expect "machipcctl " names
expect "machipcctl " monitor
expect "machipcctl pro" proxies
expect "machipcctl mo" monitor
expect "machipcctl --" --json
expect "machipcctl call " completed-service
expect "machipcctl call completed-s" completed-service
expect "machipcctl call completed-service 500 st" str:
expect "machipcctl monitor --" --task
expect "machipcctl monitor --task " "$echo_pid"
expect "machipcd --log-level " debug
expect "machipcd --" --allow-group
expect "machipcd --limit task.n" task.names=
expect "machipc-nameserver --" --ready-fd
[ $fail -eq 0 ] && echo "completions: ok"
exit $fail
