"""The evaluations domain reuses the pipeline tests' served tiny classifier: a succeeded revision with variants."""

from tests.pipelines.conftest import app_client, running_app_client, served, served_running

__all__ = ["app_client", "running_app_client", "served", "served_running"]
