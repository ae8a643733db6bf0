"""``gitops.helm.templates``: a chart template's YAML shape on its own lines."""

from __future__ import annotations

import yaml

from gitops.helm.templates import matches_name, sanitize, template_nodes, values_read

TEMPLATE = """\
{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}-api
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  template:
    spec:
      containers:
        - name: api
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          resources:
            {{- toYaml
              .Values.resources | nindent 12 }}
{{- end }}
"""


def test_actions_become_placeholders_and_action_lines_become_empty_lines() -> None:
    lines = sanitize(TEMPLATE).split("\n")
    assert len(lines) == len(TEMPLATE.split("\n"))  # every line keeps its number
    assert lines[0] == ""
    assert lines[4] == "  name: __tpl__-api"
    assert lines[6] == ""
    assert lines[9] == "  replicas: __tpl__"
    assert lines[15] == '          image: "__tpl__:__tpl__"'
    assert lines[17:19] == ["", ""]  # a two-line action


def test_the_nodes_carry_the_templates_lines() -> None:
    (document,) = template_nodes(TEMPLATE)
    assert isinstance(document, yaml.MappingNode)
    spec = dict((k.value, v) for k, v in document.value)["spec"]
    replicas = next(k for k, _v in spec.value if k.value == "replicas")
    assert replicas.start_mark.line + 1 == 10
    assert template_nodes("a: {{ .x }\n  - [") == []  # still not YAML: nothing to locate


def test_values_a_line_reads_and_names_that_fit_a_template() -> None:
    assert values_read('image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"') == [
        ("image", "repository"),
        ("image", "tag"),
    ]
    assert values_read("name: {{ .Release.Name }}") == []
    assert matches_name("__tpl__-api", "prod-web-api")
    assert not matches_name("__tpl__-api", "prod-web-worker")
    assert matches_name("web", "team-web")  # kustomize's namePrefix
