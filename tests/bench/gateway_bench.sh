#!/usr/bin/env bash
# The gateway measured as users meet it (issue 12): independent load generators in their own
# processes, kept-alive connections, the same run and machine for both sides.
#   - the same read (GET /v1/startups/{id} vs IncubationService/GetStartup) and the same write (a
#     milestone push) through pep-gateway (wrk) vs direct gRPC (ghz), at 1, 16, 64, 256
#     connections: throughput, p50, p99, ratio;
#   - the console's portfolio page (50 of 660 sorted by name, and a two-word search sorted by
#     last milestone) through the gateway vs ListStartups direct, at 1 and 16 connections;
#   - the public form end to end (gateway -> pep-feedback, durable) at 64 connections, each
#     request from its own client address through the trusted-proxy header (rate limit lifted);
#   - 10,000 idle kept-alive connections held while the read runs at 64: throughput and RSS;
#   - 10x overload of the public form (640 connections): answers, refusals and RSS.
# Starts its own broker and services on free ports in a temp dir; stops only what it started
# (by pid). Installs wrk (Debian) and ghz (Go module proxy) when missing.
#   tests/bench/gateway_bench.sh [SECONDS_PER_POINT]   (default 8)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${PEP_BUILD_DIR:-$ROOT/build}"
SECS="${1:-8}"
TOOLS_DIR="${PEP_TOOLS_DIR:-$HOME/.cache/pepiniere/bin}"
mkdir -p "$TOOLS_DIR"

# shellcheck source=tests/bench/bench_lib.sh
source "$ROOT/tests/bench/bench_lib.sh"
start_platform
export PEP_URL="$URL" PEP_TOKEN="$TOKEN"
PEPCTL="$BUILD_DIR/services/gateway/pepctl"

write_portfolio "$WORK/portfolio.jsonl"
"$PEPCTL" import portfolio "$WORK/portfolio.jsonl" > /dev/null
# Reads on produit-000; writes on produit-001 (GetStartup answers with every milestone, so
# thousands of benchmark pushes would make the read benchmark measure their size).
slug_id() {
  curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/v1/startups?page_size=1000" |
    python3 -c 'import json,sys; print([x for x in json.load(sys.stdin)["startups"] if x["slug"]==sys.argv[1]][0]["id"])' "$1"
}
SID=$(slug_id produit-000)
WID=$(slug_id produit-001)
MD="{\"x-pep-gateway-key\":\"$KEY\",\"x-pep-actor\":\"bench\",\"x-pep-roles\":\"coordinator\"}"
for _ in $(seq 1 120); do  # pep-feedback learns the start-ups from Kafka
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"satisfaction":"SATISFACTION_GOOD"}' "$URL/v1/startups/$SID/feedback")
  [[ $code == 201 ]] && break
  sleep 0.5
done

# ghz's JSON -> "rps p50_ms p99_ms errors"
ghz_run() {  # conns call data
  local c=$1 call=$2 data=$3 conns=$1
  (( conns > 64 )) && conns=64
  "$GHZ" --insecure --call "$call" -d "$data" -m "$MD" -c "$c" --connections "$conns" -z "${SECS}s" \
    --format json "127.0.0.1:$4" 2> /dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
d = {p["percentage"]: p["latency"] / 1e6 for p in r.get("latencyDistribution") or []}
# The calls still in flight when -z ends fail on the closed connection of ghz ("use of closed
# network connection") or are cancelled by it: not errors of the server.
errs = sum(v for k, v in (r.get("errorDistribution") or {}).items()
           if "closed network connection" not in k and "Canceled" not in k)
print("%.0f %.2f %.2f %d" % (r["rps"], d.get(50, 0), d.get(99, 0), errs))'
}

cat > "$WORK/read.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
cat > "$WORK/write.lua" <<LUA
local n, tid = 0, 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init() tid = wrk.thread:get("tid") end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"title":"Jalon de charge","kind":"MILESTONE_KIND_TEAM","date":"2026-12-01T00:00:00Z","idempotency_key":"w' .. tid .. '-' .. n .. '-' .. math.random(1e9) .. '"}')
end
LUA
write_form_lua "$WORK/form.lua"

echo "# gateway bench: $(date -u +%FT%TZ), ${SECS}s per point, $(nproc) cores, start-up $SID"
echo "| what | conns | gateway req/s | p50 ms | p99 ms | direct gRPC req/s | p50 ms | p99 ms | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in 1 16 64 256; do
  read -r g_rps g_50 g_99 g_bad <<< "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/startups/$SID")"
  read -r d_rps d_50 d_99 d_err <<< "$(ghz_run "$c" pepiniere.incubation.v1.IncubationService/GetStartup "{\"startup_id\":\"$SID\"}" "${GRPC[incubation]}")"
  echo "| read GetStartup | $c | $g_rps | $g_50 | $g_99 | $d_rps | $d_50 | $d_99 | $(python3 -c "print('%.2f' % ($g_rps/max($d_rps,1)))") |"
  [[ $g_bad == 0 && $d_err == 0 ]] || echo "  (errors: gateway non-2xx $g_bad, ghz $d_err)"
done
for c in 1 16; do
  read -r g_rps g_50 g_99 g_bad <<< "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/startups?order_by=name&page_size=50&skip=300")"
  read -r d_rps d_50 d_99 d_err <<< "$(ghz_run "$c" pepiniere.incubation.v1.IncubationService/ListStartups '{"order_by":"name","page_size":50,"skip":300}' "${GRPC[incubation]}")"
  echo "| portfolio page: 50 of 660 by name (page 7) | $c | $g_rps | $g_50 | $g_99 | $d_rps | $d_50 | $d_99 | $(python3 -c "print('%.2f' % ($g_rps/max($d_rps,1)))") |"
  [[ $g_bad == 0 && $d_err == 0 ]] || echo "  (errors: gateway non-2xx $g_bad, ghz $d_err)"
  read -r g_rps g_50 g_99 g_bad <<< "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/startups?query=produit%2042&order_by=last_milestone_at%20desc&page_size=50")"
  read -r d_rps d_50 d_99 d_err <<< "$(ghz_run "$c" pepiniere.incubation.v1.IncubationService/ListStartups '{"query":"produit 42","order_by":"last_milestone_at desc","page_size":50}' "${GRPC[incubation]}")"
  echo "| portfolio search: 'produit 42' of 660 | $c | $g_rps | $g_50 | $g_99 | $d_rps | $d_50 | $d_99 | $(python3 -c "print('%.2f' % ($g_rps/max($d_rps,1)))") |"
  [[ $g_bad == 0 && $d_err == 0 ]] || echo "  (errors: gateway non-2xx $g_bad, ghz $d_err)"
done
for c in 1 16 64 256; do
  read -r g_rps g_50 g_99 g_bad <<< "$(wrk_run "$c" "$WORK/write.lua" "$URL/v1/startups/$WID/milestones")"
  read -r d_rps d_50 d_99 d_err <<< "$(ghz_run "$c" pepiniere.incubation.v1.IncubationService/PushMilestone "{\"startup_id\":\"$WID\",\"title\":\"Jalon de charge\",\"kind\":\"MILESTONE_KIND_TEAM\",\"date\":\"2026-12-01T00:00:00Z\",\"idempotency_key\":\"g{{.RequestNumber}}-{{.UUID}}\"}" "${GRPC[incubation]}")"
  echo "| write PushMilestone | $c | $g_rps | $g_50 | $g_99 | $d_rps | $d_50 | $d_99 | $(python3 -c "print('%.2f' % ($g_rps/max($d_rps,1)))") |"
  [[ $g_bad == 0 && $d_err == 0 ]] || echo "  (errors: gateway non-2xx $g_bad, ghz $d_err)"
done
read -r g_rps g_50 g_99 g_bad <<< "$(wrk_run 64 "$WORK/form.lua" "$URL/v1/startups/$SID/feedback")"
read -r d_rps d_50 d_99 d_err <<< "$(ghz_run 64 pepiniere.feedback.v1.FeedbackService/SubmitFeedback "{\"startup_id\":\"$SID\",\"satisfaction\":\"SATISFACTION_GOOD\",\"nps\":9,\"verbatim\":\"Rapide et clair\",\"idempotency_key\":\"{{.UUID}}\"}" "${GRPC[feedback]}")"
echo "| public form SubmitFeedback (durable) | 64 | $g_rps | $g_50 | $g_99 | $d_rps | $d_50 | $d_99 | $(python3 -c "print('%.2f' % ($g_rps/max($d_rps,1)))") |"
[[ $g_bad == 0 && $d_err == 0 ]] || echo "  (errors: gateway non-2xx $g_bad, ghz $d_err)"

# 10,000 idle kept-alive connections, held by another process, while the read runs at 64.
rss_before=$(rss_kb "$GW_PID")
python3 - "$HTTP" 10000 "$WORK/idle.ready" "$WORK/idle.stop" <<'PY' &
import os, resource, socket, sys, time
port, n, ready, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
ok = 0
for s in socks:
    if s.recv(4096).startswith(b"HTTP/1.1 200"):
        ok += 1
open(ready, "w").write(str(ok))
deadline = time.time() + 600
while not os.path.exists(stop) and time.time() < deadline:
    time.sleep(0.2)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        alive += 1
print(alive, file=open(stop + ".alive", "w"))
PY
IDLE_PID=$!
PIDS+=($IDLE_PID)
for _ in $(seq 1 600); do [[ -f "$WORK/idle.ready" ]] && break; sleep 0.1; done
held=$(cat "$WORK/idle.ready" 2> /dev/null || echo 0)
rss_idle=$(rss_kb "$GW_PID")
read -r i_rps i_50 i_99 i_bad <<< "$(wrk_run 64 "$WORK/read.lua" "$URL/v1/startups/$SID")"
rss_idle_load=$(rss_kb "$GW_PID")
touch "$WORK/idle.stop"
wait "$IDLE_PID" || true
alive=$(cat "$WORK/idle.stop.alive" 2> /dev/null || echo "?")
echo
echo "| 10k idle | value |"
echo "|---|---|"
echo "| idle connections held (answered, then kept alive) | $held (still open after the run: $alive) |"
echo "| read at 64 conns meanwhile | $i_rps req/s, p50 $i_50 ms, p99 $i_99 ms, non-2xx $i_bad |"
echo "| gateway RSS before / with 10k idle / with 10k idle + load | $((rss_before / 1024)) / $((rss_idle / 1024)) / $((rss_idle_load / 1024)) MiB |"

# 10x overload of the public form: 640 connections.
FB_PID=${PIDS[2]}
read -r o_rps o_50 o_99 o_bad <<< "$(wrk_run 640 "$WORK/form.lua" "$URL/v1/startups/$SID/feedback")"
echo
echo "| 10x overload (public form, 640 conns) | value |"
echo "|---|---|"
echo "| answers/s, p50, p99 | $o_rps, $o_50 ms, $o_99 ms |"
echo "| refused (429/503 with Retry-After) | $o_bad |"
echo "| RSS gateway / pep-feedback after | $(( $(rss_kb "$GW_PID") / 1024 )) / $(( $(rss_kb "$FB_PID") / 1024 )) MiB |"
