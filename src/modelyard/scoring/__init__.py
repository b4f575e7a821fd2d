"""Metrics shared by validation during training and by evaluation of exported variants."""
