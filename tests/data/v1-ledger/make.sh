#!/usr/bin/env bash
# How tests/data/v1-ledger/audit.db was made: by the previous release's pep-audit (version 1,
# hash chains; commit 0c615ff), from events.tsv produced with kcat to a throwaway broker — one
# redelivered event, and one "late" event (recorded before events already sealed) that version 1
# inserted at its place, re-hashing what followed. audit_migration_test migrates it.
# Usage: make.sh V1_PEP_AUDIT_BINARY   (built from `git worktree add /tmp/v1 0c615ff`)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE/../../.."
V1="${1:?the version 1 pep-audit binary}"
WORK="$(mktemp -d)"
PORT=$((20000 + RANDOM % 20000))
bash "$ROOT/deploy/local/lib/kafka.sh" start --dir "$WORK/kafka" --port "$PORT" --controller-port $((PORT + 1)) >&2
trap 'kill "$(cat "$WORK/audit.pid" 2>/dev/null)" 2>/dev/null || true; bash "$ROOT/deploy/local/lib/kafka.sh" stop --dir "$WORK/kafka"; rm -rf "$WORK"' EXIT
B="127.0.0.1:$PORT"
for t in pepiniere.ideas.events pepiniere.incubation.events pepiniere.feedback.events pepiniere.access.events; do
  kcat -b "$B" -L -t "$t" > /dev/null 2>&1 || true
done
"$ROOT/build/libs/events/pep-kafka-topics" "$B" 1 > /dev/null
"$V1" --kafka_brokers "$B" --data_dir "$WORK/audit" --grpc_port $((PORT + 2)) --metrics_port $((PORT + 3)) \
  --insecure_dev --seal_grace 200ms > "$WORK/audit.log" 2>&1 &
echo $! > "$WORK/audit.pid"
sleep 3
grep -v '^#' "$HERE/events.tsv" | while IFS=$'\t' read -r topic key id type time corr version payload; do
  printf '%s' "$payload" | kcat -P -b "$B" -t "$topic" -k "$key" -p 0 \
    -H ce_specversion=1.0 -H "ce_id=$id" -H "ce_source=/pepiniere/v1-fixture" -H "ce_type=$type" \
    -H "ce_subject=$key" -H "ce_time=$time" -H ce_actor=agent-v1 -H "ce_correlationid=$corr" \
    -H "ce_aggregateversion=$version" -H "ce_effectivetime=$time" -H content-type=application/protobuf
  sleep 1  # one seal each: the late one is inserted into an already sealed chain
done
for _ in $(seq 1 50); do
  n=$(sqlite3 "$WORK/audit/audit.db" 'SELECT count(*) FROM records' 2>/dev/null || echo 0)
  [[ "$n" == 7 ]] && break
  sleep 0.2
done
kill "$(cat "$WORK/audit.pid")"; wait "$(cat "$WORK/audit.pid")" 2>/dev/null || true
sqlite3 "$WORK/audit/audit.db" 'PRAGMA wal_checkpoint(TRUNCATE); SELECT count(*), (SELECT count(*) FROM rechains) FROM records' >&2
cp "$WORK/audit/audit.db" "$HERE/audit.db"
echo "wrote $HERE/audit.db" >&2
