"""The model registry: registered models, numbered versions, files, aliases, stages and their history."""
