"""An app that is closed holds no memory: a process that builds many (the SDK's local mode, a test run) does not
grow with each one."""

from __future__ import annotations

import gc
import weakref

import httpx

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.sdk.client import LOCAL_BASE_URL
from modelyard.sdk.transport import InProcessTransport

# Every kind of route: the API, the documentation pages, MLflow's API and the web application's fallback.
PATHS = ("/api/v1/health", "/api/v1/projects", "/docs", "/redoc", "/api/2.0/mlflow/experiments/search", "/")


def test_a_closed_app_is_freed_once_its_last_reference_goes(settings: Settings) -> None:
    app = create_app(settings, run_jobs=False, configure_logs=False)
    transport = InProcessTransport(app)
    with httpx.Client(transport=transport, base_url=LOCAL_BASE_URL) as http:
        answers = {
            path: (http.post(path, json={}) if "mlflow" in path else http.get(path)).status_code for path in PATHS
        }
    transport.close()
    assert answers == dict.fromkeys(PATHS, 200)
    released = weakref.ref(app)
    del app, transport, http
    gc.collect()
    assert released() is None, "something outside the app still holds it"
