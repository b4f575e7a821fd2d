"""MLflow's REST API mapped onto modelyard's own domains."""
