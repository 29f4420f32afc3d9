#!/usr/bin/env bash
# Builds the five images from deploy/docker/Dockerfile with buildah, without a container runtime
# (which this kind of machine cannot run), and starts each binary from its image to see it serve.
#   - the base: Debian bookworm made with `debootstrap --variant=minbase` from Debian's mirror and
#     committed as docker.io/library/debian:bookworm-slim in buildah's local storage (only when
#     missing: no registry is reachable here, so `--pull=never` takes it from there);
#   - `buildah bud --layers --isolation chroot`: first the shared stage "build" (every binary
#     compiled once; tagged pepiniere/build), then each image's target, which reuses that stage
#     and the shared "runtime" stage from the layer cache;
#   - a Kafka broker of its own on free ports, then each image's binary run with `buildah run
#     --isolation chroot` (the host's network; bound to 127.0.0.1 on free ports), the services
#     requiring a gateway key as in production: each service must answer grpc.health.v1
#     SERVING, and the gateway, started last before the four of them, /readyz 200;
#   - a table: image, size, build time, health; exit 1 if any image did not build or serve.
# Stops only what it started (by pid); removes its working containers and, at the end, the
# images of its own earlier runs that nothing uses any more (untagged, labelled Pépinière).
# ./tests/run runs it (ctest images_test, alone) with PEP_IMAGE_BINARIES=<its build tree>: the images
# then package the binaries that tree built and tested instead of compiling them again. By hand
# (the whole Dockerfile, compile stage included):
#   deploy/docker/build-images.sh [svc ...]      (default: ideas incubation feedback audit notify gateway)
set -euo pipefail
trap 'echo "images: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SERVICES=("$@")
((${#SERVICES[@]})) || SERVICES=(ideas incubation feedback audit notify gateway)
TAG="${PEP_IMAGE_TAG:-dev}"
GRPCURL="${PEP_TOOLS_DIR:-$HOME/.cache/pepiniere/bin}/grpcurl"

missing=()
for p in buildah debootstrap; do command -v "$p" > /dev/null || missing+=("$p"); done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
bash deploy/local/lib/install-deps.sh --runtime  # grpcurl, the broker's Java
bash deploy/local/lib/kafka.sh fetch

WORK="$(mktemp -d /tmp/pep-images.XXXXXX)"
PIDS=()
CONTAINERS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
  for c in "${CONTAINERS[@]}"; do buildah rm "$c" > /dev/null 2>&1 || true; done
  bash deploy/local/lib/kafka.sh stop --dir "$WORK/kafka" > /dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

BASE=docker.io/library/debian:bookworm-slim
if ! buildah inspect --type image "$BASE" > /dev/null 2>&1; then
  # The host's Debian mirror (a one-line "deb" entry or a deb822 "URIs:" field, not a comment).
  mirror=$(python3 - <<'PY'
import glob, re
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*")):
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        continue
    for line in lines:
        m = re.match(r"\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(https?://\S+/debian/?)(?:\s|$)", line)
        if m:
            print(m.group(1))
            raise SystemExit
PY
)
  echo "images: making $BASE with debootstrap --variant=minbase from ${mirror:-http://deb.debian.org/debian}" >&2
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "${mirror:-http://deb.debian.org/debian}" > "$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
  ctr=$(buildah from scratch)
  CONTAINERS+=("$ctr")
  buildah add "$ctr" "$WORK/rootfs.tar" / > /dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$ctr"
  buildah commit -q "$ctr" "$BASE" > /dev/null
  rm -rf "$WORK/rootfs" "$WORK/rootfs.tar"
fi

KEY="image-check-key-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"  # services behind the gateway
KPORT=$(free_port); KCPORT=$(free_port)
bash deploy/local/lib/kafka.sh start --dir "$WORK/kafka" --port "$KPORT" --controller-port "$KCPORT" >&2
BROKERS="127.0.0.1:$KPORT"

# Where the host reaches the npm registry through a TLS-inspecting proxy, the host trusts the
# proxy's CA (npm's cafile / NODE_EXTRA_CA_CERTS) and the build stage's npm must too: the host's
# bundle is mounted for the build only (it is not in any image layer).
BUD_MOUNTS=()
host_ca=$(npm config get cafile 2> /dev/null || true)
[[ -f "$host_ca" ]] || host_ca="${NODE_EXTRA_CA_CERTS:-}"
if [[ -n "$host_ca" && -f "$host_ca" ]]; then
  printf 'cafile=/run/pep-host-ca.crt\n' > "$WORK/npmrc"
  BUD_MOUNTS=(--volume "$host_ca:/run/pep-host-ca.crt:ro" --volume "$WORK/npmrc:/root/.npmrc:ro")
fi

# The build context: a copy of what the Dockerfile copies, taken once, so that every image of
# this run is built from the same sources even if the tree changes meanwhile (and the shared
# stages stay cached from one image to the next).
mkdir -p "$WORK/context"
if [[ -n "${PEP_IMAGE_BINARIES:-}" ]]; then
  # Packaging what was built and tested (ctest's images_test, CI): the stage "build" becomes the
  # binaries of that Release tree, on the same Debian bookworm and packages, so the images hold
  # exactly the binaries the other tests ran and CI does not compile everything a second time
  # (about 4 minutes of its hour). The Dockerfile from its stage "runtime" on is used unchanged.
  B="$PEP_IMAGE_BINARIES"
  for f in proto/libpep_proto.so services/ideas/pep-ideas services/incubation/pep-incubation \
           services/feedback/pep-feedback services/audit/pep-audit services/notify/pep-notify \
           services/gateway/pep-gateway services/gateway/pepctl libs/events/pep-kafka-topics; do
    [[ -f "$B/$f" ]] || { echo "images: $B/$f is missing (build the Release tree first)" >&2; exit 1; }
    mkdir -p "$WORK/context/prebuilt/$(dirname "$f")"
    cp "$B/$f" "$WORK/context/prebuilt/$f"
  done
  [[ -f "$B/console/index.html" ]] || { echo "images: $B/console is missing" >&2; exit 1; }
  cp -r "$B/console" "$WORK/context/prebuilt/console"
  { echo "FROM scratch AS build"
    echo "COPY prebuilt/ /build/"
    sed -n '/^FROM debian:bookworm-slim AS runtime/,$p' deploy/docker/Dockerfile
  } > "$WORK/Dockerfile"
  echo "images: packaging the binaries of $B (the Dockerfile's compile stage is not run)" >&2
else
  tar -C "$ROOT" --exclude=node_modules --exclude=tests/deploy/k8scheck/build \
    -cf - .dockerignore CMakeLists.txt proto libs services tests | tar -C "$WORK/context" -xf -
  cp deploy/docker/Dockerfile "$WORK/Dockerfile"
fi

# One target of deploy/docker/Dockerfile → localhost/pepiniere/<target>:TAG; its seconds in BUILT.
declare -A SIZE BUILT HEALTH ADDR
bud() {
  local target=$1 start
  start=$(date +%s)
  if ! buildah bud --layers --isolation chroot --pull=never "${BUD_MOUNTS[@]}" \
      -f "$WORK/Dockerfile" --target "$target" -t "localhost/pepiniere/$target:$TAG" "$WORK/context" \
      > "$WORK/bud-$target.log" 2>&1; then
    echo "images: $target did not build; the end of its log:" >&2
    tail -30 "$WORK/bud-$target.log" >&2
    return 1
  fi
  BUILT[$target]=$(( $(date +%s) - start ))
  SIZE[$target]=$(buildah images --format '{{.Size}}' "localhost/pepiniere/$target:$TAG" 2> /dev/null | head -1)
}
# Images of earlier runs that no tag and no other image use any more: removed, a generation at a
# time (an image's parent is left once its child goes). Only ours: they carry the vendor label.
prune_ours() {
  local ids
  for _ in 1 2 3 4 5 6 7 8; do
    ids=$(buildah images -q --filter dangling=true --filter "label=org.opencontainers.image.vendor=Pépinière" 2> /dev/null || true)
    [[ -n "$ids" ]] || return 0
    # shellcheck disable=SC2086
    buildah rmi $ids > /dev/null 2>&1 || return 0
  done
}

failed=0
if ! bud build; then
  echo "| pepiniere/build:$TAG | | | BUILD FAILED |"
  exit 1
fi
for svc in "${SERVICES[@]}"; do
  image="localhost/pepiniere/$svc:$TAG"
  if ! bud "$svc"; then HEALTH[$svc]="BUILD FAILED"; failed=1; continue; fi

  ctr=$(buildah from "$image")
  CONTAINERS+=("$ctr")
  port=$(free_port); mport=$(free_port)
  args=(--bind_address 127.0.0.1 --metrics_port "$mport" --kafka_brokers "$BROKERS")
  case $svc in
    gateway) args+=(--http_port "$port" --gateway_key "$KEY" --bootstrap_token_file /var/lib/pepiniere/token)
             for b in ideas incubation feedback audit notify; do
               [[ -n "${ADDR[$b]:-}" ]] && args+=("--${b}_addr" "${ADDR[$b]}")
             done ;;
    audit) args+=(--grpc_port "$port" --gateway_key "$KEY"
                  --ledger_signing_key_file /var/lib/pepiniere/ledger.key --ledger_create_key) ;;
    notify) args+=(--grpc_port "$port" --gateway_key "$KEY" --smtp_url smtp://127.0.0.1:1
                   --ideas_addr "${ADDR[ideas]:-}" --feedback_addr "${ADDR[feedback]:-}") ;;  # no relay here: it serves, mail waits
    *) args+=(--grpc_port "$port" --gateway_key "$KEY") ;;
  esac
  ADDR[$svc]="127.0.0.1:$port"
  entry=$(buildah inspect --type container --format '{{index .OCIv1.Config.Entrypoint 0}}' "$ctr")
  buildah run --isolation chroot "$ctr" -- "$entry" "${args[@]}" > "$WORK/run-$svc.log" 2>&1 &
  PIDS+=($!)
  HEALTH[$svc]="not serving"
  for _ in $(seq 1 120); do
    if [[ $svc == gateway ]]; then
      # Before the four services started from their images (still running): /readyz 200 once
      # it reaches all of them; alone (`build-images.sh gateway`): /healthz.
      probe=/readyz
      for b in ideas incubation feedback audit notify; do [[ -n "${ADDR[$b]:-}" ]] || probe=/healthz; done
      if curl -fsS "http://127.0.0.1:$port$probe" > /dev/null 2>&1; then HEALTH[$svc]="$probe 200"; break; fi
    elif "$GRPCURL" -plaintext -max-time 1 "127.0.0.1:$port" grpc.health.v1.Health/Check 2> /dev/null | grep -q SERVING; then
      HEALTH[$svc]="SERVING"; break
    fi
    sleep 0.5
  done
  if [[ ${HEALTH[$svc]} == "not serving" ]]; then
    failed=1
    echo "images: $svc did not serve; its log:" >&2
    tail -20 "$WORK/run-$svc.log" >&2
  fi
done

prune_ours
echo "| image | size | build s | started from the image |"
echo "|---|---|---|---|"
echo "| pepiniere/build:$TAG (the shared build stage) | ${SIZE[build]} | ${BUILT[build]} | - |"
for svc in "${SERVICES[@]}"; do
  echo "| pepiniere/$svc:$TAG | ${SIZE[$svc]:-} | ${BUILT[$svc]:-} | ${HEALTH[$svc]} |"
done
exit $failed
