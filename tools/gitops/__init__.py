"""Render, validate and policy-check a Kustomize + Argo CD GitOps repository."""

__version__ = "0.1.0"
