#!/usr/bin/env bash
# The start-up in the open at the real portfolio's size (issue 30), measured as a visitor and a
# re-user meet it: 660 start-ups imported and published (every part), then, through pep-gateway
# with wrk (kept-alive, its own process, 64 connections), in the same run:
#   - a public start-up page and the open data's startups.json, cold (full answer) and
#     revalidated (If-None-Match with its ETag: 304);
#   - the gateway serving a static file of the same size (the console's file server): the baseline;
#   - the resident memory of the gateway and pep-incubation before and after.
#   tests/bench/public_bench.sh [SECONDS_PER_POINT]   (default 8)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${PEP_BUILD_DIR:-$ROOT/build}"
SECS="${1:-8}"
TOOLS_DIR="${PEP_TOOLS_DIR:-$HOME/.cache/pepiniere/bin}"
mkdir -p "$TOOLS_DIR"
STATIC="$(mktemp -d /tmp/pep-public-bench-console.XXXXXX)"
cp -r "$BUILD_DIR/console/." "$STATIC/"
export CONSOLE_DIR="$STATIC"
# shellcheck source=tests/bench/bench_lib.sh
source "$ROOT/tests/bench/bench_lib.sh"
start_platform
trap 'cleanup; rm -rf "$STATIC"' EXIT

write_portfolio "$WORK/portfolio.jsonl"
curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/x-ndjson' \
  --data-binary @"$WORK/portfolio.jsonl" "$URL/v1/imports/portfolio" > /dev/null
t0=$(date +%s.%N)
{  # one request, header and body for all; a url and an output each
  echo 'request = "PUT"'
  echo "header = \"Authorization: Bearer $TOKEN\""
  echo 'header = "Content-Type: application/json"'
  echo 'data = "{\"policy\":{\"published\":true,\"mission\":true,\"phases\":true,\"events\":true,\"team\":true,\"sponsors\":true,\"links\":true,\"thematiques\":true}}"'
  for i in $(seq -f '%03g' 0 659); do
    echo "url = \"$URL/v1/startups/produit-$i/publication\""
    echo 'output = "/dev/null"'
  done
} > "$WORK/publish.curl"
curl -fsS --parallel --parallel-max 8 -K "$WORK/publish.curl"
echo "# public bench: $(date -u +%FT%TZ), ${SECS}s per point, $(nproc) cores; 660 start-ups published in $(python3 -c "import time; print('%.1f' % (time.time() - $t0))") s"

PAGE=/startups/produit-007
DATA=/api/v2.7/startups.json
page_bytes=$(curl -fsS "$URL$PAGE" | wc -c)
data_bytes=$(curl -fsS "$URL$DATA" | wc -c)
head -c "$page_bytes" /dev/zero | tr '\0' 'a' > "$STATIC/bench-page.html"
head -c "$data_bytes" /dev/zero | tr '\0' 'a' > "$STATIC/bench-data.json"
etag() { curl -fsS -D - -o /dev/null "$URL$1" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r'; }
echo 'wrk.headers["Accept"] = "*/*"' > "$WORK/plain.lua"
printf 'wrk.headers["If-None-Match"] = [[%s]]\n' "$(etag $PAGE)" > "$WORK/page304.lua"
printf 'wrk.headers["If-None-Match"] = [[%s]]\n' "$(etag $DATA)" > "$WORK/data304.lua"
# A 304 is not a 2xx to wrk: count its non-2xx as the 304s they are (checked by status below).
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $(etag $DATA)" "$URL$DATA") == 304 ]] || { echo "bench: no 304" >&2; exit 1; }

# A second gateway on the same services asks pep-incubation for every answer (the list not
# kept): what the one-second list saves, in the same run.
HTTP0=$(free_port)
"$BUILD_DIR/services/gateway/pep-gateway" --http_port "$HTTP0" --metrics_port 0 --data_dir "$WORK/gateway0" \
  --ideas_addr "127.0.0.1:${GRPC[ideas]}" --incubation_addr "127.0.0.1:${GRPC[incubation]}" \
  --feedback_addr "127.0.0.1:${GRPC[feedback]}" --audit_addr "127.0.0.1:${GRPC[audit]}" \
  --notify_addr "127.0.0.1:${GRPC[notify]}" --kafka_brokers "$BROKERS" --gateway_key "$KEY" \
  --trusted_proxies 127.0.0.1/32 --console_dir "$STATIC" --public_list_max_age 0 > "$WORK/gateway0.log" 2>&1 &
PIDS+=($!)
URL0="http://127.0.0.1:$HTTP0"
wait_ready "$URL0" "$WORK" "the second gateway"
rss_gw0=$(rss_kb "$GW_PID"); INC_PID=${PIDS[1]}; rss_inc0=$(rss_kb "$INC_PID")
row() {  # label bytes gateway(4) static(4)
  read -r g_rps g_50 g_99 g_bad <<< "$3"
  read -r s_rps s_50 s_99 s_bad <<< "$4"
  echo "| $1 | $2 | $g_rps | $g_50 | $g_99 | $s_rps | $s_50 | $s_99 | $(python3 -c "print('%.2f' % ($g_rps/max($s_rps,1)))") |"
}
echo "| what (64 connections) | bytes | req/s | p50 ms | p99 ms | static file req/s | p50 ms | p99 ms | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
STATIC_PAGE=$(wrk_run 64 "$WORK/plain.lua" "$URL/bench-page.html")
STATIC_DATA=$(wrk_run 64 "$WORK/plain.lua" "$URL/bench-data.json")
row "start-up page, cold" "$page_bytes" "$(wrk_run 64 "$WORK/plain.lua" "$URL$PAGE")" "$STATIC_PAGE"
row "start-up page, revalidated (304)" 0 "$(wrk_run 64 "$WORK/page304.lua" "$URL$PAGE")" "$STATIC_PAGE"
row "startups.json, cold" "$data_bytes" "$(wrk_run 64 "$WORK/plain.lua" "$URL$DATA")" "$STATIC_DATA"
row "startups.json, revalidated (304)" 0 "$(wrk_run 64 "$WORK/data304.lua" "$URL$DATA")" "$STATIC_DATA"
row "start-up page, cold, list asked each time" "$page_bytes" "$(wrk_run 64 "$WORK/plain.lua" "$URL0$PAGE")" "$STATIC_PAGE"
row "startups.json, cold, list asked each time" "$data_bytes" "$(wrk_run 64 "$WORK/plain.lua" "$URL0$DATA")" "$STATIC_DATA"
echo "RSS kB: gateway $rss_gw0 -> $(rss_kb "$GW_PID"), pep-incubation $rss_inc0 -> $(rss_kb "$INC_PID")"
