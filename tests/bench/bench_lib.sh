# Shared by the benchmark scripts of tests/bench (sourced): ports, RSS, wrk runs, the public
# form's request script, the 660-start-up portfolio. Expects WORK (a temp dir) and SECS.

# Waits (60 s at most) until the gateway at URL says every service is up; else shows the logs
# in DIR and exits.
wait_ready() {  # URL DIR WHAT
  local v
  for _ in $(seq 1 240); do
    v=$(curl -fsS "$1/readyz?verbose" 2> /dev/null || true)
    [[ -n "$v" && "$v" != *DOWN* ]] && return 0
    sleep 0.25
  done
  echo "bench: $3 not up: $(curl -sS "$1/readyz?verbose")" >&2
  tail -n 5 "$2"/*.log >&2
  exit 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# wrk's summary -> "rps p50_ms p99_ms non2xx"
wrk_run() {  # conns script url; wrk's own output goes to stderr as well
  local c=$1 script=$2 url=$3 t=2 out="$WORK/wrk.out"
  (( c < 2 )) && t=1
  wrk -t$t -c"$c" -d"${SECS}s" --latency -s "$script" "$url" > "$out" 2>&1 || true
  cat "$out" >&2
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ {rps=$2} / 50%/ {p50=ms($2)} / 99%/ {p99=ms($2)} /Non-2xx/ {bad=$5}
    END {printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad+0}' "$out"
}

# The public form's wrk script: each answer from its own client (its own /24), as citizens.
write_form_lua() {  # FILE
cat > "$1" <<'LUA'
local n, tid = 0, 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init() tid = wrk.thread:get("tid"); math.randomseed(tid * 7919) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  -- Each answer from its own client (its own /24): distinct rate-limit keys, as real citizens.
  wrk.headers["X-Forwarded-For"] = string.format("%d.%d.%d.%d", 11 + tid, math.random(0, 255), math.random(0, 255), 1)
  return wrk.format(nil, nil, nil, '{"satisfaction":"SATISFACTION_GOOD","nps":9,"verbatim":"Rapide et clair","idempotency_key":"' .. tid .. '-' .. n .. '-' .. math.random(1e9) .. '"}')
end
LUA
}

# The real portfolio size (beta.gouv.fr has 659): 660 start-ups, 60 of them in construction
# (taking feedback), as JSON lines for `pepctl import portfolio`.
write_portfolio() {  # FILE
python3 - "$1" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(660):
        phases = [{"name": "investigation", "start": "2024-01-01", **({"end": "2024-06-01"} if i < 60 else {})}]
        if i < 60:
            phases.append({"name": "construction", "start": "2024-06-01"})
        f.write(json.dumps({"slug": f"produit-{i:03d}", "title": f"Produit {i}", "mission": "Un service public numérique",
                            "incubator": "lab06", "sponsors": ["cd06"], "phases": phases,
                            "events": [{"name": "committee", "date": "2024-05-20"}]}) + "\n")
PY
}

# The platform on free ports in a temp dir (WORK): a broker, pep-ideas, -incubation, -feedback,
# -audit, -notify and the gateway (before stop 39 pep-notify was missing: the gateway never
# became ready and gateway_bench.sh stopped there), rate limits lifted; sets WORK, PIDS, KEY, GRPC[svc], HTTP, GW_PID, URL,
# TOKEN (a coordinator's), BROKERS and GHZ; stops only what it started (by pid) on exit.
# Installs wrk (Debian) and ghz (Go module proxy) when missing. Extra arguments: build targets.
# CONSOLE_DIR, when set, is the gateway's --console_dir (a copy with a file of the bench's own).
start_platform() {
  command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
  GO=$(command -v go || echo /usr/local/go/bin/go)
  if [[ ! -x "$TOOLS_DIR/ghz" ]]; then
    echo "bench: building ghz v0.120.0 with the Go module proxy" >&2
    GOBIN="$TOOLS_DIR" GOFLAGS=-mod=mod "$GO" install github.com/bojand/ghz/cmd/ghz@v0.120.0 >&2
  fi
  GHZ="$TOOLS_DIR/ghz"
  bash "$ROOT/deploy/local/lib/kafka.sh" fetch
  bash "$ROOT/deploy/local/lib/build.sh" "$BUILD_DIR" pep-ideas pep-incubation pep-feedback pep-audit \
    pep-notify pep-gateway pepctl pep-kafka-topics "$@"

  WORK="$(mktemp -d /tmp/pep-gateway-bench.XXXXXX)"
  PIDS=()
  cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
    bash "$ROOT/deploy/local/lib/kafka.sh" stop --dir "$WORK/kafka" > /dev/null 2>&1 || true
    rm -rf "$WORK"
  }
  trap cleanup EXIT

  KPORT=$(free_port); KCPORT=$(free_port)
  bash "$ROOT/deploy/local/lib/kafka.sh" start --dir "$WORK/kafka" --port "$KPORT" --controller-port "$KCPORT" >&2
  BROKERS="127.0.0.1:$KPORT"
  "$BUILD_DIR/libs/events/pep-kafka-topics" "$BROKERS" > /dev/null
  KEY="bench-gateway-key-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  declare -gA GRPC
  for svc in ideas incubation feedback audit; do
    GRPC[$svc]=$(free_port)
    extra=()
    [[ $svc == feedback ]] && extra=(--rate_limit_per_minute 0)
    [[ $svc == ideas ]] && extra=(--comments_per_minute 0)
    [[ $svc == audit ]] && extra=(--ledger_signing_key_file "$WORK/ledger.key" --ledger_create_key)
    "$BUILD_DIR/services/$svc/pep-$svc" --grpc_port "${GRPC[$svc]}" --metrics_port 0 \
      --data_dir "$WORK/$svc" --kafka_brokers "$BROKERS" --gateway_key "$KEY" "${extra[@]}" \
      > "$WORK/$svc.log" 2>&1 &
    PIDS+=($!)
  done
  # pep-notify (the gateway waits for it): its relay unreachable, e-mails wait and retry.
  GRPC[notify]=$(free_port)
  "$BUILD_DIR/services/notify/pep-notify" --grpc_port "${GRPC[notify]}" --metrics_port 0 \
    --data_dir "$WORK/notify" --kafka_brokers "$BROKERS" --gateway_key "$KEY" \
    --ideas_addr "127.0.0.1:${GRPC[ideas]}" --feedback_addr "127.0.0.1:${GRPC[feedback]}" \
    --smtp_url smtp://127.0.0.1:1 --digest_hour=-1 > "$WORK/notify.log" 2>&1 &
  PIDS+=($!)
  HTTP=$(free_port)
  "$BUILD_DIR/services/gateway/pep-gateway" --http_port "$HTTP" --metrics_port 0 --data_dir "$WORK/gateway" \
    --ideas_addr "127.0.0.1:${GRPC[ideas]}" --incubation_addr "127.0.0.1:${GRPC[incubation]}" \
    --feedback_addr "127.0.0.1:${GRPC[feedback]}" --audit_addr "127.0.0.1:${GRPC[audit]}" \
    --notify_addr "127.0.0.1:${GRPC[notify]}" --kafka_brokers "$BROKERS" \
    --gateway_key "$KEY" --bootstrap_token_file "$WORK/token" --trusted_proxies 127.0.0.1/32 \
    ${CONSOLE_DIR:+--console_dir "$CONSOLE_DIR"} > "$WORK/gateway.log" 2>&1 &
  GW_PID=$!
  PIDS+=($GW_PID)
  URL="http://127.0.0.1:$HTTP"
  wait_ready "$URL" "$WORK" services
  TOKEN=$(cat "$WORK/token")
}
