#!/bin/sh
# Inside the enclave: fetch this node's settings from the parent, bridge the node's relay
# sockets to vsock with socat, then run the node on the vsock transport
# (docs/operator-guide.md, "Transport"). The parent is untrusted: the settings it sends are
# validated by the node like any flags, and the PCR policy it sends is only as good as the
# parent (docs/cluster.md section 9).
#
#   vsock port (parent, CID 3)          relay socket in $RELAY_DIR
#   7000  settings (VIGIL_* lines)       -
#   7400  <- HTTP API, from the parent   listen-http.sock
#   7401  <- Raft links, from the parent listen-raft.sock
#   7500  -> host agent                  to-host-agent-7500.sock
#   8000  -> KMS (vsock-proxy)           to-kms.<region>.amazonaws.com-443.sock
#   9000+2i, 9001+2i -> peer i's HTTP and Raft port, i = position in VIGIL_PEERS
#
# --dry-run SETTINGS_FILE prints the bridges and the node's command instead of running them.
set -eu

RELAY_DIR=${RELAY_DIR:-/run/vigil}
PARENT_CID=3
DRY_RUN=""
if [ "${1:-}" = "--dry-run" ]; then
  DRY_RUN=1
  SETTINGS=$2
else
  SETTINGS=$(mktemp)
fi

run() {
  if [ -n "$DRY_RUN" ]; then echo "$*"; else "$@" & fi
}

if [ -z "$DRY_RUN" ]; then
  mkdir -p "$RELAY_DIR" /var/lib/vigil
  chmod 0700 "$RELAY_DIR" /var/lib/vigil
  socat -u VSOCK-CONNECT:$PARENT_CID:7000 "CREATE:$SETTINGS"
fi

# Only VIGIL_NAME=value lines, values without quotes, spaces or shell characters ([] for IPv6).
if grep -qvE '^(VIGIL_[A-Z_]+=[][A-Za-z0-9@:,;=./_+-]*)?$' "$SETTINGS"; then
  echo "entrypoint: the parent's settings hold a line that is not VIGIL_NAME=value" >&2
  exit 2
fi
while IFS='=' read -r name value; do
  [ -n "$name" ] || continue
  export "$name=$value"
done < "$SETTINGS"

: "${VIGIL_PORT:=7400}" "${VIGIL_RAFT_PORT:=7401}" "${VIGIL_KMS_REGION:?VIGIL_KMS_REGION is required}"

# in: the parent forwards its public ports to these vsock ports
run socat "VSOCK-LISTEN:$VIGIL_PORT,fork,reuseaddr" "UNIX-CONNECT:$RELAY_DIR/listen-http.sock"
run socat "VSOCK-LISTEN:$VIGIL_RAFT_PORT,fork,reuseaddr" "UNIX-CONNECT:$RELAY_DIR/listen-raft.sock"
# out: the host agent, KMS, and every peer's two ports
run socat "UNIX-LISTEN:$RELAY_DIR/to-host-agent-7500.sock,fork,unlink-early" "VSOCK-CONNECT:$PARENT_CID:7500"
run socat "UNIX-LISTEN:$RELAY_DIR/to-kms.$VIGIL_KMS_REGION.amazonaws.com-443.sock,fork,unlink-early" \
  "VSOCK-CONNECT:$PARENT_CID:8000"
i=0
for peer in $(echo "${VIGIL_PEERS:-}" | tr ',' ' '); do
  address=${peer#*@}
  host=${address%:*}
  # named as the node names it (relaySocketName): no brackets, lowercase
  host=$(echo "$host" | tr -d '[]' | tr '[:upper:]' '[:lower:]')
  http=${address##*:}
  run socat "UNIX-LISTEN:$RELAY_DIR/to-$host-$http.sock,fork,unlink-early" \
    "VSOCK-CONNECT:$PARENT_CID:$((9000 + 2 * i))"
  # a peer's Raft port is the one it advertises; every node uses the same (VIGIL_RAFT_PORT)
  run socat "UNIX-LISTEN:$RELAY_DIR/to-$host-$VIGIL_RAFT_PORT.sock,fork,unlink-early" \
    "VSOCK-CONNECT:$PARENT_CID:$((9001 + 2 * i))"
  i=$((i + 1))
done

if [ -n "$DRY_RUN" ]; then
  echo "node bin/vigil.mjs cluster node --transport vsock --relay-dir $RELAY_DIR --data-dir /var/lib/vigil --storage host:unix:$RELAY_DIR/to-host-agent-7500.sock --kms-credentials host"
  exit 0
fi
cd /opt/vigil
# the node's records and the instance role's credentials come from the parent's host agent: an
# enclave has neither a disk nor an instance metadata service
exec node bin/vigil.mjs cluster node --transport vsock --relay-dir "$RELAY_DIR" \
  --data-dir /var/lib/vigil --storage "host:unix:$RELAY_DIR/to-host-agent-7500.sock" \
  --kms-credentials host
