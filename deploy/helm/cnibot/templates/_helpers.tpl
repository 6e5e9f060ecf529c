{{/* Names, labels and shared fragments. */}}

{{- define "cnibot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cnibot.fullname" -}}
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

{{- define "cnibot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cnibot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cnibot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cnibot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "cnibot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cnibot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cnibot.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "cnibot.slackSecretName" -}}
{{- if .Values.slack.createSecret }}
{{- printf "%s-slack" (include "cnibot.fullname" .) }}
{{- else }}
{{- required "slack.existingSecret is required (or set slack.createSecret=true with the tokens)" .Values.slack.existingSecret }}
{{- end }}
{{- end }}

{{- define "cnibot.databaseSecretName" -}}
{{- default (printf "%s-database" (include "cnibot.fullname" .)) .Values.database.postgres.existingSecret }}
{{- end }}

{{- define "cnibot.isPostgres" -}}
{{- if eq .Values.database.type "postgres" }}true{{ end }}
{{- end }}

{{/* Where the SQLite file lives; the data volume is mounted here. */}}
{{- define "cnibot.dataDir" -}}/var/lib/cnibot{{- end }}
{{- define "cnibot.configDir" -}}/etc/cnibot{{- end }}

{{/* CNIBOT_DATABASE_URL, from the Secret for Postgres so the password never appears in the pod spec. */}}
{{- define "cnibot.databaseEnv" -}}
- name: CNIBOT_DATABASE_URL
{{- if include "cnibot.isPostgres" . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "cnibot.databaseSecretName" . }}
      key: {{ .Values.database.postgres.secretKey }}
{{- else }}
  value: {{ printf "sqlite:///%s/cnibot.db" (include "cnibot.dataDir" .) | quote }}
{{- end }}
{{- end }}

{{- define "cnibot.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "cnibot.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Refuse value combinations that would install something broken. Included by the Deployment so every
render checks them.
*/}}
{{- define "cnibot.validate" -}}
{{- $db := .Values.database }}
{{- if not (has $db.type (list "sqlite" "postgres")) }}
{{- fail (printf "database.type must be sqlite or postgres, not %q" $db.type) }}
{{- end }}
{{- if and (eq $db.type "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount=%d is not possible with database.type=sqlite: SQLite is one file on one pod's volume, so run replicaCount=1, or set database.type=postgres to run several replicas" (int .Values.replicaCount)) }}
{{- end }}
{{- if and (eq $db.type "postgres") (not $db.postgres.existingSecret) (not $db.postgres.url) }}
{{- fail "database.type=postgres needs database.postgres.existingSecret (a Secret with the URL) or database.postgres.url" }}
{{- end }}
{{- if .Values.slack.createSecret }}
{{- if or (not .Values.slack.botToken) (not .Values.slack.signingSecret) }}
{{- fail "slack.createSecret=true needs slack.botToken and slack.signingSecret" }}
{{- end }}
{{- if and .Values.slack.socketMode (not .Values.slack.appToken) }}
{{- fail "slack.socketMode=true with slack.createSecret=true needs slack.appToken (xapp-...)" }}
{{- end }}
{{- end }}
{{- range .Values.config.clusters }}
{{- if and .write_enabled (eq (dig "auth" "mode" "" .) "in-cluster") (not $.Values.rbac.write.enabled) }}
{{- fail (printf "config cluster %q has write_enabled: true but rbac.write.enabled is false: the bot could not apply approved changes" .name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Who the RBAC bindings grant to: the bot's ServiceAccount, plus groups for EKS access entries. */}}
{{- define "cnibot.rbacSubjects" -}}
- kind: ServiceAccount
  name: {{ include "cnibot.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- range .Values.rbac.extraGroups }}
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: {{ . }}
{{- end }}
{{- end }}
