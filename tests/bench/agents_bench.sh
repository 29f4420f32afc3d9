#!/usr/bin/env bash
# The agents' challenge at the department's scale (issue 29), measured as people meet it: one
# challenge open to all agents with 4,500 agents, 500 ideas, ~20,000 supports and 5,000 comments
# (pep-ideas-bench-load), then, through pep-gateway (wrk, kept-alive, its own process) against
# the same calls on pep-ideas direct (ghz, its own process), in the same run:
#   - the idea list page (50 ideas of the challenge, as an agent), at 1 and 16 connections;
#   - an idea page: the idea, and its thread of 10 comments, at 1 and 16 connections;
#   - supports/s: each support a new (agent, idea) pair, at 16 connections.
#   tests/bench/agents_bench.sh [SECONDS_PER_POINT]   (default 8)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${PEP_BUILD_DIR:-$ROOT/build}"
SECS="${1:-8}"
TOOLS_DIR="${PEP_TOOLS_DIR:-$HOME/.cache/pepiniere/bin}"
mkdir -p "$TOOLS_DIR"
# shellcheck source=tests/bench/bench_lib.sh
source "$ROOT/tests/bench/bench_lib.sh"
start_platform pep-ideas-bench-load

t0=$(date +%s)
"$BUILD_DIR/tests/bench/pep-ideas-bench-load" "127.0.0.1:${GRPC[ideas]}" "$KEY" > "$WORK/load.txt"
CID=$(awk '/^challenge/ {print $2}' "$WORK/load.txt")
mapfile -t IDEAS < <(awk '/^idea/ {print $2}' "$WORK/load.txt")
IID=${IDEAS[1]}  # 10 comments, ~40 supports, like every idea
echo "# agents bench: $(date -u +%FT%TZ), ${SECS}s per point, $(nproc) cores; loaded in $(( $(date +%s) - t0 )) s"

# Agents' tokens: one to read as (agent-7), 500 fresh agents to support with.
agent_token() {
  curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"role\":\"agent\",\"actor\":\"$1\",\"name\":\"bench\"}" "$URL/v1/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'
}
READER=$(agent_token agent-7)
for i in $(seq 0 499); do agent_token "supporter-$i"; done > "$WORK/supporters.txt"
cat > "$WORK/read.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $READER"
LUA
{
  echo "local tokens = {"; sed 's/.*/"&",/' "$WORK/supporters.txt"; echo "}"
  echo "local ideas = {"; printf '"%s",\n' "${IDEAS[@]}"; echo "}"
  cat <<'LUA'
local n, tid, threads = 0, 0, 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init() tid = wrk.thread:get("tid") end
wrk.method = "PUT"
request = function()
  -- thread t takes tokens t, t+2, t+4…; each (token, idea) pair once: a fresh support each time
  local k = n * 2 + tid - 1
  n = n + 1
  local token = tokens[(k % #tokens) + 1]
  local idea = ideas[(math.floor(k / #tokens) % #ideas) + 1]
  return wrk.format("PUT", "/v1/ideas/" .. idea .. "/support", {["Authorization"] = "Bearer " .. token}, "")
end
LUA
} > "$WORK/support.lua"

ghz_run() {  # conns call data port actor
  "$GHZ" --insecure --call "$2" -d "$3" -c "$1" --connections "$1" -z "${SECS}s" \
    -m "{\"x-pep-gateway-key\":\"$KEY\",\"x-pep-actor\":\"$5\",\"x-pep-roles\":\"agent\"}" \
    --format json "127.0.0.1:$4" 2> /dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
d = {p["percentage"]: p["latency"] / 1e6 for p in r.get("latencyDistribution") or []}
errs = sum(v for k, v in (r.get("errorDistribution") or {}).items()
           if "closed network connection" not in k and "Canceled" not in k)
print("%.0f %.2f %.2f %d" % (r["rps"], d.get(50, 0), d.get(99, 0), errs))'
}
row() {  # label conns gateway(4) direct(4)
  local label=$1 c=$2
  read -r g_rps g_50 g_99 g_bad <<< "$3"
  read -r d_rps d_50 d_99 d_err <<< "$4"
  echo "| $label | $c | $g_rps | $g_50 | $g_99 | $d_rps | $d_50 | $d_99 | $(python3 -c "print('%.2f' % ($g_rps/max($d_rps,1)))") |"
  [[ $g_bad == 0 && $d_err == 0 ]] || echo "  (errors: gateway non-2xx $g_bad, ghz $d_err)"
}
IDEAS_SVC=pepiniere.ideas.v1.IdeaService
echo "| what | conns | gateway req/s | p50 ms | p99 ms | direct gRPC req/s | p50 ms | p99 ms | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in 1 16; do
  row "idea list page (50 of 500, as an agent)" "$c" \
    "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/challenges/$CID/ideas?page_size=50")" \
    "$(ghz_run "$c" $IDEAS_SVC/ListIdeas "{\"challenge_id\":\"$CID\",\"page_size\":50}" "${GRPC[ideas]}" agent-7)"
  row "idea page: the idea" "$c" \
    "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/ideas/$IID")" \
    "$(ghz_run "$c" $IDEAS_SVC/GetIdea "{\"idea_id\":\"$IID\"}" "${GRPC[ideas]}" agent-7)"
  row "idea page: its 10 comments" "$c" \
    "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/ideas/$IID/comments")" \
    "$(ghz_run "$c" $IDEAS_SVC/ListComments "{\"idea_id\":\"$IID\"}" "${GRPC[ideas]}" agent-7)"
done
# Supports: through the gateway each request is a fresh (agent, idea) pair; direct, a fresh
# agent per request on one idea (ghz numbers its requests) — one transaction each either way.
row "support an idea (durable)" 16 \
  "$(wrk_run 16 "$WORK/support.lua" "$URL/")" \
  "$(ghz_run 16 $IDEAS_SVC/SupportIdea "{\"idea_id\":\"${IDEAS[2]}\"}" "${GRPC[ideas]}" 'ghz-{{.RequestNumber}}')"
