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
#   kafka.sh start ... --secure mtls|scram --admin NAME[:PASSWORD] [--user NAME[:PASSWORD]]...
#                                                    clients over TLS only, each a user: mtls,
#                                                    a client certificate (D/tls/clients/NAME.{crt,key},
#                                                    CN=NAME); scram, SASL_SSL SCRAM-SHA-512
#                                                    with the password. A test CA (D/tls/ca.pem)
#                                                    signs everything; ACLs are enforced
#                                                    (StandardAuthorizer), --admin is the super user
#   kafka.sh acl --dir D --port P ACLCOMMAND-ARGS...  Kafka's AclCommand as the admin of a
#                                                    --secure broker (e.g. transactional ids,
#                                                    which librdkafka 2.0's admin API lacks)
#   kafka.sh stop --dir D                            stop the broker whose pid is in D/kafka.pid
# Used by deploy/local/up and by the test harness (free ports, temp dirs).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_POM_DIR="$HERE/../kafka"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM_DIR/pom.xml")"
CACHE="${PEP_CACHE_DIR:-$HOME/.cache/pepiniere}"
LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"

fetch() {
  # Resolved again when the pom changes (the marker holds its hash).
  local want; want="$(sha256sum "$KAFKA_POM_DIR/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$LIBS/.complete" && "$(cat "$LIBS/.complete")" == "$want" ]]; then return 0; fi
  echo "kafka.sh: resolving Apache Kafka $KAFKA_VERSION jars with Maven into $LIBS" >&2
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  (cd "$KAFKA_POM_DIR" && mvn -q -B dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime) >&2
  echo "$want" > "$LIBS/.complete"
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
REPLICATION=1; HOST=127.0.0.1; SECURE=""; ADMIN=""; USERS=(); ACL_ARGS=()
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
      --secure) SECURE="$2"; shift 2 ;;
      --admin) ADMIN="$2"; shift 2 ;;
      --user) USERS+=("$2"); shift 2 ;;
      --) shift; ACL_ARGS=("$@"); break ;;
      *) if [[ "${MODE:-}" == acl ]]; then ACL_ARGS+=("$1"); shift; else echo "kafka.sh: unknown option $1" >&2; exit 2; fi ;;
    esac
  done
  [[ -n "$DIR" ]] || { echo "kafka.sh: --dir is required" >&2; exit 2; }
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
}

# A test CA, the broker's certificate for $HOST (CN=kafka-broker; PKCS#12 keystore, PEM
# truststore) and, for mtls, a certificate per user (CN=<user>), made once.
make_tls() {
  local t="$DIR/tls"
  mkdir -p "$t/clients"
  (
    cd "$t"
    if [[ ! -f broker.p12 ]]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=pepiniere-test-ca" \
        -keyout ca.key -out ca.pem
      openssl req -newkey rsa:2048 -nodes -subj "/CN=kafka-broker" -keyout broker.key -out broker.csr
      printf 'subjectAltName=IP:%s,DNS:localhost\n' "$HOST" > san.ext
      openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
        -extfile san.ext -out broker.crt
      openssl rand -hex 16 > store.pass
      openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.pem -name broker \
        -passout "file:store.pass" -out broker.p12
    fi
    if [[ "$SECURE" == mtls ]]; then
      for u in "$ADMIN" "${USERS[@]}"; do
        local n="${u%%:*}"
        [[ -f "clients/$n.crt" ]] && continue
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$n" -keyout "clients/$n.key" -out "clients/$n.csr"
        openssl x509 -req -in "clients/$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
          -out "clients/$n.crt"
        openssl pkcs12 -export -in "clients/$n.crt" -inkey "clients/$n.key" -name "$n" \
          -passout "file:store.pass" -out "clients/$n.p12"
      done
    fi
  ) >> "$DIR/tls.log" 2>&1 || { cat "$DIR/tls.log" >&2; exit 1; }
}

# The admin's client settings, for Kafka's own tools.
admin_config() {
  local n="${ADMIN%%:*}"
  if [[ "$SECURE" == mtls ]]; then
    cat > "$DIR/admin.properties" <<ADMIN
security.protocol=SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=$DIR/tls/clients/$n.p12
ssl.keystore.password=$(cat "$DIR/tls/store.pass")
ssl.truststore.type=PEM
ssl.truststore.location=$DIR/tls/ca.pem
ADMIN
  else
    cat > "$DIR/admin.properties" <<ADMIN
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$n" password="${ADMIN#*:}";
ssl.truststore.type=PEM
ssl.truststore.location=$DIR/tls/ca.pem
ADMIN
  fi
}

is_running() { [[ -f "$DIR/kafka.pid" ]] && kill -0 "$(cat "$DIR/kafka.pid")" 2>/dev/null; }

start() {
  fetch
  if is_running; then echo "kafka.sh: already running (pid $(cat "$DIR/kafka.pid"))" >&2; return 0; fi
  # The config is rewritten on each start so a restart may move ports; the data stays.
  local quorum="controller.quorum.bootstrap.servers=$HOST:$CPORT"
  [[ -n "$VOTERS" ]] && quorum="controller.quorum.voters=$VOTERS"
  local min_isr=$(( REPLICATION > 1 ? REPLICATION - 1 : 1 ))
  local client=PLAINTEXT
  case "$SECURE" in
    "") ;;
    mtls) client=SSL ;;
    scram) client=SASL_SSL ;;
    *) echo "kafka.sh: --secure is mtls or scram" >&2; exit 2 ;;
  esac
  if [[ -n "$SECURE" ]]; then
    [[ -n "$ADMIN" ]] || { echo "kafka.sh: --secure needs --admin NAME[:PASSWORD]" >&2; exit 2; }
    make_tls
    admin_config
  fi
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=$NODE_ID
$quorum
listeners=$client://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=$client://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=$client
listener.security.protocol.map=CONTROLLER:PLAINTEXT,$client:$client
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
  if [[ -n "$SECURE" ]]; then
    # The controller listener stays PLAINTEXT on $HOST (the node's own broker talks to it, as
    # ANONYMOUS: a super user); what clients reach is TLS only, and every client is a user.
    cat >> "$DIR/server.properties" <<PROPS
ssl.keystore.type=PKCS12
ssl.keystore.location=$DIR/tls/broker.p12
ssl.keystore.password=$(cat "$DIR/tls/store.pass")
ssl.key.password=$(cat "$DIR/tls/store.pass")
ssl.truststore.type=PEM
ssl.truststore.location=$DIR/tls/ca.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:${ADMIN%%:*};User:kafka-broker;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
PROPS
    if [[ "$SECURE" == mtls ]]; then
      cat >> "$DIR/server.properties" <<PROPS
ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]+)\$/\$1/,DEFAULT
PROPS
    else
      cat >> "$DIR/server.properties" <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${ADMIN%%:*}" password="${ADMIN#*:}";
PROPS
    fi
  fi
  if [[ ! -f "$DIR/data/meta.properties" ]]; then
    jvm 512m
    # One node: a dynamic quorum of itself. A cluster: the static voters of the config.
    local standalone=(--standalone)
    [[ -n "$VOTERS" ]] && standalone=()
    # SCRAM users are in the metadata from the start (KIP-900): the broker's own first.
    local scram=()
    if [[ "$SECURE" == scram ]]; then
      for u in "$ADMIN" "${USERS[@]}"; do
        scram+=(--add-scram "SCRAM-SHA-512=[name=\"${u%%:*}\",password=\"${u#*:}\"]")
      done
    fi
    "${JVM[@]}" kafka.tools.StorageTool format "${standalone[@]}" "${scram[@]}" -t "$CLUSTER_ID" \
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

acl() {
  fetch
  [[ -f "$DIR/admin.properties" ]] || { echo "kafka.sh: $DIR is not a --secure broker" >&2; exit 2; }
  jvm 256m
  "${JVM[@]}" org.apache.kafka.tools.AclCommand --bootstrap-server "$HOST:$PORT" \
    --command-config "$DIR/admin.properties" "${ACL_ARGS[@]}" >&2
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
  acl) MODE=acl; parse "$@"; acl ;;
  *) echo "usage: kafka.sh fetch | start --dir D [--port P --controller-port C] | stop --dir D" >&2; exit 2 ;;
esac
