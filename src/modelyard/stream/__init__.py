"""The stream pipeline: a project's enabled variant predicting frames from one source into zero or more sinks."""
