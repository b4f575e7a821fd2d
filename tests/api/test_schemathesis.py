"""Schemathesis walks the API statefully against the real app in-process and no request answers 5xx.

Before the run, fixtures store one of most things (a project with labels and images, one of them
annotated, a dataset revision, an export job, a registered model with a version, a file and an alias).
Requests reach them two ways, so that they get past 404: the list operations hand real ids and names to
the operations linked from them (links that Schemathesis infers from the OpenAPI document), and most
path parameters are swapped for a fixture's real value before the call. Every scenario starts from the
same data (a copy of the data directory), so the run depends on its draws alone. The run is derandomized and bounded, so
it is the same on every machine; every server error is collected into one assertion message.

Left out, and why:
- `POST /projects/{project}/models:train` starts a real training;
- `PUT /architectures/{architecture_id}/weights` downloads pretrained weights from the internet;
- `GET /jobs/{job_id}/events` and `GET /jobs/{job_id}/logs` are Server-Sent Events streams, which follow a
  job until it ends (the app runs here without a job runner, so jobs are recorded and never end).
"""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.python import asgi as schemathesis_asgi

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.sdk import Client
from tests.datasets.factories import image_bytes

EXCLUDED = [
    ("POST", r"/models:train$"),
    ("PUT", r"/architectures/\{architecture_id\}/weights$"),
    ("GET", r"/jobs/\{job_id\}/(events|logs)$"),
]
RUN = hypothesis_settings(
    max_examples=30,
    stateful_step_count=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
PER_OPERATION = hypothesis_settings(RUN, max_examples=6, phases=[Phase.explicit, Phase.generate])


def _fill(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Store the fixtures; returns a real value for each path parameter that can have one."""
    with Client(settings=settings) as client:
        client.projects.create("shapes", "detection", labels=["circle", "square"])
        images = []
        for seed in range(3):
            images.append(tmp_path / f"image-{seed}.png")
            images[-1].write_bytes(image_bytes(seed))
        created = client.datasets.upload("shapes", images).created
        circle = client.projects.get("shapes").labels[0]
        client.datasets.annotate("shapes", created[0].id, boxes=[{"x": 1, "y": 1, "width": 5, "height": 5,
                                                                   "label": circle.name}])  # fmt: skip
        weights = tmp_path / "model.pt"
        weights.write_bytes(b"weights")
        client.registry.create("m", metadata={"team": "vision"}, tags={"stage": "dev"})
        client.registry.register("m", files=[weights], metrics={"acc": 0.5})
        client.registry.set_alias("m", "champion", 1)
        revision = client.datasets.create_revision("shapes")
        export = client.datasets.export("shapes", "coco")
        (key,) = [item["key"] for item in client._http.get("/files").json()["items"] if item["key"].endswith(".pt")]
        return {
            "project": "shapes", "item": created[0].id, "label": circle.id, "revision": str(revision.number),
            "name": "m", "selector": "1", "alias": "champion", "file_name": "model.pt", "stage": "none",
            "architecture_id": "mobilenet_v3_small", "architecture": "mobilenet_v3_small", "key": key,
            "job_id": export.id,
        }  # fmt: skip


def _uses_real_value(name: str, drawn: Any) -> bool:
    """Three times in four a path parameter takes the real value, chosen by a hash of the drawn one
    (stable across runs, unlike `hash`): the run gets past 404 and still sends drawn values."""
    return zlib.crc32(f"{name}={drawn}".encode("utf-8", "surrogatepass")) % 4 != 0


@dataclass
class App:
    schema: Any
    real_values: dict[str, str]
    context: AppContext
    data_dir: Path
    snapshot: Path

    def restore(self) -> None:
        """Put the data back as the fixtures left it: the database file and the stored files."""
        self.context.db.dispose()
        shutil.rmtree(self.data_dir)
        shutil.copytree(self.snapshot, self.data_dir)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    # SQLite only: each scenario starts from a copy of the data directory, database file included.
    # Schemathesis' in-process client sends `Host: testserver` from the address `testclient`: named and let in
    # here, since the routes are under test (the request guard has its own tests).
    settings = Settings(data_dir=tmp_path / "data", log_level="warning", allowed_hosts=["testserver"], insecure=True)
    real_values = _fill(settings, tmp_path)
    snapshot = shutil.copytree(settings.data_dir, tmp_path / "snapshot")
    served = create_app(settings, run_jobs=False, configure_logs=False)
    schema: Any = schemathesis.openapi.from_asgi("/openapi.json", served)
    for method, path in EXCLUDED:
        schema = schema.exclude(method=method, path_regex=path)
    try:
        yield App(schema, real_values, served.state.context, settings.data_dir, snapshot)
    finally:
        schemathesis_asgi.shutdown_lifespans()  # the app's lifespan closes its database


def _swap_in_real_values(case: Any, real_values: dict[str, str]) -> None:
    for name, drawn in (case.path_parameters or {}).items():
        if name in real_values and _uses_real_value(name, drawn):
            case.path_parameters[name] = real_values[name]


def _server_error(case: Any, response: Any, answered: set[str]) -> str | None:
    """The report of a 5xx; a 2xx marks its operation as reached (past the guard and past 404)."""
    if response.status_code < 300:
        answered.add(f"{case.method} {case.operation.path}")
    if response.status_code < 500:
        return None
    return (f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}\n"
            f"    reproduce: {case.as_curl_command()}")  # fmt: skip


def test_every_operation_meets_no_server_error(app: App) -> None:
    """Each operation on its own, a few drawn requests each, from the fixtures' data."""
    server_errors: list[str] = []
    answered: set[str] = set()
    for result in app.schema.get_all_operations():
        operation = result.ok()
        app.restore()

        @given(case=operation.as_strategy())
        @PER_OPERATION
        def call(case: Any) -> None:
            _swap_in_real_values(case, app.real_values)
            try:
                problem = _server_error(case, case.call(), answered)
            except Exception as error:  # noqa: BLE001 - a request that raised is reported with the rest
                problem = f"{case.method} {case.formatted_path} raised {type(error).__name__}: {error}"
            if problem:
                server_errors.append(problem)

        call()
    assert not server_errors, f"{len(server_errors)} server errors:\n" + "\n".join(server_errors)
    assert len(answered) >= 50, f"only these operations answered 2xx: {sorted(answered)}"


def test_a_stateful_run_meets_no_server_error(app: App) -> None:
    server_errors: list[str] = []
    answered: set[str] = set()

    class NoServerErrors(app.schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Every scenario starts from the same data, so a scenario's requests depend on its draws alone
            # (Hypothesis replays draws and insists that they lead to the same requests).
            app.restore()

        def before_call(self, case: Any) -> None:
            _swap_in_real_values(case, app.real_values)

        def call(self, case: Any, **kwargs: Any) -> Any:
            try:
                return super().call(case, **kwargs)
            except Exception as error:
                server_errors.append(f"{case.method} {case.formatted_path} raised {type(error).__name__}: {error}"
                                     f"\n    reproduce: {case.as_curl_command()}")  # fmt: skip
                raise

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            # Only 5xx counts here: schema conformance of 4xx bodies is for other tests.
            problem = _server_error(case, response, answered)
            if problem:
                server_errors.append(problem)

    try:
        NoServerErrors.run(settings=RUN)
    except Exception as error:  # noqa: BLE001 - a request that raised is a server error too; report it with the rest
        server_errors.append(f"the run stopped: {type(error).__name__}: {error}")
    assert not server_errors, f"{len(server_errors)} server errors:\n" + "\n".join(server_errors)
    assert len(answered) >= 10, f"only these operations answered 2xx: {sorted(answered)}"
