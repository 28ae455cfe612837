{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "daytwo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix. Role names ("-forwarder", "-collector", ...) are appended, so
     keep room for them: 63 - len("-collector") = 53. */}}
{{- define "daytwo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 53 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "daytwo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "daytwo.labels" -}}
helm.sh/chart: {{ include "daytwo.chart" . }}
{{ include "daytwo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "daytwo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "daytwo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one role: (dict "ctx" $ "component" "collector"). */}}
{{- define "daytwo.componentLabels" -}}
{{ include "daytwo.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "daytwo.componentSelectorLabels" -}}
{{ include "daytwo.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "daytwo.embedded" -}}
{{- if eq .Values.store.kind "embedded" }}true{{ end }}
{{- end }}

{{/* The component whose pods back the collector and query Services: "server" (the one
     `serve collector,query` pod) with the embedded store, else the role itself. */}}
{{- define "daytwo.backingComponent" -}}
{{- if include "daytwo.embedded" .ctx }}server{{ else }}{{ .component }}{{ end }}
{{- end }}

{{- define "daytwo.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "daytwo.tokenSecretName" -}}
{{- default (printf "%s-tokens" (include "daytwo.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{- define "daytwo.esSecretName" -}}
{{- default (printf "%s-elasticsearch" (include "daytwo.fullname" .)) .Values.store.elasticsearch.existingSecret }}
{{- end }}

{{- define "daytwo.forwarderServiceAccountName" -}}
{{- if .Values.forwarder.serviceAccount.create }}
{{- default (printf "%s-forwarder" (include "daytwo.fullname" .)) .Values.forwarder.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.forwarder.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "daytwo.collectorUrl" -}}
{{- if .Values.forwarder.collectorUrl }}
{{- .Values.forwarder.collectorUrl }}
{{- else }}
{{- printf "http://%s-collector:%d" (include "daytwo.fullname" .) (int .Values.collector.service.port) }}
{{- end }}
{{- end }}

{{/* Environment shared by every role. */}}
{{- define "daytwo.commonEnv" -}}
- name: DAYTWO_NODE
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: DAYTWO_DATA_DIR
  value: /var/lib/daytwo
{{- if .Values.config }}
- name: DAYTWO_CONFIG
  value: /etc/daytwo/config/config.json
{{- end }}
{{- end }}

{{/* Store environment for collector and query. */}}
{{- define "daytwo.storeEnv" -}}
- name: DAYTWO_STORE_KIND
  value: {{ .Values.store.kind | quote }}
{{- if not (include "daytwo.embedded" .) }}
{{- $es := .Values.store.elasticsearch }}
- name: DAYTWO_STORE_ELASTICSEARCH_URL
  value: {{ $es.url | quote }}
- name: DAYTWO_STORE_ELASTICSEARCH_DATA_STREAM
  value: {{ $es.dataStream | quote }}
{{- $keys := $es.existingSecretKeys }}
{{- if not $es.existingSecret }}
{{- $keys = dict "username" "username" "password" "password" "apiKey" "api-key" }}
{{- end }}
- name: DAYTWO_STORE_ELASTICSEARCH_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "daytwo.esSecretName" . }}
      key: {{ $keys.username }}
      optional: true
- name: DAYTWO_STORE_ELASTICSEARCH_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "daytwo.esSecretName" . }}
      key: {{ $keys.password }}
      optional: true
- name: DAYTWO_STORE_ELASTICSEARCH_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "daytwo.esSecretName" . }}
      key: {{ $keys.apiKey }}
      optional: true
{{- if $es.caSecret.name }}
- name: DAYTWO_STORE_ELASTICSEARCH_CA_FILE
  value: /etc/daytwo/elasticsearch-ca/{{ $es.caSecret.key }}
{{- end }}
{{- end }}
{{- end }}

{{- define "daytwo.collectorEnv" -}}
- name: DAYTWO_COLLECTOR_HOST
  value: 0.0.0.0
- name: DAYTWO_COLLECTOR_PORT
  value: {{ .Values.collector.port | quote }}
- name: DAYTWO_COLLECTOR_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ include "daytwo.tokenSecretName" . }}
      key: collector-tokens
{{- end }}

{{- define "daytwo.queryEnv" -}}
- name: DAYTWO_QUERY_HOST
  value: 0.0.0.0
- name: DAYTWO_QUERY_PORT
  value: {{ .Values.query.port | quote }}
- name: DAYTWO_QUERY_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ include "daytwo.tokenSecretName" . }}
      key: query-tokens
{{- end }}

{{/* Liveness and readiness probes on one port name. */}}
{{- define "daytwo.probes" -}}
{{- $p := .ctx.Values.probes -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  initialDelaySeconds: {{ $p.liveness.initialDelaySeconds }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  initialDelaySeconds: {{ $p.readiness.initialDelaySeconds }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
{{- end }}

{{/* Volumes every pod has: a writable /tmp (the root filesystem is read-only) and the
     optional config file. */}}
{{- define "daytwo.commonVolumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.config }}
- name: config
  configMap:
    name: {{ include "daytwo.fullname" . }}-config
{{- end }}
{{- end }}

{{- define "daytwo.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.config }}
- name: config
  mountPath: /etc/daytwo/config
  readOnly: true
{{- end }}
{{- end }}

{{- define "daytwo.esCaVolume" -}}
{{- if and (not (include "daytwo.embedded" .)) .Values.store.elasticsearch.caSecret.name }}
- name: elasticsearch-ca
  secret:
    secretName: {{ .Values.store.elasticsearch.caSecret.name }}
{{- end }}
{{- end }}

{{- define "daytwo.esCaVolumeMount" -}}
{{- if and (not (include "daytwo.embedded" .)) .Values.store.elasticsearch.caSecret.name }}
- name: elasticsearch-ca
  mountPath: /etc/daytwo/elasticsearch-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod-template annotations: config and token checksums roll the pods when they change. */}}
{{- define "daytwo.podAnnotations" -}}
checksum/config: {{ toJson .ctx.Values.config | sha256sum }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}
