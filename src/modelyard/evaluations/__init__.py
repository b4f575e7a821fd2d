"""Evaluations: a variant measured on a subset of a dataset revision with the task's standard metrics."""
