"""Helm charts as inputs: the pinned helm, the charts Argo CD renders and what helm prints.

Argo CD renders a chart two ways, and gitops renders it the same two ways, offline, from the
repository only:

* kustomize's ``helmCharts:`` (``--enable-helm`` in ``kustomize.buildOptions``): kustomize runs
  helm itself (``--helm-command``, :mod:`gitops.helm.inflation` says which charts it reads);
* an Argo CD Application whose source path is a chart directory: ``helm template`` with Argo
  CD's arguments (:mod:`gitops.helm.application`).

:mod:`gitops.helm.binary` finds the helm, :mod:`gitops.helm.output` reads what it prints (the
``# Source:`` header of each document, the template file and line of an error),
:mod:`gitops.helm.hooks` says which hook objects Argo CD applies, :mod:`gitops.helm.templates`
reads a template's YAML shape to locate findings, and :mod:`gitops.helm.capabilities` lists the
API versions ``--api-versions`` passes. The Workspace (gitops.workspace) runs every process.
"""
