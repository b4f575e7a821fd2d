"""The `modelyard` command line: thin over the SDK."""
