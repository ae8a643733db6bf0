"""Cluster tier: the repo's manifests against upstream Kubernetes components on KWOK nodes."""
