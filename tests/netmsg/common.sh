# common.sh - what the cross-host tests share (sourced): results, readiness, certificates.
# The sourcing script sets $work (its scratch folder) and $pki (where certificates go).

fail=0
ok() { echo "ok    $*"; }

need() { # need BUILD TOOL...: SKIP (exit 77) without one of the tools, or without machipc-netmsgd
  local build=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
  done
  [ -x "$build/netmsgd/machipc-netmsgd" ] || { echo "SKIP: built without OpenSSL (no machipc-netmsgd)"; exit 77; }
}
bad() { echo "FAIL  $*"; fail=1; }

start_ready() { # start_ready VAR CMD... : start CMD with --ready-fd, wait for READY=1, pid in VAR
  local var=$1 fifo=$work/ready.$RANDOM line=""
  shift
  mkfifo "$fifo"
  "$@" --ready-fd 3 3>"$fifo" &
  eval "$var=$!"
  read -r -t 15 line <"$fifo" || true
  rm -f "$fifo"
  [ "$line" = "READY=1" ] || { echo "$1 did not become ready"; exit 1; }
}

ca() { # ca NAME: a CA, $pki/NAME.pem and .key
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1.key" \
    -out "$pki/$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}

cert() { # cert HOST CA: a certificate for HOST (its common name) signed by CA
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" \
    -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.pem" -CAkey "$pki/$2.key" -CAcreateserial \
    -out "$pki/$1.pem" -days 2 2>/dev/null
}
