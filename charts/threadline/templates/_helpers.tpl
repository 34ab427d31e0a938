{{/* Names. */}}
{{- define "threadline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "threadline.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>", what every object of a component is called. */}}
{{- define "threadline.componentName" -}}
{{- printf "%s-%s" (include "threadline.fullname" .root | trunc 45 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "threadline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: only app.kubernetes.io/* keys, stable across upgrades. Call with (dict "root" $ "component" "ingest"). */}}
{{- define "threadline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "threadline.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "threadline.labels" -}}
helm.sh/chart: {{ include "threadline.chart" .root }}
{{ include "threadline.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: threadline
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "threadline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "threadline.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "threadline.secretName" -}}
{{- default (include "threadline.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* <registry>/<repository>:<tag>[@<digest>]. Call with (dict "root" $ "image" .Values.ingest.image). */}}
{{- define "threadline.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- $repository := .image.repository -}}
{{- $tag := default (default .root.Chart.AppVersion .root.Values.image.tag) .image.tag -}}
{{- $ref := ternary $repository (printf "%s/%s" $registry $repository) (or (empty $registry) (contains "/" $repository)) -}}
{{- if .image.digest -}}
{{- printf "%s:%s@%s" $ref $tag .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref $tag -}}
{{- end -}}
{{- end -}}

{{/* One environment variable from the release's Secret (or .secretName). (dict "root" $ "name" ENV "key" KEY "optional" bool) */}}
{{- define "threadline.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName | default (include "threadline.secretName" .root) }}
      key: {{ .key }}
      optional: {{ .optional }}
{{- end -}}

{{/* "true" when the defaults or a channel name an on call (PagerDuty), so zendesk-sync needs the token. */}}
{{- define "threadline.usesOnCall" -}}
{{- $found := not (empty (.Values.channels.defaults | default dict).on_call) -}}
{{- range $id, $rules := (.Values.channels.channels | default dict) -}}
{{- if and $rules (not (empty $rules.on_call)) -}}
{{- $found = true -}}
{{- end -}}
{{- end -}}
{{- $found -}}
{{- end -}}

{{/* The TCP port of an http(s) URL: its explicit port, else 443 or 80. */}}
{{- define "threadline.urlPort" -}}
{{- $url := urlParse . -}}
{{- $hostPort := splitList ":" $url.host -}}
{{- if gt (len $hostPort) 1 -}}
{{- last $hostPort -}}
{{- else -}}
{{- ternary "443" "80" (eq $url.scheme "https") -}}
{{- end -}}
{{- end -}}

{{- define "threadline.kafkaSasl" -}}
{{- hasPrefix "SASL" .Values.kafka.securityProtocol -}}
{{- end -}}

{{- define "threadline.kafkaTls" -}}
{{- and (hasSuffix "SSL" .Values.kafka.securityProtocol) (not (empty .Values.kafka.tls.existingSecret)) -}}
{{- end -}}

{{/* KAFKA_* for a component. (dict "root" $ "component" "router" ["secretName" NAME]) */}}
{{- define "threadline.kafkaEnv" -}}
{{- $kafka := .root.Values.kafka -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ $kafka.bootstrapServers | quote }}
- name: KAFKA_CLIENT_ID
  value: {{ printf "threadline-%s" .component | quote }}
- name: KAFKA_TOPIC_PREFIX
  value: {{ $kafka.topicPrefix | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $kafka.securityProtocol | quote }}
{{- if eq (include "threadline.kafkaSasl" .root) "true" }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $kafka.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ $kafka.sasl.username | quote }}
{{ include "threadline.secretEnv" (dict "root" .root "secretName" .secretName "name" "KAFKA_SASL_PASSWORD" "key" "kafka-sasl-password" "optional" false) }}
{{- end }}
{{- if eq (include "threadline.kafkaTls" .root) "true" }}
- name: KAFKA_SSL_CA_LOCATION
  value: /etc/threadline/kafka-tls/ca.crt
{{- if $kafka.tls.clientAuth }}
- name: KAFKA_SSL_CERTIFICATE_LOCATION
  value: /etc/threadline/kafka-tls/tls.crt
- name: KAFKA_SSL_KEY_LOCATION
  value: /etc/threadline/kafka-tls/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{/* Extra env: the service's env map, then its extraEnv list. (the service's values) */}}
{{- define "threadline.extraEnv" -}}
{{- range $name, $value := .env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Mounts every container has: a writable /tmp (the root filesystem is read-only) and Kafka's TLS files. */}}
{{- define "threadline.commonMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if eq (include "threadline.kafkaTls" .) "true" }}
- name: kafka-tls
  mountPath: /etc/threadline/kafka-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "threadline.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- if eq (include "threadline.kafkaTls" .) "true" }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .Values.kafka.tls.caKey }}
        path: ca.crt
      {{- if .Values.kafka.tls.clientAuth }}
      - key: {{ .Values.kafka.tls.certKey }}
        path: tls.crt
      - key: {{ .Values.kafka.tls.keyKey }}
        path: tls.key
      {{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every workload. (dict "root" $ "svc" .Values.router) */}}
{{- define "threadline.podSpecCommon" -}}
serviceAccountName: {{ include "threadline.serviceAccountName" .root }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .svc.terminationGracePeriodSeconds }}
{{- with .svc.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .svc.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .svc.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .svc.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Container settings shared by every service: image, security context, probes, resources. */}}
{{- define "threadline.containerCommon" -}}
image: {{ include "threadline.image" (dict "root" .root "image" .svc.image) }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.securityContext | nindent 2 }}
livenessProbe:
  {{- toYaml .svc.livenessProbe | nindent 2 }}
readinessProbe:
  {{- toYaml .svc.readinessProbe | nindent 2 }}
startupProbe:
  {{- toYaml .svc.startupProbe | nindent 2 }}
resources:
  {{- toYaml .svc.resources | nindent 2 }}
{{- end -}}

{{/* Pod annotations: restart pods when the channel routing or a chart-made Secret changes. */}}
{{- define "threadline.podAnnotations" -}}
checksum/channels: {{ toYaml .root.Values.channels | sha256sum }}
{{- if .root.Values.secrets.create }}
checksum/secret: {{ toYaml .root.Values.secrets.values | sha256sum }}
{{- end }}
{{- with .svc.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Values that the schema cannot express; each failure names the value to change. */}}
{{- define "threadline.validate" -}}
{{- $v := .Values -}}
{{- if and (eq (include "threadline.kafkaSasl" .) "true") (or (empty $v.kafka.sasl.mechanism) (empty $v.kafka.sasl.username)) -}}
{{- fail (printf "kafka.securityProtocol is %s: set kafka.sasl.mechanism and kafka.sasl.username (the password goes in the secret key kafka-sasl-password)" $v.kafka.securityProtocol) -}}
{{- end -}}
{{- if and $v.kafka.tls.existingSecret (not (hasSuffix "SSL" $v.kafka.securityProtocol)) -}}
{{- fail (printf "kafka.tls.existingSecret is set but kafka.securityProtocol is %s: use SSL or SASL_SSL" $v.kafka.securityProtocol) -}}
{{- end -}}
{{- if and $v.secrets.create $v.secrets.existingSecret -}}
{{- fail "set either secrets.existingSecret (a Secret you made) or secrets.create (made from values), not both" -}}
{{- end -}}
{{- if $v.secrets.create -}}
{{- $s := $v.secrets.values -}}
{{- if and $v.ingest.enabled (not $v.slack.socketMode) (empty $s.slackSigningSecret) -}}
{{- fail "secrets.create: set secrets.values.slackSigningSecret (or slack.socketMode with secrets.values.slackAppToken)" -}}
{{- end -}}
{{- if and $v.ingest.enabled $v.slack.socketMode (not (hasPrefix "xapp-" $s.slackAppToken)) -}}
{{- fail "slack.socketMode: secrets.values.slackAppToken must be an app-level token (xapp-...)" -}}
{{- end -}}
{{- if and (or $v.zendeskSync.enabled $v.reporter.enabled) (empty $s.slackBotToken) -}}
{{- fail "secrets.create: set secrets.values.slackBotToken (xoxb-...)" -}}
{{- end -}}
{{- if and $v.zendeskSync.enabled (empty $s.zendeskApiToken) (empty $s.zendeskOauthToken) -}}
{{- fail "secrets.create: set secrets.values.zendeskApiToken (with zendesk.email) or secrets.values.zendeskOauthToken" -}}
{{- end -}}
{{- if and (eq (include "threadline.kafkaSasl" .) "true") (empty $s.kafkaSaslPassword) -}}
{{- fail "secrets.create: set secrets.values.kafkaSaslPassword (kafka.securityProtocol uses SASL)" -}}
{{- end -}}
{{- if and $v.elasticsearch.apiKey (empty $s.elasticsearchApiKey) -}}
{{- fail "secrets.create: set secrets.values.elasticsearchApiKey (elasticsearch.apiKey is true)" -}}
{{- end -}}
{{- if and $v.zendeskSync.enabled (eq (include "threadline.usesOnCall" .) "true") (empty $s.pagerdutyApiToken) -}}
{{- fail "secrets.create: set secrets.values.pagerdutyApiToken (a channel sets on_call)" -}}
{{- end -}}
{{- if and $v.ingest.enabled $v.zendesk.webhookBasicAuthUsername (empty $s.zendeskBasicAuthPassword) -}}
{{- fail "secrets.create: set secrets.values.zendeskBasicAuthPassword (zendesk.webhookBasicAuthUsername is set)" -}}
{{- end -}}
{{- if and $v.reporter.enabled $v.reporter.api.enabled (lt (len $s.reporterApiToken) 24) -}}
{{- fail "secrets.create: set secrets.values.reporterApiToken, 24 characters or more (reporter.api.enabled is true)" -}}
{{- end -}}
{{- if and $v.kibana.importJob.enabled $v.kibana.importJob.username (empty $s.kibanaPassword) -}}
{{- fail "secrets.create: set secrets.values.kibanaPassword (kibana.importJob.username is set)" -}}
{{- end -}}
{{- end -}}
{{- if and $v.zendeskSync.enabled $v.zendesk.email (not (contains "@" $v.zendesk.email)) -}}
{{- fail (printf "zendesk.email %q is not an email address" $v.zendesk.email) -}}
{{- end -}}
{{- if and $v.ingest.ingress.enabled $v.ingest.ingress.tls.enabled (empty $v.ingest.ingress.tls.secretName) -}}
{{- fail "ingest.ingress.tls.enabled: set ingest.ingress.tls.secretName" -}}
{{- end -}}
{{- if and $v.kibana.importJob.enabled (empty $v.kibana.importJob.url) -}}
{{- fail "kibana.importJob.enabled: set kibana.importJob.url (Kibana's base URL)" -}}
{{- end -}}
{{- include "threadline.validateChannels" . -}}
{{- end -}}

{{/* What channels.py checks beyond the schema, after merging each channel over `defaults` as it
does, so that a channel routing the chart accepts is one the services accept. */}}
{{- define "threadline.validateChannels" -}}
{{- $defaults := .Values.channels.defaults | default dict -}}
{{- $channels := .Values.channels.channels | default dict -}}
{{- /* A channel's key replaces the default's; emoji merges action by action (channels.py). */}}
{{- $all := dict "channels.defaults" $defaults -}}
{{- range $id, $rules := $channels -}}
{{- $rules = $rules | default dict -}}
{{- $merged := dict -}}
{{- range $key := list "auto_open" "ticket_reaction" "business_hours" -}}
{{- $_ := set $merged $key (ternary (get $rules $key) (get $defaults $key) (hasKey $rules $key)) -}}
{{- end -}}
{{- $emoji := $rules.emoji | default dict -}}
{{- $_ := set $merged "emoji" (dict "open" (ternary $emoji.open ($defaults.emoji | default dict).open (hasKey $emoji "open"))) -}}
{{- $_ := set $all (printf "channels.channels.%s" $id) $merged -}}
{{- end -}}
{{- with .Values.channels.direct_messages -}}
{{- $_ := set $all "channels.direct_messages" (dict "business_hours" (ternary .business_hours $defaults.business_hours (hasKey . "business_hours"))) -}}
{{- end -}}
{{- range $where, $rules := $all -}}
{{- $opener := or ($rules.emoji | default dict).open $rules.ticket_reaction -}}
{{- if and (kindIs "bool" $rules.auto_open) (not $rules.auto_open) (not $opener) -}}
{{- fail (printf "%s: auto_open is false but no emoji.open (or ticket_reaction) is set: nothing opens a ticket" $where) -}}
{{- end -}}
{{- with $rules.business_hours -}}
{{- $start := .start | default "09:00" -}}
{{- $end := .end | default "17:00" -}}
{{- if ge $start $end -}}
{{- fail (printf "%s.business_hours: start (%s) must be before end (%s)" $where $start $end) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $group, $channel := (.Values.channels.email_groups | default dict) -}}
{{- if not (hasKey $channels $channel) -}}
{{- fail (printf "channels.email_groups.%s points at %s, which is not under channels.channels" $group $channel) -}}
{{- end -}}
{{- end -}}
{{- end -}}
