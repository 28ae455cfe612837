{{/* Service of a central role: (dict "ctx" $ "component" "collector"|"query" "values" <role>).
     With the embedded store it selects the single server pod and its named port. */}}
{{- define "daytwo.roleService" -}}
{{- $ := .ctx }}
{{- $embedded := include "daytwo.embedded" $ }}
{{- $backing := dict "ctx" $ "component" (include "daytwo.backingComponent" .) -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "daytwo.fullname" $ }}-{{ .component }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "daytwo.componentLabels" . | nindent 4 }}
    daytwo.io/metrics: "true"
  {{- with .values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .values.service.type }}
  selector:
    {{- include "daytwo.componentSelectorLabels" $backing | nindent 4 }}
  ports:
    - name: http
      port: {{ .values.service.port }}
      targetPort: {{ ternary .component "http" (not (empty $embedded)) }}
      protocol: TCP
{{- end }}
