{{/* Names, labels and the pieces shared by several templates. */}}

{{- define "hookguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hookguard.fullname" -}}
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

{{- define "hookguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hookguard.labels" -}}
helm.sh/chart: {{ include "hookguard.chart" . }}
app.kubernetes.io/name: {{ include "hookguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hookguard
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "webhook"). */}}
{{- define "hookguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hookguard.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "hookguard.componentLabels" -}}
{{ include "hookguard.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "hookguard.webhook.fullname" -}}
{{- printf "%s-webhook" (include "hookguard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hookguard.agent.fullname" -}}
{{- printf "%s-agent" (include "hookguard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hookguard.webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create }}
{{- default (include "hookguard.webhook.fullname" .) .Values.webhook.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.webhook.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hookguard.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (include "hookguard.agent.fullname" .) .Values.agent.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Both webhook configurations (validating and mutating) carry this name. */}}
{{- define "hookguard.webhookConfigName" -}}
{{- include "hookguard.fullname" . }}
{{- end }}

{{- define "hookguard.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "hookguard.webhook.fullname" .)) .Values.certificates.secretName }}
{{- end }}

{{- define "hookguard.certificateName" -}}
{{- printf "%s-serving" (include "hookguard.webhook.fullname" .) }}
{{- end }}

{{/* The webhook Service's in-cluster DNS name: the serving certificate must carry it. */}}
{{- define "hookguard.webhook.dnsName" -}}
{{- printf "%s.%s.svc" (include "hookguard.webhook.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "hookguard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
matchConditions CEL. Kept to a small subset on purpose (has(), map .exists() with string
.contains(), &&, ||, ==, field selection, parentheses): the API-server double used in the e2e tests
implements exactly that. contains() rather than a prefix test so that the legacy pre-hook keys
(hook.backup.velero.io/command, no "pre.") are caught too.
Call with (dict "meta" "object.metadata" "guard" "") where guard is a chain of has() checks that
must hold before meta can be selected.
*/}}
{{- define "hookguard.cel.hookAnnotations" -}}
({{ if .guard }}{{ .guard }} && {{ end }}has({{ .meta }}.annotations) && {{ .meta }}.annotations.exists(k, k.contains('hook.backup.velero.io/') || k.contains('hook.restore.velero.io/')))
{{- end }}

{{/* Hook annotations on the pod itself; on UPDATE also on oldObject, so removing or fixing a hook is seen. */}}
{{- define "hookguard.cel.pod" -}}
{{ include "hookguard.cel.hookAnnotations" (dict "meta" "object.metadata" "guard" "") }}
|| (request.operation == 'UPDATE' && {{ include "hookguard.cel.hookAnnotations" (dict "meta" "oldObject.metadata" "guard" "") }})
{{- end }}

{{/*
Hook annotations on a workload, its pod template, a CronJob's job template, or that job template's pod
template. Hooks on the workload's or the job template's own metadata never run (Velero reads pods), so
they are sent too: the webhook refuses them with where to move them.
*/}}
{{- define "hookguard.cel.workloadOf" -}}
{{ include "hookguard.cel.hookAnnotations" (dict "meta" (printf "%s.metadata" .) "guard" "") }}
|| {{ include "hookguard.cel.hookAnnotations" (dict "meta" (printf "%s.spec.jobTemplate.metadata" .) "guard" (printf "has(%s.spec) && has(%s.spec.jobTemplate) && has(%s.spec.jobTemplate.metadata)" . . .)) }}
|| {{ include "hookguard.cel.hookAnnotations" (dict "meta" (printf "%s.spec.template.metadata" .) "guard" (printf "has(%s.spec) && has(%s.spec.template) && has(%s.spec.template.metadata)" . . .)) }}
|| {{ include "hookguard.cel.hookAnnotations" (dict "meta" (printf "%s.spec.jobTemplate.spec.template.metadata" .) "guard" (printf "has(%s.spec) && has(%s.spec.jobTemplate) && has(%s.spec.jobTemplate.spec) && has(%s.spec.jobTemplate.spec.template) && has(%s.spec.jobTemplate.spec.template.metadata)" . . . . .)) }}
{{- end }}

{{- define "hookguard.cel.workload" -}}
{{ include "hookguard.cel.workloadOf" "object" }}
|| (request.operation == 'UPDATE' && (
{{ include "hookguard.cel.workloadOf" "oldObject" }}
))
{{- end }}

{{/*
A controller's copy: an object with a controller ownerReference (ReplicaSet of a Deployment, Pod of a
ReplicaSet, Job of a CronJob, a Backup Velero made with useOwnerReferencesInBackup). Kept out of the
failurePolicy Fail entries so a webhook outage never stops a rollout; the *-copies entries (Ignore)
still send them, and the webhook answers copies with warnings only.
*/}}
{{- define "hookguard.cel.controllerOwned" -}}
has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller == true)
{{- end }}

{{/* A Backup Velero's schedule controller created (it always sets this label). */}}
{{- define "hookguard.cel.scheduledBackup" -}}
request.resource.resource == 'backups' && has(object.metadata.labels) && 'velero.io/schedule-name' in object.metadata.labels && object.metadata.labels['velero.io/schedule-name'] != ''
{{- end }}

{{/*
Velero writes every status change as an UPDATE of the Backup or Schedule itself (no status
subresource), so only CREATEs and UPDATEs that change the hooks are sent: Velero's own writes never
depend on the webhook being up. Call with (dict "resource" "backups" "path" (list "spec")). An absent
field on either side counts as "no hooks"; every selection is guarded by has() so that an object
without spec evaluates to a value instead of an error (an error would apply failurePolicy).
*/}}
{{- define "hookguard.cel.hooksWritten" -}}
{{- $obj := list -}}{{- $old := list -}}
{{- $o := "object" -}}{{- $p := "oldObject" -}}
{{- range (append .path "hooks") -}}
{{- $o = printf "%s.%s" $o . -}}{{- $p = printf "%s.%s" $p . -}}
{{- $obj = append $obj (printf "has(%s)" $o) -}}{{- $old = append $old (printf "has(%s)" $p) -}}
{{- end -}}
request.resource.resource != '{{ .resource }}' || request.operation != 'UPDATE'
|| ({{ join " && " $obj }}) != ({{ join " && " $old }})
|| ({{ join " && " $obj }} && {{ $o }} != {{ $p }})
{{- end }}

{{/*
matchConditions of each entry (all must hold). Call with (dict "copies" BOOL): false for the entries
people's own objects go to (failurePolicy as configured), true for the controllers' copies (Ignore).
Bare Pods have one entry either way: it fails open already.
*/}}
{{- define "hookguard.matchConditions.pods" -}}
- name: has-hook-annotation
  expression: |-
    {{- include "hookguard.cel.pod" . | nindent 4 }}
{{- end }}

{{- define "hookguard.matchConditions.workloads" -}}
- name: has-hook-annotation
  expression: |-
    {{- include "hookguard.cel.workload" . | nindent 4 }}
{{- if .copies }}
- name: controller-owned
  expression: {{ include "hookguard.cel.controllerOwned" . | quote }}
{{- else }}
- name: not-controller-owned
  expression: {{ printf "!(%s)" (include "hookguard.cel.controllerOwned" .) | quote }}
{{- end }}
{{- end }}

{{- define "hookguard.matchConditions.velero" -}}
- name: backup-hooks-written
  expression: |-
    {{- include "hookguard.cel.hooksWritten" (dict "resource" "backups" "path" (list "spec")) | nindent 4 }}
- name: schedule-hooks-written
  expression: |-
    {{- include "hookguard.cel.hooksWritten" (dict "resource" "schedules" "path" (list "spec" "template")) | nindent 4 }}
{{- if .copies }}
- name: controller-copy
  expression: {{ printf "(%s) || (%s)" (include "hookguard.cel.controllerOwned" .) (include "hookguard.cel.scheduledBackup" .) | quote }}
{{- else }}
- name: not-controller-copy
  expression: {{ printf "!(%s) && !(%s)" (include "hookguard.cel.controllerOwned" .) (include "hookguard.cel.scheduledBackup" .) | quote }}
{{- end }}
{{- end }}

{{/* Webhook rules of each group; the operations are always CREATE and UPDATE (DELETE/CONNECT pass untouched). */}}
{{- define "hookguard.rules.pods" -}}
- apiGroups: [""]
  apiVersions: ["v1"]
  resources: ["pods"]
  operations: ["CREATE", "UPDATE"]
  scope: Namespaced
{{- end }}

{{- define "hookguard.rules.workloads" -}}
- apiGroups: ["apps"]
  apiVersions: ["v1"]
  resources: ["deployments", "statefulsets", "daemonsets", "replicasets"]
  operations: ["CREATE", "UPDATE"]
  scope: Namespaced
- apiGroups: [""]
  apiVersions: ["v1"]
  resources: ["replicationcontrollers"]
  operations: ["CREATE", "UPDATE"]
  scope: Namespaced
- apiGroups: ["batch"]
  apiVersions: ["v1"]
  resources: ["jobs", "cronjobs"]
  operations: ["CREATE", "UPDATE"]
  scope: Namespaced
{{- end }}

{{- define "hookguard.rules.velero" -}}
- apiGroups: ["velero.io"]
  apiVersions: ["v1"]
  resources: ["backups", "schedules"]
  operations: ["CREATE", "UPDATE"]
  scope: Namespaced
{{- end }}

{{/* Namespaces the webhook never sees: kube-system (by default) and its own namespace. */}}
{{/*
namespaceSelector of every webhook entry: the excluded namespaces (release namespace included), the
mutating opt-in label when asked (dict "ctx" $ "optIn" true), and webhook.namespaceSelector's own terms,
all ANDed: webhook.namespaceSelector can only narrow what is sent, never re-include an excluded namespace.
*/}}
{{- define "hookguard.namespaceSelector" -}}
{{- $sel := .ctx.Values.webhook.namespaceSelector -}}
{{- with $sel.matchLabels }}
matchLabels:
  {{- toYaml . | nindent 2 }}
{{- end }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: {{ include "hookguard.excludedNamespaces" .ctx }}
{{- if .optIn }}
  - key: hookguard.io/mutate
    operator: In
    values: ["enabled"]
{{- end }}
{{- with $sel.matchExpressions }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* webhook.objectSelector, when it has terms (an empty selector selects everything: left out). */}}
{{- define "hookguard.objectSelector" -}}
{{- $sel := .Values.webhook.objectSelector -}}
{{- if or $sel.matchLabels $sel.matchExpressions }}
objectSelector:
  {{- with $sel.matchLabels }}
  matchLabels:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $sel.matchExpressions }}
  matchExpressions:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Exemptions by identity, as matchConditions on request.userInfo (every condition must hold for a request
to be sent): requests of webhook.exemptUsers (exact usernames) and of members of webhook.exemptGroups
never reach the webhook. The names are CEL string literals; values.schema.json refuses quotes,
backslashes, blanks and "*" in them, and the groups everyone is in.
*/}}
{{- define "hookguard.celStringList" -}}
{{- $q := list -}}
{{- range . }}{{ $q = append $q (printf "'%s'" .) }}{{ end -}}
[{{ join ", " $q }}]
{{- end }}

{{- define "hookguard.matchConditions.exemptions" -}}
{{- with .Values.webhook.exemptUsers }}
- name: not-exempt-user
  expression: {{ printf "!(request.userInfo.username in %s)" (include "hookguard.celStringList" .) | quote }}
{{- end }}
{{- with .Values.webhook.exemptGroups }}
- name: not-exempt-group
  expression: {{ printf "!(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in %s))" (include "hookguard.celStringList" .) | quote }}
{{- end }}
{{- end }}

{{- define "hookguard.excludedNamespaces" -}}
{{- $ns := concat (list .Release.Namespace) .Values.webhook.excludedNamespaces | uniq }}
{{- toJson $ns }}
{{- end }}

{{- define "hookguard.caBundle" -}}
{{- if eq .Values.certificates.mode "provided" -}}
caBundle: {{ .Values.certificates.provided.caBundle | quote }}
{{- end }}
{{- end }}

{{/*
Annotations of both webhook configurations. certManager: cainjector fills caBundle from the
Certificate. managed: the webhook patches caBundle itself; the annotation only documents it.
*/}}
{{- define "hookguard.webhookConfigAnnotations" -}}
{{- if eq .Values.certificates.mode "certManager" -}}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "hookguard.certificateName" .) }}
{{- else if eq .Values.certificates.mode "managed" -}}
annotations:
  hookguard.io/ca-bundle: managed-by-webhook
{{- end }}
{{- end }}

{{/*
"true" when the agent's storage is a volume that only one node can mount (a PVC without
ReadWriteMany). Such a volume cannot be shared by replicas on different nodes, and a Deployment
cannot hand one volume over to whichever replica becomes leader (the kubelet mounts volumes when a
pod starts, not when its process wins a Lease), so the chart runs a single replica on it.
*/}}
{{/* Only standalone stores archives, logs and hook results; companion mode mounts no storage. */}}
{{- define "hookguard.agent.storesArchives" -}}
{{- if eq .Values.agent.mode "standalone" -}}
true
{{- end -}}
{{- end }}

{{- define "hookguard.agent.singleNodeStorage" -}}
{{- if and (include "hookguard.agent.storesArchives" .) (ne .Values.agent.storage.type "emptyDir") (not (has "ReadWriteMany" .Values.agent.storage.accessModes)) -}}
true
{{- end -}}
{{- end }}

{{/* Refuses agent settings that cannot work, with a message saying what to change. */}}
{{- define "hookguard.agent.validate" -}}
{{- if and (include "hookguard.agent.singleNodeStorage" .) (gt (int .Values.agent.replicas) 1) -}}
{{- fail (printf "agent.replicas=%d needs storage every replica can mount: agent.storage.accessModes %v cannot be mounted on two nodes. Use a ReadWriteMany storage class (agent.storage.storageClassName; NFS, CephFS, EFS, Azure Files, Filestore), or set agent.replicas=1 (one replica, rescheduled with its volume when its node fails). See the chart README, \"Agent storage and HA\"." (int .Values.agent.replicas) .Values.agent.storage.accessModes) -}}
{{- end -}}
{{- end }}

{{/*
Agent affinity default: replicas preferably on different nodes, so that one node failure leaves a
standby that takes the Lease over. Never required: a cluster with one schedulable node still runs.
*/}}
{{- define "hookguard.agent.affinity" -}}
{{- if .Values.agent.affinity }}
{{- toYaml .Values.agent.affinity }}
{{- else }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "hookguard.selectorLabels" (dict "ctx" . "component" "agent") | nindent 12 }}
{{- end }}
{{- end }}
