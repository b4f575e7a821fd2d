"""Model revisions: what training produced, with its lineage, files and status."""
