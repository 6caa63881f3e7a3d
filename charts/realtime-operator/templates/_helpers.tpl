{{/* Name of the chart, overridable. */}}
{{- define "realtime-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects, at most 63 characters (a DNS label). */}}
{{- define "realtime-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "realtime-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "realtime-operator.labels" -}}
helm.sh/chart: {{ include "realtime-operator.chart" . }}
{{ include "realtime-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: realtime
{{- end }}

{{/* Labels selecting the operator's pods. */}}
{{- define "realtime-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "realtime-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "realtime-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "realtime-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "realtime-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "realtime-operator.nodeImage" -}}
{{- printf "%s:%s" .Values.nodeImage.repository (default .Chart.AppVersion .Values.nodeImage.tag) }}
{{- end }}

{{/*
Rules of the operator on namespaced resources: kept equal to config/rbac/role.yaml (generated
from the +kubebuilder:rbac markers in controllers/) minus the cluster-scoped nodes; a Go test
in test/helm compares them. The operator must hold every permission it grants the node Role.
*/}}
{{- define "realtime-operator.namespacedRules" -}}
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [create, get, list, patch, watch]
- apiGroups: [""]
  resources: [serviceaccounts, services]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create, delete, get, list, update, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [rolebindings, roles]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [realtime.realtimeops.io]
  resources: [realtimeclusters]
  verbs: [get, list, watch]
- apiGroups: [realtime.realtimeops.io]
  resources: [realtimeclusters/finalizers]
  verbs: [update]
- apiGroups: [realtime.realtimeops.io]
  resources: [realtimeclusters/status, tenants/status]
  verbs: [get, patch]
- apiGroups: [realtime.realtimeops.io]
  resources: [tenants]
  verbs: [get, list, patch, watch]
{{- end }}

{{/* Rules on cluster-scoped resources: nodes, read to see cordons and drains. */}}
{{- define "realtime-operator.clusterRules" -}}
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch]
{{- end }}

{{/* Leader election: on when enabled, and always with more than one replica (two replicas
reconciling at once would fight over every assignment). */}}
{{- define "realtime-operator.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ else }}false{{ end }}
{{- end }}
