"""Rollout controllers' own objects, read from their manifests and translated to deploysim's scenario.

objects.py (Kubernetes objects: kind, apiVersion, name, and where each field was written) and argo.py
(an Argo Rollouts Rollout with its AnalysisTemplates, as rollout steps and `semantics: argo` gates).
Files are read by `sim.load.controllers`; this package only translates what it is given.
"""
