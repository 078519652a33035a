#!/usr/bin/env bash
# On the parent instance: start the host agent, the vsock bridges and proxies, and the enclave
# (docs/operator-guide.md, "Transport" and "The image"). The parent is untrusted: it sees
# attested TLS, Noise peer links, sealed records and KMS's TLS, never a secret.
#
#   deploy/run-parent.sh [--dry-run] <settings file> <EIF>
#
# The settings file holds the node's VIGIL_* lines (docs/configuration.md); it is handed to the
# enclave on vsock port 7000 and read here for the ports, peers and KMS region. Parent-only
# settings come from the environment:
#   ENCLAVE_CID (16), ENCLAVE_CPUS (2), ENCLAVE_MEMORY_MIB (4096),
#   HOST_AGENT_DIR (/var/lib/vigil-host), HOST_AGENT_SOCKET (/run/vigil-host/agent.sock),
#   VIGIL (vigil: the CLI on the parent, for `vigil host`)
set -euo pipefail

DRY_RUN=""
if [ "${1:-}" = "--dry-run" ]; then
  DRY_RUN=1
  shift
fi
[ $# -eq 2 ] || {
  echo "usage: $0 [--dry-run] <settings file> <EIF>" >&2
  exit 2
}
SETTINGS=$1
EIF=$2
CID=${ENCLAVE_CID:-16}
HOST_AGENT_DIR=${HOST_AGENT_DIR:-/var/lib/vigil-host}
HOST_AGENT_SOCKET=${HOST_AGENT_SOCKET:-/run/vigil-host/agent.sock}
VIGIL=${VIGIL:-vigil}

setting() {
  grep -E "^$1=" "$SETTINGS" | tail -1 | cut -d= -f2- || true
}
PORT=$(setting VIGIL_PORT)
PORT=${PORT:-7400}
RAFT_PORT=$(setting VIGIL_RAFT_PORT)
RAFT_PORT=${RAFT_PORT:-7401}
REGION=$(setting VIGIL_KMS_REGION)
PEERS=$(setting VIGIL_PEERS)
[ -n "$REGION" ] || {
  echo "$SETTINGS: VIGIL_KMS_REGION is required" >&2
  exit 2
}
KMS_HOST="kms.$REGION.amazonaws.com"

PIDS=()
run() {
  if [ -n "$DRY_RUN" ]; then
    echo "$*"
  else
    "$@" &
    PIDS+=("$!")
  fi
}
stop() {
  if [ "${#PIDS[@]}" -gt 0 ]; then kill "${PIDS[@]}" 2>/dev/null || true; fi
}
trap stop EXIT

# The vsock-proxy allow-list: KMS of this region only.
ALLOWLIST=$(mktemp)
printf 'allowlist:\n- {address: %s, port: 443}\n' "$KMS_HOST" > "$ALLOWLIST"

# the host agent: the node's sealed records on this instance's disk
if [ -z "$DRY_RUN" ]; then mkdir -p "$(dirname "$HOST_AGENT_SOCKET")" "$HOST_AGENT_DIR"; fi
run "$VIGIL" host --listen "unix:$HOST_AGENT_SOCKET" --data-dir "$HOST_AGENT_DIR" --pass-aws-credentials
run socat VSOCK-LISTEN:7500,fork,reuseaddr "UNIX-CONNECT:$HOST_AGENT_SOCKET"
# KMS, through AWS's vsock-proxy and its allow-list
run vsock-proxy 8000 "$KMS_HOST" 443 --config "$ALLOWLIST"
# the node's settings, read once by the enclave at start
run socat VSOCK-LISTEN:7000,fork,reuseaddr "OPEN:$SETTINGS,rdonly"
# in: this instance's public ports into the enclave
run socat "TCP-LISTEN:$PORT,fork,reuseaddr" "VSOCK-CONNECT:$CID:$PORT"
run socat "TCP-LISTEN:$RAFT_PORT,fork,reuseaddr" "VSOCK-CONNECT:$CID:$RAFT_PORT"
# out: each peer's HTTP and Raft port (the same numbering as the image's entrypoint)
i=0
for peer in ${PEERS//,/ }; do
  address=${peer#*@}
  host=${address%:*}
  http=${address##*:}
  run socat "VSOCK-LISTEN:$((9000 + 2 * i)),fork,reuseaddr" "TCP:$host:$http"
  run socat "VSOCK-LISTEN:$((9001 + 2 * i)),fork,reuseaddr" "TCP:$host:$RAFT_PORT"
  i=$((i + 1))
done

if [ -n "$DRY_RUN" ]; then
  echo "allow-list: $(tr '\n' ' ' < "$ALLOWLIST")"
  echo "nitro-cli run-enclave --eif-path $EIF --enclave-cid $CID --cpu-count ${ENCLAVE_CPUS:-2} --memory ${ENCLAVE_MEMORY_MIB:-4096}"
  rm -f "$ALLOWLIST"
  exit 0
fi
nitro-cli run-enclave --eif-path "$EIF" --enclave-cid "$CID" \
  --cpu-count "${ENCLAVE_CPUS:-2}" --memory "${ENCLAVE_MEMORY_MIB:-4096}"
echo "enclave started (CID $CID); bridges running; Ctrl-C stops them" >&2
wait
