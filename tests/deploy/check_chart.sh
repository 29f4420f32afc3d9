#!/usr/bin/env bash
# The Helm chart and the deployment files, checked offline: helm lint --strict, helm template
# with the option sets operators use, every rendered manifest decoded strictly into the real
# Kubernetes API types (tests/deploy/k8scheck, k8s.io/api), and ports/binaries consistent across
# code, ARCHITECTURE.md, the Dockerfile, compose and chart (tests/deploy/check_deploy.py).
# Usage: check_chart.sh BUILD_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(mkdir -p "${1:?build dir}" && cd "$1" && pwd)"  # absolute: k8scheck is built from its own dir
OUT="$BUILD/test-artifacts/chart"
TOOLS="${PEP_TOOLS_DIR:-$HOME/.cache/pepiniere/bin}"
HELM="$TOOLS/helm"
GO="$(command -v go || echo /usr/local/go/bin/go)"
mkdir -p "$OUT"
cd "$ROOT"

(cd tests/deploy/k8scheck && GOFLAGS=-mod=mod "$GO" build -o "$BUILD/k8scheck" .)

declare -A SETS=(
  [defaults]=""
  [everything]="--set kafka.strimzi.topics.enabled=true --set kafka.strimzi.users.enabled=true --set kafka.auth.enabled=true --set kafka.bootstrapServers=pepiniere-kafka-bootstrap:9093 --set serviceMonitor.enabled=true --set gateway.ingress.tlsSecretName=pepiniere-tls --set gateway.ingress.className=nginx --set image.registry=registry.example.gouv.fr/ --set gateway.oidc.issuer=https://auth.agentconnect.gouv.fr/api/v2 --set gateway.oidc.clientId=pepiniere --set gateway.oidc.clientSecretName=proconnect --set notify.smtp.host=smtp.departement06.fr --set notify.smtp.user=pepiniere --set notify.smtp.passwordSecret=smtp-relay --set-json image.pullSecrets=[{\"name\":\"regcred\"}]"
  [minimal]="--set networkPolicy.enabled=false --set gateway.ingress.enabled=false --set gatewayKey.existingSecret=pep-key --set bootstrapToken.existingSecret=pep-boot --set audit.ledgerSigningKey.existingSecret=pep-ledger"
)
SETS[postgres]="--set database.existingSecret=pep-db --set ideas.replicas=2 --set incubation.replicas=2 --set feedback.replicas=3 --set gateway.replicas=2"
SETS[cnpg]="--set database.cloudnativepg.enabled=true --set feedback.replicas=2 --set gateway.replicas=2"
for name in defaults everything minimal postgres cnpg; do
  # shellcheck disable=SC2086
  "$HELM" lint --strict charts/pepiniere ${SETS[$name]}
  # shellcheck disable=SC2086
  "$HELM" template demo charts/pepiniere --namespace pepiniere ${SETS[$name]} > "$OUT/$name.yaml"
  echo "--- $name: $(grep -c '^kind:' "$OUT/$name.yaml") manifests" >&2
  "$BUILD/k8scheck" "$OUT/$name.yaml"
done
# The options do what they say ("! grep" would not stop set -e: count instead).
count() { grep -c -- "$1" "$2" || true; }
expect() {  # WANT PATTERN FILE
  local got
  got=$(count "$2" "$3")
  if [[ "$got" != "$1" ]]; then echo "FAIL: '$2' appears $got times in $3, expected $1" >&2; exit 1; fi
}
expect 11 '^kind: KafkaTopic' "$OUT/everything.yaml"  # 5 topics, 5 dead-letter, the ledger's log
expect 0 '^kind: KafkaTopic' "$OUT/defaults.yaml"
# pep-notify: the relay's host, STARTTLS on 587 by default, its user, the password from a Secret.
expect 1 'PEP_SMTP_URL: "smtp://smtp.departement06.fr:587"' "$OUT/everything.yaml"
expect 1 'PEP_SMTP_PASSWORD_FILE: /etc/pepiniere/smtp/password' "$OUT/everything.yaml"
expect 1 'secretName: smtp-relay' "$OUT/everything.yaml"
expect 0 'PEP_SMTP_PASSWORD_FILE' "$OUT/defaults.yaml"
expect 1 'PEP_NOTIFY_ADDR: "dns:///demo-pepiniere-notify:7105"' "$OUT/defaults.yaml"
expect 6 '^kind: KafkaUser' "$OUT/everything.yaml"  # a user per component (ACLs: libs/events/acls.cc)
expect 0 '^kind: KafkaUser' "$OUT/defaults.yaml"
expect 6 'name: PEP_KAFKA_SSL_CERTIFICATE_FILE' "$OUT/everything.yaml"  # the five services and the gateway
expect 1 'PEP_OIDC_ISSUER: "https://auth.agentconnect.gouv.fr/api/v2"' "$OUT/everything.yaml"
expect 1 'PEP_OIDC_REDIRECT_URL: "https://pepiniere.example.gouv.fr/auth/callback"' "$OUT/everything.yaml"
expect 1 'secretName: proconnect' "$OUT/everything.yaml"
expect 0 'PEP_OIDC_ISSUER' "$OUT/defaults.yaml"
expect 11 'min.insync.replicas: 2' "$OUT/everything.yaml"
expect 11 'replicas: 3$' "$OUT/everything.yaml"
expect 1 'replicas: 2$' "$OUT/defaults.yaml"  # pep-audit: a sequencer and a standby
expect 1 'secretName: pep-ledger' "$OUT/minimal.yaml"
expect 6 '^kind: ServiceMonitor' "$OUT/everything.yaml"
expect 0 '^kind: ServiceMonitor' "$OUT/defaults.yaml"
expect 0 '^kind: NetworkPolicy' "$OUT/minimal.yaml"
expect 0 '^kind: Secret' "$OUT/minimal.yaml"
expect 0 '^kind: Ingress' "$OUT/minimal.yaml"
expect 6 '^kind: NetworkPolicy' "$OUT/defaults.yaml"
expect 6 'readOnlyRootFilesystem: true' "$OUT/defaults.yaml"
expect 6 'runAsNonRoot: true' "$OUT/defaults.yaml"
expect 15 'grpc: {port: 71' "$OUT/defaults.yaml"
# PostgreSQL: three more Deployments (pep-audit stays a StatefulSet), each replica its URL and its
# own consumer-group member id, the gateway's tokens in the database (no volume), a
# PodDisruptionBudget wherever there are two replicas or more.
expect 4 '^kind: Deployment' "$OUT/postgres.yaml"  # and the gateway's
expect 1 '^kind: Deployment' "$OUT/defaults.yaml"  # the gateway
expect 4 'name: PEP_DATABASE_URL' "$OUT/postgres.yaml"
expect 0 'name: PEP_DATABASE_URL' "$OUT/defaults.yaml"
expect 5 '^kind: PodDisruptionBudget' "$OUT/postgres.yaml"
expect 0 '^kind: PersistentVolumeClaim' "$OUT/postgres.yaml"  # pep-audit's are claim templates
expect 1 '^kind: PersistentVolumeClaim' "$OUT/defaults.yaml"  # the gateway's tokens
expect 1 '^kind: PodDisruptionBudget' "$OUT/defaults.yaml"  # pep-audit's two replicas
expect 1 'replicas: 3$' "$OUT/postgres.yaml"
expect 4 'replicas: 2$' "$OUT/postgres.yaml"  # ideas, incubation, gateway, audit
expect 3 'fieldPath: metadata.name' "$OUT/defaults.yaml"
# CloudNativePG: one Cluster, a schema per component, each component's URL naming its schema
# and the password from the operator's Secret.
expect 1 '^kind: Cluster' "$OUT/cnpg.yaml"
expect 0 '^kind: Cluster' "$OUT/postgres.yaml"
expect 4 'CREATE SCHEMA' "$OUT/cnpg.yaml"
expect 1 'options=-csearch_path%3Dfeedback' "$OUT/cnpg.yaml"
expect 4 'name: demo-pepiniere-db-app' "$OUT/cnpg.yaml"
# Several replicas on SQLite: refused, the reason named.
if "$HELM" template demo charts/pepiniere --set feedback.replicas=2 > /dev/null 2> "$OUT/refused.txt"; then
  echo "FAIL: feedback.replicas=2 without a database rendered" >&2; exit 1
fi
grep -q 'feedback.replicas > 1 needs database.existingSecret or database.cloudnativepg.enabled' "$OUT/refused.txt" ||
  { echo "FAIL: the refusal does not name feedback.replicas" >&2; cat "$OUT/refused.txt" >&2; exit 1; }
/usr/bin/python3 tests/deploy/check_deploy.py "$OUT/everything.yaml"
echo "chart checks passed" >&2
