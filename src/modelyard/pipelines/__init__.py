"""The per-project inference pipeline: one enabled variant answering prediction requests."""
