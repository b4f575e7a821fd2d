"""The files behind the `source` URI of MLflow's `create_model_version`, as (name in the version, sha256) pairs
of bytes already stored, so the new version links them instead of copying.

- `models:/<name>/<version|stage|latest>[/path]`, `models:/<name>@<alias>[/path]`: that version's files;
- `mlflow-artifacts:/registry/versions/<version id>[/path]`: the same, as our download URIs name them;
- `runs:/<run id>/<path>` and `mlflow-artifacts:/<experiment>/<run id>/artifacts/<path>` (what `register_model`
  sends for a run): a training revision is registered whole, with its label map and lineage (`parse_run_source`
  finds the run); a run logged through MLflow gives its files under `path` (`run_artifacts.run_source_files`).

Any other URI (a local path, `s3://...`) is recorded as the version's source with no files.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from modelyard.errors import InvalidInput, NotFound
from modelyard.mlflow.registry_views import REGISTRY_ARTIFACT_ROOT
from modelyard.mlflow.run_artifacts import parse_proxy_path
from modelyard.registry.models import ModelVersion
from modelyard.registry.service import RegistryService


@dataclass(frozen=True)
class SourceFile:
    name: str  # the file's name in the new version
    sha256: str


@dataclass(frozen=True)
class RunSource:
    """`runs:/<run_id>/<path>`."""

    run_id: str
    path: str


def parse_run_source(uri: str) -> RunSource | None:
    """The run and path of a `runs:/` URI or of a run's `mlflow-artifacts:/` URI; None for any other URI."""
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/") :].strip("/").partition("/")
        if not run_id:
            raise InvalidInput(f"source {uri!r} is not valid: write runs:/<run_id>/<path in the run>")
        return RunSource(run_id, path.strip("/"))
    if uri.startswith("mlflow-artifacts:/") and not uri.startswith(f"mlflow-artifacts:/{REGISTRY_ARTIFACT_ROOT}/"):
        located = parse_proxy_path(uri[len("mlflow-artifacts:/") :])
        if located is not None:
            return RunSource(located.run_id, located.inner)
    return None


def version_files_under(files: list[tuple[str, str]], path: str) -> list[SourceFile]:
    """The (name, sha256) pairs at or under `path`, named relative to it (`path` itself names a single file)."""
    if not path:
        return [SourceFile(name, sha256) for name, sha256 in files]
    found = []
    for name, sha256 in files:
        if name == path:
            found.append(SourceFile(name.rsplit("/", 1)[-1], sha256))
        elif name.startswith(path + "/"):
            found.append(SourceFile(name[len(path) + 1 :], sha256))
    return found


def registry_source_files(registry: RegistryService, uri: str) -> list[SourceFile] | None:
    """The files of a `models:/` or registry `mlflow-artifacts:/` source; None for any other kind of URI."""
    if uri.startswith("models:/"):
        version, path = _models_uri_version(registry, uri)
    elif uri.startswith(f"mlflow-artifacts:/{REGISTRY_ARTIFACT_ROOT}/"):
        version_id, _, path = uri[len(f"mlflow-artifacts:/{REGISTRY_ARTIFACT_ROOT}/") :].partition("/")
        found = registry.versions.get(version_id)
        if found is None or not registry.access.allows(found.model.project_id):
            raise NotFound(f"source {uri!r} names no registered version")
        version = found
    else:
        return None
    return version_files_under([(file.name, file.sha256) for file in version.files], path.strip("/"))


def _models_uri_version(registry: RegistryService, uri: str) -> tuple[ModelVersion, str]:
    rest = unquote(uri[len("models:/") :]).strip("/")
    head, _, tail = rest.partition("/")
    if "@" in head:
        name, _, alias = head.partition("@")
        return registry.find_version(name, f"@{alias}"), tail
    selector, _, path = tail.partition("/")
    if not head or not selector:
        raise InvalidInput(
            f"source {uri!r} is not valid: write models:/<name>/<version|stage|latest>[/path] or models:/<name>@<alias>"
        )
    return registry.find_version(head, selector.lower()), path
