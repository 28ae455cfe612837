{{/* Pod template of the central roles: (dict "ctx" $ "component" "collector"|"query"|"server"
     "args" (list ...) "values" <role values> "port" <port for probes>). */}}
{{- define "daytwo.centralPodTemplate" -}}
{{- $ := .ctx }}
{{- $v := .values }}
{{- $labelCtx := dict "ctx" $ "component" .component -}}
metadata:
  labels:
    {{- include "daytwo.componentLabels" $labelCtx | nindent 4 }}
  annotations:
    {{- include "daytwo.podAnnotations" (dict "ctx" $ "extra" $v.podAnnotations) | nindent 4 }}
spec:
  automountServiceAccountToken: false
  {{- with $.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  securityContext:
    {{- toYaml $.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ .component }}
      image: {{ include "daytwo.image" $ }}
      imagePullPolicy: {{ $.Values.image.pullPolicy }}
      args: {{ toJson .args }}
      env:
        {{- include "daytwo.commonEnv" $ | nindent 8 }}
        {{- include "daytwo.storeEnv" $ | nindent 8 }}
        {{- if has .component (list "collector" "server") }}
        {{- include "daytwo.collectorEnv" $ | nindent 8 }}
        {{- end }}
        {{- if has .component (list "query" "server") }}
        {{- include "daytwo.queryEnv" $ | nindent 8 }}
        {{- end }}
        {{- with $v.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        {{- if has .component (list "collector" "server") }}
        - name: {{ ternary "collector" "http" (eq .component "server") }}
          containerPort: {{ $.Values.collector.port }}
          protocol: TCP
        {{- end }}
        {{- if has .component (list "query" "server") }}
        - name: {{ ternary "query" "http" (eq .component "server") }}
          containerPort: {{ $.Values.query.port }}
          protocol: TCP
        {{- end }}
      {{- include "daytwo.probes" (dict "ctx" $ "port" .probePort) | nindent 6 }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      securityContext:
        {{- toYaml $.Values.securityContext | nindent 8 }}
      volumeMounts:
        {{- include "daytwo.commonVolumeMounts" $ | nindent 8 }}
        {{- with include "daytwo.esCaVolumeMount" $ }}{{ . | nindent 8 }}{{ end }}
        - name: data
          mountPath: /var/lib/daytwo
  volumes:
    {{- include "daytwo.commonVolumes" $ | nindent 4 }}
    {{- with include "daytwo.esCaVolume" $ }}{{ . | nindent 4 }}{{ end }}
    {{- if not (and (eq .component "server") $.Values.store.embedded.persistence.enabled) }}
    - name: data
      emptyDir: {}
    {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
