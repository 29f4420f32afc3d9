#!/usr/bin/env bash
# Builds the five images from their Dockerfiles with buildah, without a container runtime
# (which this kind of machine cannot run), and starts each binary from its image to see it serve.
#   - the base: Debian bookworm made with `debootstrap --variant=minbase` from Debian's mirror and
#     committed as docker.io/library/debian:bookworm-slim in buildah's local storage (only when
#     missing: no registry is reachable here, so `--pull=never` takes it from there);
#   - `buildah bud --isolation chroot` of services/<svc>/Dockerfile for each image (each
#     Dockerfile has its own build stage, compiling the binaries that image needs);
#   - a Kafka broker of its own on free ports, then each image's binary run with `buildah run
#     --isolation chroot` (the host's network; bound to 127.0.0.1 on free ports), the services
#     requiring a gateway key as in production: each service must answer grpc.health.v1
#     SERVING, and the gateway, started last before the four of them, /readyz 200;
#   - a table: image, size, build time, health.
# Stops only what it started (by pid); removes its working containers. Not part of ./tests/run
# (about 8 minutes, most of it compiling); run it by hand:
#   deploy/docker/build-images.sh [svc ...]      (default: ideas incubation feedback audit gateway)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SERVICES=("$@")
((${#SERVICES[@]})) || SERVICES=(ideas incubation feedback audit gateway)
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
  mirror=$(grep -rhoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2> /dev/null | head -1)
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

declare -A SIZE BUILT HEALTH ADDR
failed=0
for svc in "${SERVICES[@]}"; do
  image="localhost/pepiniere/$svc:$TAG"
  start=$(date +%s)
  if ! buildah bud --isolation chroot --pull=never "${BUD_MOUNTS[@]}" -f "services/$svc/Dockerfile" -t "$image" . \
      > "$WORK/bud-$svc.log" 2>&1; then
    echo "images: $svc did not build; the end of its log:" >&2
    tail -30 "$WORK/bud-$svc.log" >&2
    HEALTH[$svc]="BUILD FAILED"; failed=1; continue
  fi
  BUILT[$svc]=$(( $(date +%s) - start ))
  SIZE[$svc]=$(buildah images --format '{{.Size}}' "$image" 2> /dev/null | head -1)

  ctr=$(buildah from "$image")
  CONTAINERS+=("$ctr")
  port=$(free_port); mport=$(free_port)
  args=(--bind_address 127.0.0.1 --metrics_port "$mport" --kafka_brokers "$BROKERS")
  case $svc in
    gateway) args+=(--http_port "$port" --gateway_key "$KEY" --bootstrap_token_file /var/lib/pepiniere/token)
             for b in ideas incubation feedback audit; do
               [[ -n "${ADDR[$b]:-}" ]] && args+=("--${b}_addr" "${ADDR[$b]}")
             done ;;
    audit) args+=(--grpc_port "$port" --gateway_key "$KEY"
                  --ledger_signing_key_file /var/lib/pepiniere/ledger.key --ledger_create_key) ;;
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
      for b in ideas incubation feedback audit; do [[ -n "${ADDR[$b]:-}" ]] || probe=/healthz; done
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

echo "| image | size | build s | started from the image |"
echo "|---|---|---|---|"
for svc in "${SERVICES[@]}"; do
  echo "| pepiniere/$svc:$TAG | ${SIZE[$svc]:-} | ${BUILT[$svc]:-} | ${HEALTH[$svc]} |"
done
exit $failed
