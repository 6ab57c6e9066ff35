{{/*
Helpers of the co2-calculator chart.

Environment model: files/variables.yaml (generated from pkg/config) lists every variable of the README's
Configuration table with the binaries that read it and whether it is a secret. Non-secret variables come from
.Values.config (+ <binary>.config) through one ConfigMap per binary; secrets are files mounted from a Secret
and named by NAME_FILE; a few are computed by the chart (co2.computedEnv).
*/}}

{{- define "co2.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "co2.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* co2.componentName (dict "root" $ "component" "api"): <fullname>-<component>. */}}
{{- define "co2.componentName" -}}
{{- printf "%s-%s" (include "co2.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "co2.selectorLabels" -}}
app.kubernetes.io/name: {{ include "co2.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/* co2.labels (dict "root" $ "component" "api"). */}}
{{- define "co2.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "co2.selectorLabels" . }}
app.kubernetes.io/version: {{ include "co2.imageTag" .root | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: co2-calculator
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "co2.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "co2.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (include "co2.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{- define "co2.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "co2.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "co2.secretName" -}}
{{- default (include "co2.componentName" (dict "root" . "component" "secrets")) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The variables, by name: {binaries: [...], secret: bool, default: "..."}. */}}
{{- define "co2.variables" -}}
{{- .Files.Get "files/variables.yaml" -}}
{{- end -}}

{{/* co2.str: a value as the string the environment gets (integral numbers without exponent; nil is ""). */}}
{{- define "co2.str" -}}
{{- $v := . -}}
{{- if kindIs "invalid" $v -}}
{{- else if kindIs "float64" $v -}}
{{- if eq $v (floor $v) -}}{{ printf "%.0f" $v }}{{- else -}}{{ $v }}{{- end -}}
{{- else -}}
{{- toString $v -}}
{{- end -}}
{{- end -}}

{{/* co2.blobVolume: "true" when the local blob volume is mounted (enabled and BLOB_BACKEND is not s3). */}}
{{- define "co2.blobVolume" -}}
{{- $backend := include "co2.str" (index .Values.config "BLOB_BACKEND") -}}
{{- range $b := list "api" "worker" -}}
{{- $o := index (index $.Values $b "config" | default dict) "BLOB_BACKEND" -}}
{{- if $o }}{{ $backend = include "co2.str" $o }}{{ end -}}
{{- end -}}
{{- if and .Values.blobVolume.enabled (ne $backend "s3") -}}true{{- end -}}
{{- end -}}

{{/* co2.computedEnv (dict "root" $ "binary" "api"): the variables the chart sets itself, as a YAML map. */}}
{{- define "co2.computedEnv" -}}
{{- $v := .root.Values -}}
{{- if eq .binary "api" }}
HTTP_ADDR: {{ printf ":%d" (int $v.ports.http) | quote }}
{{- end }}
{{- if or (eq .binary "api") (eq .binary "worker") }}
ADMIN_ADDR: {{ printf ":%d" (int $v.ports.admin) | quote }}
{{- if include "co2.blobVolume" .root }}
BLOB_LOCAL_DIR: {{ $v.blobVolume.mountPath | quote }}
{{- end }}
{{- end }}
{{- if eq .binary "worker" }}
WORKER_SHUTDOWN_TIMEOUT: {{ printf "%ds" (int $v.worker.shutdownTimeoutSeconds) | quote }}
{{- if $v.elasticsearchCA.name }}
ES_CA_FILE: {{ printf "/etc/co2-calculator/elasticsearch-ca/%s" $v.elasticsearchCA.key | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* co2.config (dict "root" $ "binary" "api"): the non-secret, non-computed variables the binary gets from its
ConfigMap, as a YAML map of strings. */}}
{{- define "co2.config" -}}
{{- $root := .root -}}
{{- $binary := .binary -}}
{{- $vars := include "co2.variables" $root | fromYaml -}}
{{- $computed := include "co2.computedEnv" . | fromYaml -}}
{{- $over := index $root.Values $binary "config" | default dict -}}
{{- $out := dict -}}
{{- range $name, $meta := $vars -}}
{{- if and (has $binary $meta.binaries) (not $meta.secret) (not (hasKey $computed $name)) -}}
{{- $val := include "co2.str" (index $root.Values.config $name) -}}
{{- $o := include "co2.str" (index $over $name) -}}
{{- if ne $o "" }}{{ $val = $o }}{{ end -}}
{{- if ne $val "" -}}
{{- $_ := set $out $name $val -}}
{{- else if has $name $root.Values.setEmpty -}}
{{- $_ := set $out $name "" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* co2.secretKeys: the keys of the Secret, as a YAML list. */}}
{{- define "co2.secretKeys" -}}
{{- $keys := list -}}
{{- if .Values.secrets.existingSecret -}}
{{- $keys = .Values.secrets.existingSecretKeys -}}
{{- else if .Values.secrets.create -}}
{{- range $k, $v := .Values.secrets.values -}}
{{- if ne (include "co2.str" $v) "" }}{{ $keys = append $keys $k }}{{ end -}}
{{- end -}}
{{- if and .Values.secrets.awsCredentials.accessKeyId .Values.secrets.awsCredentials.secretAccessKey -}}
{{- $keys = append $keys "aws-credentials" -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "keys" (sortAlpha $keys)) -}}
{{- end -}}

{{/* co2.binarySecretKeys (dict "root" $ "binary" "api"): the Secret keys mounted for a binary (the secrets it
reads, plus aws-credentials for the blob store of api and worker). */}}
{{- define "co2.binarySecretKeys" -}}
{{- $vars := include "co2.variables" .root | fromYaml -}}
{{- $keys := (include "co2.secretKeys" .root | fromYaml).keys | default list -}}
{{- $out := list -}}
{{- range $k := $keys -}}
{{- $meta := index $vars $k -}}
{{- if and $meta $meta.secret (has $.binary $meta.binaries) -}}
{{- $out = append $out $k -}}
{{- else if and (eq $k "aws-credentials") (has $.binary (list "api" "worker" "dbdump")) -}}
{{- $out = append $out $k -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "keys" $out) -}}
{{- end -}}

{{/* co2.secretEnv (dict "root" $ "binary" "api"): NAME_FILE entries (env list items). */}}
{{- define "co2.secretEnv" -}}
{{- $mount := .root.Values.secrets.mountPath -}}
{{- range $k := (include "co2.binarySecretKeys" . | fromYaml).keys }}
{{- if eq $k "aws-credentials" }}
- name: AWS_SHARED_CREDENTIALS_FILE
  value: {{ printf "%s/%s" $mount $k | quote }}
{{- else }}
- name: {{ printf "%s_FILE" $k }}
  value: {{ printf "%s/%s" $mount $k | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* co2.env (dict "root" $ "binary" "api"): the explicit env list of a container (computed + secret files). */}}
{{- define "co2.env" -}}
{{- range $k, $v := include "co2.computedEnv" . | fromYaml }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- include "co2.secretEnv" . }}
{{- end -}}

{{/* co2.secretVolume (dict "root" $ "binary" "api"): the projected Secret volume (volumes list item). */}}
{{- define "co2.secretVolume" -}}
{{- $keys := (include "co2.binarySecretKeys" . | fromYaml).keys -}}
{{- if $keys }}
- name: secrets
  secret:
    secretName: {{ include "co2.secretName" .root }}
    defaultMode: 0440
    items:
      {{- range $k := $keys }}
      - key: {{ $k }}
        path: {{ $k }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "co2.secretVolumeMount" -}}
{{- if (include "co2.binarySecretKeys" . | fromYaml).keys }}
- name: secrets
  mountPath: {{ .root.Values.secrets.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "co2.tmpVolume" -}}
- name: tmp
  emptyDir:
    {{- with .Values.tmp.medium }}
    medium: {{ . }}
    {{- end }}
    sizeLimit: {{ .Values.tmp.sizeLimit }}
{{- end -}}

{{/* co2.checksums (dict "root" $ "binary" "api"): pod annotations that roll the pods when their configuration
changes. */}}
{{- define "co2.checksums" -}}
checksum/config: {{ include "co2.config" . | sha256sum }}
{{- if and .root.Values.secrets.create (not .root.Values.secrets.existingSecret) }}
checksum/secrets: {{ toYaml .root.Values.secrets | sha256sum }}
{{- end }}
{{- end -}}

{{/* co2.queues: the worker's queues and MaxWorkers (WORKER_QUEUES, or the binary's default), as a YAML map. */}}
{{- define "co2.queues" -}}
{{- $vars := include "co2.variables" . | fromYaml -}}
{{- $spec := index (include "co2.config" (dict "root" . "binary" "worker") | fromYaml) "WORKER_QUEUES" | default (index $vars "WORKER_QUEUES").default -}}
{{- $out := dict -}}
{{- range $part := splitList "," $spec -}}
{{- $kv := splitList "=" (trim $part) -}}
{{- if ne (len $kv) 2 -}}
{{- fail (printf "WORKER_QUEUES: %q is not queue=maxWorkers" $part) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z0-9_-]+$" (trim (index $kv 0))) -}}
{{- fail (printf "WORKER_QUEUES: queue name %q: want [a-z0-9_-]+" (index $kv 0)) -}}
{{- end -}}
{{- $_ := set $out (trim (index $kv 0)) (atoi (trim (index $kv 1))) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* co2.validate: fails on values the binaries or the chart would refuse or silently ignore. */}}
{{- define "co2.validate" -}}
{{- $v := .Values -}}
{{- $vars := include "co2.variables" . | fromYaml -}}
{{- $chartSet := list "HTTP_ADDR" "ADMIN_ADDR" "WORKER_SHUTDOWN_TIMEOUT" -}}
{{- range $section := list "config" "api" "worker" "migrate" -}}
{{- $cfg := ternary $v.config (index $v $section "config" | default dict) (eq $section "config") -}}
{{- $path := ternary "config" (printf "%s.config" $section) (eq $section "config") -}}
{{- range $name, $val := $cfg -}}
{{- $meta := index $vars $name -}}
{{- if not $meta -}}
{{- fail (printf "%s.%s: not a variable of the README's Configuration table (files/variables.yaml)" $path $name) -}}
{{- end -}}
{{- if $meta.secret -}}
{{- fail (printf "%s.%s: a secret; give it in secrets.values or secrets.existingSecret" $path $name) -}}
{{- end -}}
{{- if and (has $name $chartSet) (ne (include "co2.str" $val) "") -}}
{{- fail (printf "%s.%s: set by the chart (ports.*, worker.shutdownTimeoutSeconds)" $path $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name := $v.setEmpty -}}
{{- if not (index $vars $name) }}{{ fail (printf "setEmpty: %s is not a variable" $name) }}{{ end -}}
{{- end -}}
{{- range $name, $val := $v.secrets.values -}}
{{- $meta := index $vars $name -}}
{{- if not (and $meta $meta.secret) -}}
{{- fail (printf "secrets.values.%s: not a secret variable (those with a _FILE form)" $name) -}}
{{- end -}}
{{- end -}}
{{- range $name := $v.secrets.existingSecretKeys -}}
{{- $meta := index $vars $name -}}
{{- if not (or (eq $name "aws-credentials") (and $meta $meta.secret)) -}}
{{- fail (printf "secrets.existingSecretKeys: %s is neither a secret variable nor aws-credentials" $name) -}}
{{- end -}}
{{- end -}}
{{- if and $v.secrets.existingSecret $v.secrets.create -}}
{{- fail "secrets: set create: false when existingSecret is used" -}}
{{- end -}}
{{- if lt (int $v.worker.terminationGraceMarginSeconds) 10 -}}
{{- fail "worker.terminationGraceMarginSeconds: at least 10 (StopAndCancel, the hand-back, the last heartbeat)" -}}
{{- end -}}
{{- $k := $v.worker.autoscaling.keda -}}
{{- if $k.enabled -}}
{{- if lt (int $k.minReplicas) 1 -}}
{{- fail "worker.autoscaling.keda.minReplicas: at least 1 (periodic jobs are enqueued by a running worker, River's leader)" -}}
{{- end -}}
{{- if gt (int $k.minReplicas) (int $k.maxReplicas) -}}
{{- fail "worker.autoscaling.keda: minReplicas > maxReplicas" -}}
{{- end -}}
{{- range $q, $t := $k.queueTargets -}}
{{- if not (hasKey (include "co2.queues" $ | fromYaml) $q) -}}
{{- fail (printf "worker.autoscaling.keda.queueTargets.%s: not a queue of WORKER_QUEUES" $q) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $v.dbDump.enabled -}}
{{- if not (or $v.dbDump.s3.bucket (include "co2.str" $v.config.S3_BUCKET)) -}}
{{- fail "dbDump.enabled needs an S3 bucket: dbDump.s3.bucket or config.S3_BUCKET" -}}
{{- end -}}
{{- end -}}
{{- range $b := list "api" "worker" -}}
{{- $cfg := include "co2.config" (dict "root" $ "binary" $b) | fromYaml -}}
{{- if and (eq (index $cfg "BLOB_BACKEND" | default "") "s3") (not (index $cfg "S3_BUCKET")) -}}
{{- fail "config.S3_BUCKET is required with BLOB_BACKEND=s3" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* co2.egress (dict "root" $ "https" bool): egress rules of a NetworkPolicy. */}}
{{- define "co2.egress" -}}
{{- $e := .root.Values.networkPolicy.egress -}}
{{- if $e.dns }}
- ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
{{- end }}
- ports:
    - {protocol: TCP, port: {{ int $e.database.port }}}
  {{- with $e.database.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- if and .https $e.https.ports }}
- ports:
    {{- range $p := $e.https.ports }}
    - {protocol: TCP, port: {{ int $p }}}
    {{- end }}
  {{- with $e.https.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- with $e.extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}
