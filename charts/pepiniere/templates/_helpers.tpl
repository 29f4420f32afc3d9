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
