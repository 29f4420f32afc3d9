{{/* Names and labels shared by every template. */}}
{{- define "pepiniere.fullname" -}}
{{- printf "%s-pepiniere" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pepiniere.labels" -}}
app.kubernetes.io/name: pepiniere
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: pepiniere
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "pepiniere.selector" -}}
app.kubernetes.io/name: pepiniere
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pepiniere.image" -}}
{{- printf "%s%s/%s:%s" .root.Values.image.registry .root.Values.image.repositoryPrefix .component (default .root.Chart.AppVersion .root.Values.image.tag) -}}
{{- end -}}

{{- define "pepiniere.gatewayKeySecret" -}}
{{- default (printf "%s-gateway-key" (include "pepiniere.fullname" .)) .Values.gatewayKey.existingSecret -}}
{{- end -}}

{{- define "pepiniere.bootstrapSecret" -}}
{{- default (printf "%s-bootstrap" (include "pepiniere.fullname" .)) .Values.bootstrapToken.existingSecret -}}
{{- end -}}

{{- define "pepiniere.ledgerKeySecret" -}}
{{- default (printf "%s-ledger-key" (include "pepiniere.fullname" .)) .Values.audit.ledgerSigningKey.existingSecret -}}
{{- end -}}

{{/* Whether the components with a database keep it in PostgreSQL (a Secret of URLs, or the
     chart's CloudNativePG cluster). */}}
{{- define "pepiniere.sharedDatabase" -}}
{{- if or .Values.database.existingSecret .Values.database.cloudnativepg.enabled -}}true{{- end -}}
{{- end -}}

{{- define "pepiniere.cnpgCluster" -}}
{{- printf "%s-db" (include "pepiniere.fullname" .) -}}
{{- end -}}

{{/* The env entries giving component .component its PostgreSQL database: its URL from the
     Secret, or — CloudNativePG — the cluster's read-write service, one schema per component
     (the options parameter sets search_path) and the app user's password from the operator's
     Secret (libpq reads PGPASSWORD). */}}
{{- define "pepiniere.databaseEnv" -}}
{{- $root := .root -}}
{{- if $root.Values.database.cloudnativepg.enabled }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "pepiniere.cnpgCluster" $root }}-app
      key: password
- name: PEP_DATABASE_URL
  value: {{ printf "postgres://pepiniere@%s-rw:5432/pepiniere?options=-csearch_path%%3D%s" (include "pepiniere.cnpgCluster" $root) .component | quote }}
{{- else }}
- name: PEP_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.database.existingSecret }}
      key: {{ .component }}
{{- end }}
{{- end -}}

{{/* How a component reaches Kafka with kafka.auth.enabled: its user (a client certificate, or
     SCRAM), and the brokers' CA. Environment (dict "root" . "component" "ideas"). */}}
{{- define "pepiniere.kafkaAuthEnv" -}}
{{- $a := .root.Values.kafka.auth }}
{{- if $a.enabled }}
{{- if eq $a.type "tls" }}
- name: PEP_KAFKA_SECURITY_PROTOCOL
  value: ssl
- name: PEP_KAFKA_SSL_CERTIFICATE_FILE
  value: /etc/pepiniere/kafka-user/user.crt
- name: PEP_KAFKA_SSL_KEY_FILE
  value: /etc/pepiniere/kafka-user/user.key
{{- else if eq $a.type "scram-sha-512" }}
- name: PEP_KAFKA_SECURITY_PROTOCOL
  value: sasl_ssl
- name: PEP_KAFKA_SASL_MECHANISM
  value: SCRAM-SHA-512
- name: PEP_KAFKA_SASL_USERNAME
  value: {{ printf "%s%s" $a.userPrefix .component | quote }}
- name: PEP_KAFKA_SASL_PASSWORD_FILE
  value: /etc/pepiniere/kafka-user/password
{{- else }}
{{- fail (printf "kafka.auth.type: tls or scram-sha-512 (got %q)" $a.type) }}
{{- end }}
- name: PEP_KAFKA_SSL_CA_FILE
  value: /etc/pepiniere/kafka-ca/ca.crt
{{- end }}
{{- end }}

{{/* Their mounts and volumes. */}}
{{- define "pepiniere.kafkaAuthMounts" -}}
{{- if .root.Values.kafka.auth.enabled }}
- name: kafka-user
  mountPath: /etc/pepiniere/kafka-user
  readOnly: true
- name: kafka-ca
  mountPath: /etc/pepiniere/kafka-ca
  readOnly: true
{{- end }}
{{- end }}
{{- define "pepiniere.kafkaAuthVolumes" -}}
{{- $a := .root.Values.kafka.auth }}
{{- if $a.enabled }}
- name: kafka-user
  secret:
    secretName: {{ printf "%s%s" $a.userPrefix .component }}
    defaultMode: 0400
    items:
      {{- if eq $a.type "tls" }}
      - key: user.crt
        path: user.crt
      - key: user.key
        path: user.key
      {{- else }}
      - key: password
        path: password
      {{- end }}
- name: kafka-ca
  secret:
    secretName: {{ $a.caSecret }}
    items:
      - key: {{ $a.caSecretKey }}
        path: ca.crt
{{- end }}
{{- end }}
