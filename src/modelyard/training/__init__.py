"""Pure training core: model factory, data pipeline, one shared loop, self-describing checkpoints."""
