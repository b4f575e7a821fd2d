"""Model architectures: YAML manifests and the pretrained-weights cache."""
