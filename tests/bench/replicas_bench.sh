#!/usr/bin/env bash
# The stores and replicas measured as users meet them (issue 17): the public form's durable write
# (gateway -> pep-feedback, group commit, outbox), a start-up read (gateway -> pep-incubation) and a
# page of answers (gateway -> pep-feedback)
# through pep-gateway with wrk in its own process, kept-alive connections, on the real portfolio
# (660 start-ups), in three set-ups run one after the other on the same machine and broker:
#   sqlite    one process per service, its SQLite file (the default; the baseline of the ratios)
#   pg-1      one process per service, each on its PostgreSQL database
#   pg-2      two processes of pep-ideas, pep-incubation and pep-feedback on the same databases,
#             the gateway given both addresses (round robin)
# Each set-up gets fresh databases. Starts its own broker and PostgreSQL on free ports in a temp
# dir and stops only what it started (by pid). Prints a Markdown table.
#   tests/bench/replicas_bench.sh [SECONDS_PER_POINT]   (default 10)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${PEP_BUILD_DIR:-$ROOT/build}"
SECS="${1:-10}"
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
bash "$ROOT/deploy/local/lib/kafka.sh" fetch
bash "$ROOT/deploy/local/lib/build.sh" "$BUILD_DIR" pep-ideas pep-incubation pep-feedback pep-audit \
  pep-notify pep-gateway pepctl pep-kafka-topics

WORK="$(mktemp -d /tmp/pep-replicas-bench.XXXXXX)"
chmod 0755 "$WORK"  # the PostgreSQL server runs as the postgres user when we are root
# shellcheck source=tests/bench/bench_lib.sh
source "$ROOT/tests/bench/bench_lib.sh"
PIDS=()
stop_services() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_services
  bash "$ROOT/deploy/local/lib/kafka.sh" stop --dir "$WORK/kafka" > /dev/null 2>&1 || true
  bash "$ROOT/deploy/local/lib/postgres.sh" stop --dir "$WORK/pg" > /dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

KPORT=$(free_port); KCPORT=$(free_port)
bash "$ROOT/deploy/local/lib/kafka.sh" start --dir "$WORK/kafka" --port "$KPORT" --controller-port "$KCPORT" >&2
BROKERS="127.0.0.1:$KPORT"
"$BUILD_DIR/libs/events/pep-kafka-topics" "$BROKERS" > /dev/null
PGPORT=$(free_port)
bash "$ROOT/deploy/local/lib/postgres.sh" start --dir "$WORK/pg" --port "$PGPORT" >&2
KEY="bench-replicas-key-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
write_form_lua "$WORK/form.lua"
write_portfolio "$WORK/portfolio.jsonl"

# Starts the platform for set-up $1 (sqlite | pg-1 | pg-2); sets URL, TOKEN, SID.
start_platform() {
  local setup=$1 replicas=1
  [[ $setup == pg-2 ]] && replicas=2
  local dir="$WORK/$setup"
  mkdir -p "$dir"
  declare -gA ADDRS=()
  for svc in ideas incubation feedback audit; do
    local db=()
    if [[ $setup != sqlite && $svc != audit ]]; then
      bash "$ROOT/deploy/local/lib/postgres.sh" createdb --dir "$WORK/pg" --port "$PGPORT" "${svc}_${setup/-/_}" >&2
      db=(--database_url "postgres://pep@127.0.0.1:$PGPORT/${svc}_${setup/-/_}")
    fi
    local count=$replicas
    [[ $svc == audit ]] && count=1
    ADDRS[$svc]=""
    for ((r = 0; r < count; r++)); do
      local port extra=()
      port=$(free_port)
      [[ $svc == feedback ]] && extra=(--rate_limit_per_minute 0)
      [[ $svc == audit ]] && extra=(--ledger_signing_key_file "$dir/ledger.key" --ledger_create_key
                                    --log_topic "pepiniere.audit.log.$setup" --sequencer_id "seq-$setup")
      [[ $svc == incubation || $svc == feedback ]] && extra+=(--consumer_group "pep-$svc-$setup"
                                                              --consumer_instance "pep-$svc-$setup-$r")
      "$BUILD_DIR/services/$svc/pep-$svc" --grpc_port "$port" --metrics_port 0 \
        --data_dir "$dir/$svc-$r" --kafka_brokers "$BROKERS" --gateway_key "$KEY" \
        "${db[@]}" "${extra[@]}" > "$dir/$svc-$r.log" 2>&1 &
      PIDS+=($!)
      ADDRS[$svc]+="${ADDRS[$svc]:+,}127.0.0.1:$port"
    done
  done
  # pep-notify, one, on SQLite (the gateway waits for it to be ready; it is not measured here).
  local nport
  nport=$(free_port)
  "$BUILD_DIR/services/notify/pep-notify" --grpc_port "$nport" --metrics_port 0 --data_dir "$dir/notify" \
    --kafka_brokers "$BROKERS" --gateway_key "$KEY" --consumer_group "pep-notify-$setup" \
    --consumer_instance "pep-notify-$setup-0" --ideas_addr "${ADDRS[ideas]%%,*}" \
    --feedback_addr "${ADDRS[feedback]%%,*}" --smtp_url smtp://127.0.0.1:1 --digest_hour=-1 \
    > "$dir/notify.log" 2>&1 &
  PIDS+=($!)
  local http
  http=$(free_port)
  "$BUILD_DIR/services/gateway/pep-gateway" --http_port "$http" --metrics_port 0 --data_dir "$dir/gateway" \
    --ideas_addr "${ADDRS[ideas]}" --incubation_addr "${ADDRS[incubation]}" \
    --feedback_addr "${ADDRS[feedback]}" --audit_addr "${ADDRS[audit]}" --notify_addr "127.0.0.1:$nport" \
    --gateway_key "$KEY" --bootstrap_token_file "$dir/token" --trusted_proxies 127.0.0.1/32 \
    > "$dir/gateway.log" 2>&1 &
  PIDS+=($!)
  URL="http://127.0.0.1:$http"
  wait_ready "$URL" "$dir" "$setup"
  TOKEN=$(cat "$dir/token")
  PEP_URL="$URL" PEP_TOKEN="$TOKEN" "$BUILD_DIR/services/gateway/pepctl" import portfolio "$WORK/portfolio.jsonl" > /dev/null
  SID=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/v1/startups?page_size=1000" |
    python3 -c 'import json,sys; print([x for x in json.load(sys.stdin)["startups"] if x["slug"]=="produit-000"][0]["id"])')
  for _ in $(seq 1 120); do  # pep-feedback learns the start-ups from Kafka
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      -d '{"satisfaction":"SATISFACTION_GOOD"}' "$URL/v1/startups/$SID/feedback")
    [[ $code == 201 ]] && break
    sleep 0.5
  done
  cat > "$WORK/read.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
}

declare -A RPS P50 P99 BAD
for setup in sqlite pg-1 pg-2; do
  start_platform "$setup"
  for c in 16 64; do
    read -r RPS[$setup-w$c] P50[$setup-w$c] P99[$setup-w$c] BAD[$setup-w$c] <<< \
      "$(wrk_run "$c" "$WORK/form.lua" "$URL/v1/startups/$SID/feedback")"
    read -r RPS[$setup-r$c] P50[$setup-r$c] P99[$setup-r$c] BAD[$setup-r$c] <<< \
      "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/startups/$SID")"
    # A page of 50 of the answers just written (pep-feedback's read path).
    read -r RPS[$setup-l$c] P50[$setup-l$c] P99[$setup-l$c] BAD[$setup-l$c] <<< \
      "$(wrk_run "$c" "$WORK/read.lua" "$URL/v1/startups/$SID/feedback?page_size=50")"
  done
  stop_services
done

echo "# replicas bench: $(date -u +%FT%TZ), ${SECS}s per point, $(nproc) cores, through pep-gateway (wrk)"
echo "| what | conns | set-up | req/s | p50 ms | p99 ms | non-2xx | ratio to sqlite |"
echo "|---|---|---|---|---|---|---|---|"
for what in w r l; do
  name="public form SubmitFeedback (durable)"
  [[ $what == r ]] && name="read GetStartup"
  [[ $what == l ]] && name="read ListFeedback, 50 answers"
  for c in 16 64; do
    for setup in sqlite pg-1 pg-2; do
      k="$setup-$what$c"
      echo "| $name | $c | $setup | ${RPS[$k]} | ${P50[$k]} | ${P99[$k]} | ${BAD[$k]} | $(python3 -c "print('%.2f' % (${RPS[$k]}/max(${RPS[sqlite-$what$c]},1)))") |"
    done
  done
done
