#!/usr/bin/env bash
# Builds the enclave image (EIF) of a tagged commit and prints its PCR0/1/2
# (docs/operator-guide.md, "The image"). Runs on a build machine with Docker (buildx) and
# nitro-cli; anyone can run it on the same tag and compare the measurements.
#
#   deploy/build-eif.sh <tag>                   build, write vigil-<tag>.eif, print the PCRs
#   deploy/build-eif.sh --dry-run <tag>         print the commands instead of running them
#   deploy/build-eif.sh --measurements <file>   print the PCRs of a nitro-cli build-enclave output
set -euo pipefail

usage() {
  echo "usage: $0 [--dry-run] <tag> | --measurements <nitro-cli output file>" >&2
  exit 2
}

# The three measurements from nitro-cli's JSON, and the flag a node and a client pin them with.
print_pcrs() {
  local json=$1 pcrs=() i value
  for i in 0 1 2; do
    value=$(grep -oE "\"PCR$i\": *\"[0-9a-f]{96}\"" "$json" | grep -oE '[0-9a-f]{96}' || true)
    if [ -z "$value" ]; then
      echo "no PCR$i (96 hex digits) in $json" >&2
      exit 1
    fi
    echo "PCR$i $value"
    pcrs+=("$i=$value")
  done
  local IFS=,
  echo "--expected-pcrs ${pcrs[*]}"
}

DRY_RUN=""
case "${1:-}" in
  --measurements)
    [ $# -eq 2 ] || usage
    print_pcrs "$2"
    exit 0
    ;;
  --dry-run)
    DRY_RUN=1
    shift
    ;;
esac
[ $# -eq 1 ] || usage
TAG=$1

run() {
  if [ -n "$DRY_RUN" ]; then echo "$*"; else "$@"; fi
}

cd "$(dirname "$0")/.."
if ! COMMIT=$(git rev-parse --verify --quiet "refs/tags/$TAG^{commit}"); then
  echo "no tag $TAG: the image is built from a tagged commit only" >&2
  exit 2
fi
# The commit's own time: the same timestamps in every layer at every build.
EPOCH=$(git log -1 --format=%ct "$COMMIT")
IMAGE="vigil-enclave:$TAG"
EIF="vigil-$TAG.eif"
CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT

echo "building $IMAGE from $TAG ($COMMIT), SOURCE_DATE_EPOCH=$EPOCH" >&2
# The tag's tree only: no local changes, no node_modules, no build output.
run git archive --format=tar -o "$CONTEXT/source.tar" "$COMMIT"
run tar -xf "$CONTEXT/source.tar" -C "$CONTEXT"
run docker buildx build --platform linux/amd64 \
  --build-arg "SOURCE_DATE_EPOCH=$EPOCH" \
  --output "type=docker,name=$IMAGE,rewrite-timestamp=true" \
  -f "$CONTEXT/deploy/enclave/Dockerfile" "$CONTEXT"
if [ -n "$DRY_RUN" ]; then
  echo "nitro-cli build-enclave --docker-uri $IMAGE --output-file $EIF"
  exit 0
fi
nitro-cli build-enclave --docker-uri "$IMAGE" --output-file "$EIF" > "$CONTEXT/measurements.json"
echo "wrote $EIF" >&2
print_pcrs "$CONTEXT/measurements.json"
