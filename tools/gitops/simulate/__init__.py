"""``gitops simulate``: what an HPA, PDB or rollout change will do, before it merges.

The controllers are deterministic given their inputs, so their decisions can be replayed:
:mod:`.hpa` transcribes the autoscaling/v2 controller's arithmetic, :mod:`.scenario` reads a
scenario file, :mod:`.engine` runs it sync by sync, :mod:`.report` summarises and formats the
timeline, :mod:`.plot` draws it, :mod:`.drain` and :mod:`.rollout` replay node drains and
Deployment rollouts, :mod:`.compare` checks a recorded real timeline against a simulation.
"""
