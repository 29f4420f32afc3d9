#!/usr/bin/env bash
# Installs what Pépinière needs; a no-op for what is present.
#   install-deps.sh            everything ./tests/run needs (build, broker, browser test, chart checks)
#   install-deps.sh --runtime  what ./deploy/local/up needs (build, broker, grpcurl; no test tools)
#   install-deps.sh --runtime --postgres   and the PostgreSQL server (./deploy/local/up --postgres)
set -euo pipefail
MODE=tests
WITH_POSTGRES=0
for a in "$@"; do
  [[ $a == --runtime ]] && MODE=runtime
  [[ $a == --postgres ]] && WITH_POSTGRES=1
done

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librdkafka-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libsqlite3-dev sqlite3 libssl-dev libpq-dev
  openjdk-17-jre-headless maven
  libcivetweb-dev kcat prometheus curl jq python3
  libboost1.81-dev libcurl4-openssl-dev openssl
)
TEST_PKGS=(chromium python3-yaml wrk  # the browser test; check_deploy.py; the gateway bench
           clang-14 libclang-rt-14-dev  # libFuzzer targets (tests/fuzz)
           iproute2  # ip netns: the Kafka cluster fault test's network namespaces
           postgresql  # the store tests' PostgreSQL server (tests/harness/postgres_testing.h)
           buildah debootstrap  # images_test (deploy/docker/build-images.sh, which also checks)
           python3-venv)  # openapi_fuzz_test's schemathesis (PyPI) in a venv
[[ $MODE == tests ]] && PKGS+=("${TEST_PKGS[@]}")
[[ $WITH_POSTGRES == 1 ]] && PKGS+=(postgresql)

# apt-get install, after one `apt-get update` per run (a fresh machine's lists may be empty).
APT_UPDATED=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ((APT_UPDATED == 0)); then apt-get update -qq; APT_UPDATED=1; fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi

# Node.js: the development OpenID provider (oidc-provider, set up like ProConnect) that `up` and
# the tests sign people in with, and the browser test (playwright-core 1.64 drives Debian's
# chromium and wants Node >= 20): the machine's own Node when there is one, else Debian's.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  echo "install-deps: installing nodejs npm" >&2
  apt_install nodejs npm
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
OIDC_DIR="$ROOT/deploy/local/oidc"
if [[ ! -d "$OIDC_DIR/node_modules/oidc-provider" ||
      "$OIDC_DIR/package-lock.json" -nt "$OIDC_DIR/node_modules/.package-lock.json" ]]; then
  echo "install-deps: npm ci in deploy/local/oidc (oidc-provider)" >&2
  (cd "$OIDC_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
# The console's design system (DSFR, DSFR Chart), assembled into the build by console/build.mjs.
# --ignore-scripts: DSFR's preinstall wants a project made by its own generator; we only take
# its dist/ files.
CONSOLE_DIR="$ROOT/services/gateway/console"
if [[ ! -d "$CONSOLE_DIR/node_modules/@gouvfr/dsfr" ||
      "$CONSOLE_DIR/package-lock.json" -nt "$CONSOLE_DIR/node_modules/.package-lock.json" ]]; then
  echo "install-deps: npm ci in services/gateway/console (@gouvfr/dsfr, @gouvfr/dsfr-chart)" >&2
  (cd "$CONSOLE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi
if [[ $MODE == tests ]]; then
  if (( $(node -p 'process.versions.node.split(".")[0]') < 20 )); then
    echo "install-deps: WARNING: Node $(node --version) is older than playwright-core wants (>= 20)" >&2
  fi
  BROWSER_DIR="$ROOT/tests/browser"
  if [[ ! -d "$BROWSER_DIR/node_modules/playwright-core" ||
        "$BROWSER_DIR/package-lock.json" -nt "$BROWSER_DIR/node_modules/.package-lock.json" ]]; then
    echo "install-deps: npm ci in tests/browser (playwright-core)" >&2
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  # The OpenAPI fuzzer of openapi_fuzz_test (PyPI), in a venv of the project's cache.
  ST_VENV="${PEP_CACHE_DIR:-$HOME/.cache/pepiniere}/schemathesis-4.32.5"
  if [[ ! -x "$ST_VENV/bin/schemathesis" ]]; then
    echo "install-deps: schemathesis 4.32.5 from PyPI into $ST_VENV" >&2
    python3 -m venv "$ST_VENV" >&2 && "$ST_VENV/bin/pip" install -q "schemathesis==4.32.5" >&2
  fi
fi
# The independent validator of the open data (opendata_test, and the demo's seed in `up`):
# jsonschema (PyPI) in its own venv.
JS_VENV="${PEP_CACHE_DIR:-$HOME/.cache/pepiniere}/jsonschema-4.26.0"
if ! "$JS_VENV/bin/python" -c 'import jsonschema' 2>/dev/null; then
  echo "install-deps: jsonschema 4.26.0 from PyPI into $JS_VENV" >&2
  python3 -m venv "$JS_VENV" >&2 && "$JS_VENV/bin/pip" install -q "jsonschema==4.26.0" >&2
fi

# The Debian prometheus package starts a system service on install; we run our own on free ports.
if systemctl is-active --quiet prometheus 2>/dev/null; then systemctl stop prometheus || true; fi

# Go is needed for grpcurl, helm and the manifest checker (tests/deploy/k8scheck). This
# machine kind ships Go 1.26 in /usr/local/go; bookworm's golang-go (1.19) is only a last resort
# and is too old for helm v3.22 (go.mod asks for a newer toolchain than 1.19 can fetch).
GO=$(command -v go || true)
if [[ -z "$GO" && -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; fi
if [[ -z "$GO" ]]; then echo "install-deps: installing golang-go" >&2; apt_install golang-go; GO=/usr/bin/go; fi

# helm is not packaged in bookworm: built from the Go module proxy (the chart's lint and render
# run in ./tests/run).
TOOLS_DIR="${PEP_TOOLS_DIR:-$HOME/.cache/pepiniere/bin}"
mkdir -p "$TOOLS_DIR"
if [[ $MODE == tests && ! -x "$TOOLS_DIR/helm" ]]; then
  echo "install-deps: building helm v3.22.0 with the Go module proxy" >&2
  GOBIN="$TOOLS_DIR" GOFLAGS=-mod=mod "$GO" install helm.sh/helm/v3/cmd/helm@v3.22.0 >&2
fi

# grpcurl is not packaged in bookworm: build it from the Go module proxy into a project cache.
# Only ./deploy/local/up needs it (the services' gRPC health checks).
if [[ $MODE == runtime && ! -x "$TOOLS_DIR/grpcurl" ]]; then
  echo "install-deps: building grpcurl with the Go module proxy" >&2
  GOBIN="$TOOLS_DIR" GOFLAGS=-mod=mod "$GO" install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.1 >&2
fi

# Mailpit, the SMTP server pep-notify sends to in the tests and in `up` (its web page shows the
# demo's e-mails): not packaged in bookworm, built from the Go module proxy (about 35 s).
if [[ ! -x "$TOOLS_DIR/mailpit" ]]; then
  echo "install-deps: building mailpit v1.33.1 with the Go module proxy" >&2
  GOBIN="$TOOLS_DIR" GOFLAGS=-mod=mod "$GO" install github.com/axllent/mailpit@v1.33.1 >&2
fi
