{{/* The release's name for every object: the chart name, or the release name when it already contains it. */}}
{{- define "shep.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "shep.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "shep.labels" -}}
{{ include "shep.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shep-operator
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "shep.serviceAccountName" -}}
{{- default (include "shep.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "shep.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "shep.routeImage" -}}
{{- default (include "shep.image" .) .Values.routeImage -}}
{{- end -}}

{{/* Whether a calendar file is mounted. */}}
{{- define "shep.hasCalendar" -}}
{{- if or .Values.calendar.daysOff .Values.calendar.workingDays .Values.calendar.kurbanAit -}}true{{- end -}}
{{- end -}}
