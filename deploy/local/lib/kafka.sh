#!/usr/bin/env bash
# Runs a single-node Apache Kafka broker in KRaft mode from jars resolved by Maven.
#   kafka.sh fetch                                   resolve the jars into the cache (idempotent)
#   kafka.sh start --dir D --port P --controller-port C [--owner-pid PID]
#                                                    format D once, start in background,
#                                                    write D/kafka.pid, wait until it answers;
#                                                    with --owner-pid, a watchdog stops the
#                                                    broker when that process is gone (tests)
#   kafka.sh start ... --node-id N --voters V --cluster-id ID [--replication R]
#                                                    one node of a cluster: V lists every
#                                                    controller ("1@127.0.0.1:C1,2@..."), a
#                                                    static quorum; internal topics get R
#                                                    replicas and min.insync.replicas R-1
#   kafka.sh start ... --host H                      listen on H instead of 127.0.0.1 (a node
#                                                    in a network namespace of the tests)
#   kafka.sh stop --dir D                            stop the broker whose pid is in D/kafka.pid
# Used by deploy/local/up and by the test harness (free ports, temp dirs).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_POM_DIR="$HERE/../kafka"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM_DIR/pom.xml")"
CACHE="${PEP_CACHE_DIR:-$HOME/.cache/pepiniere}"
LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"

fetch() {
  if [[ -f "$LIBS/.complete" ]]; then return 0; fi
  echo "kafka.sh: resolving Apache Kafka $KAFKA_VERSION jars with Maven into $LIBS" >&2
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  (cd "$KAFKA_POM_DIR" && mvn -q -B dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime) >&2
  touch "$LIBS/.complete"
}

java_bin() {
  if [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
    echo /usr/lib/jvm/java-17-openjdk-amd64/bin/java
  else
    command -v java
  fi
}

# Sets JVM to the java command line (heap as given) that runs a class from the Kafka jars.
jvm() {
  JVM=("$(java_bin)" -Xms256m "-Xmx$1" -XX:+UseG1GC -Djava.awt.headless=true
       "-Dlog4j2.configurationFile=$KAFKA_POM_DIR/log4j2.properties" -cp "$LIBS/*")
}

DIR=""; PORT=9092; CPORT=9093; OWNER=""; NODE_ID=1; VOTERS=""; CLUSTER_ID="pepiniere-local-kraft1"
REPLICATION=1; HOST=127.0.0.1
parse() {
  while (($#)); do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --port) PORT="$2"; shift 2 ;;
      --controller-port) CPORT="$2"; shift 2 ;;
      --owner-pid) OWNER="$2"; shift 2 ;;
      --node-id) NODE_ID="$2"; shift 2 ;;
      --voters) VOTERS="$2"; shift 2 ;;
      --cluster-id) CLUSTER_ID="$2"; shift 2 ;;
      --replication) REPLICATION="$2"; shift 2 ;;
      --host) HOST="$2"; shift 2 ;;
      *) echo "kafka.sh: unknown option $1" >&2; exit 2 ;;
    esac
  done
  [[ -n "$DIR" ]] || { echo "kafka.sh: --dir is required" >&2; exit 2; }
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
}

is_running() { [[ -f "$DIR/kafka.pid" ]] && kill -0 "$(cat "$DIR/kafka.pid")" 2>/dev/null; }

start() {
  fetch
  if is_running; then echo "kafka.sh: already running (pid $(cat "$DIR/kafka.pid"))" >&2; return 0; fi
  # The config is rewritten on each start so a restart may move ports; the data stays.
  local quorum="controller.quorum.bootstrap.servers=$HOST:$CPORT"
  [[ -n "$VOTERS" ]] && quorum="controller.quorum.voters=$VOTERS"
  local min_isr=$(( REPLICATION > 1 ? REPLICATION - 1 : 1 ))
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=$NODE_ID
$quorum
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=$REPLICATION
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$REPLICATION
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$REPLICATION
share.coordinator.state.topic.min.isr=$min_isr
default.replication.factor=$REPLICATION
min.insync.replicas=$min_isr
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
log.segment.bytes=67108864
PROPS
  if [[ ! -f "$DIR/data/meta.properties" ]]; then
    jvm 512m
    # One node: a dynamic quorum of itself. A cluster: the static voters of the config.
    local standalone=(--standalone)
    [[ -n "$VOTERS" ]] && standalone=()
    "${JVM[@]}" kafka.tools.StorageTool format "${standalone[@]}" -t "$CLUSTER_ID" \
      -c "$DIR/server.properties" > "$DIR/format.log" 2>&1 \
      || { cat "$DIR/format.log" >&2; exit 1; }
  fi
  jvm 768m
  nohup "${JVM[@]}" kafka.Kafka "$DIR/server.properties" >> "$DIR/kafka.log" 2>&1 < /dev/null &
  echo $! > "$DIR/kafka.pid"
  if [[ -n "$OWNER" ]]; then
    # A test that dies without cleaning up must not leave its broker behind.
    local bpid; bpid="$(cat "$DIR/kafka.pid")"
    nohup bash -c "while kill -0 $OWNER 2>/dev/null && kill -0 $bpid 2>/dev/null; do sleep 1; done; \
      kill -TERM $bpid 2>/dev/null; sleep 20; kill -KILL $bpid 2>/dev/null" \
      > /dev/null 2>&1 < /dev/null &
  fi
  # Ready when the broker port accepts connections and the process is still alive.
  for _ in $(seq 1 240); do
    if ! kill -0 "$(cat "$DIR/kafka.pid")" 2>/dev/null; then
      echo "kafka.sh: broker exited during start; last log lines:" >&2; tail -30 "$DIR/kafka.log" >&2; exit 1
    fi
    if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
      echo "kafka.sh: broker up on $HOST:$PORT (pid $(cat "$DIR/kafka.pid"))" >&2; return 0
    fi
    sleep 0.25
  done
  echo "kafka.sh: broker did not open $HOST:$PORT in 60s" >&2; exit 1
}

stop() {
  if ! is_running; then rm -f "$DIR/kafka.pid"; return 0; fi
  local pid; pid="$(cat "$DIR/kafka.pid")"
  kill -TERM "$pid"
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/kafka.pid"; return 0; }; sleep 0.25; done
  echo "kafka.sh: broker $pid ignored SIGTERM for 30s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/kafka.pid"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  fetch) fetch ;;
  start) parse "$@"; start ;;
  stop) parse "$@"; stop ;;
  *) echo "usage: kafka.sh fetch | start --dir D [--port P --controller-port C] | stop --dir D" >&2; exit 2 ;;
esac
