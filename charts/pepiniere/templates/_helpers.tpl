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
