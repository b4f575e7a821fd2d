"""Registering model revisions and the best revision, through the registry's source interfaces.

Model revisions and evaluations are not built yet: these tests create the stored files a
revision would own and describe the revision with `RevisionSource` records.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.errors import Conflict, NotFound
from modelyard.registry.service import RegistryService
from modelyard.registry.sources import EvaluationSource, RevisionFile, RevisionSource
from modelyard.registry.views import version_read
from modelyard.sdk import ApiError, Client
from modelyard.storage.service import FileService
from tests.storages import local


@contextmanager
def registry_service(context: AppContext) -> Iterator[RegistryService]:
    with transaction(context.db.sessions) as session:
        yield RegistryService(session, FileService(session, context.store), "tester")


def make_revision(context: AppContext, revision_id: str, weights: bytes, **fields: object) -> RevisionSource:
    """Store a revision's files where training keeps them and describe it."""
    key = f"projects/p1/models/{revision_id}/model.pt"
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).save(key, io.BytesIO(weights), actor="trainer")
    values: dict[str, object] = {
        "revision_id": revision_id,
        "project_id": "p1",
        "dataset_revision_id": "ds1",
        "configuration": {"architecture": "mobilenet_v3_small", "epochs": 3},
        "label_map": {0: "ok", 1: "defect"},
        "parameters": {"learning_rate": 0.001},
        "metrics": {"accuracy": 0.9},
        "files": [RevisionFile(name="model.pt", key=key)],
        "task_type": "multiclass_classification",
    }
    values.update(fields)
    return RevisionSource(**values)  # type: ignore[arg-type]


def test_registering_a_revision_takes_its_content_and_links_its_weights(context: AppContext) -> None:
    revision = make_revision(context, "rev1", b"weights" * 100)
    blobs_before = sorted(local(context.store).blobs.glob("*/*"))

    with registry_service(context) as service:
        version = version_read(service.register_revision("inspector", revision, create_model=True, comment="v1"))

    assert (version.number, version.framework.value, version.task_type) == (1, "pytorch", "multiclass_classification")
    assert version.label_map == {0: "ok", 1: "defect"}
    assert version.parameters == {"learning_rate": 0.001} and version.metrics == {"accuracy": 0.9}
    assert version.source_revision_id == "rev1"
    assert version.source == {
        "kind": "model_revision",
        "revision_id": "rev1",
        "project_id": "p1",
        "dataset_revision_id": "ds1",
        "configuration": {"architecture": "mobilenet_v3_small", "epochs": 3},
    }
    assert version.trainable is True
    assert sorted(local(context.store).blobs.glob("*/*")) == blobs_before  # no second copy of the weights
    revision_path = context.settings.data_dir / "projects/p1/models/rev1/model.pt"
    version_path = context.settings.data_dir / f"registry/versions/{version.id}/model.pt"
    assert version_path.stat().st_ino == revision_path.stat().st_ino


def test_a_failed_revision_cannot_be_registered(context: AppContext) -> None:
    revision = make_revision(context, "rev-failed", b"x", status="failed")
    with pytest.raises(Conflict), registry_service(context) as service:
        service.register_revision("m", revision, create_model=True)


def test_register_best_picks_by_metric_in_either_direction_and_by_dataset_revision(context: AppContext) -> None:
    first = make_revision(context, "r1", b"one", dataset_revision_id="ds1")
    second = make_revision(context, "r2", b"two", dataset_revision_id="ds2")
    third = make_revision(context, "r3", b"three", dataset_revision_id="ds1")
    broken = make_revision(context, "r4", b"four", status="failed")
    candidates = [
        EvaluationSource(first, 0.80, "ds1"),
        EvaluationSource(second, 0.95, "ds2"),
        EvaluationSource(third, 0.85, "ds1"),
        EvaluationSource(broken, 0.99, "ds1"),
    ]

    with registry_service(context) as service:
        best = service.register_best("best-max", candidates, metric="f1", mode="max")
        best_on_ds1 = service.register_best("best-ds1", candidates, metric="f1", dataset_revision_id="ds1")
        lowest = service.register_best("best-min", candidates, metric="loss", mode="min")
        again = service.register_best("best-max", candidates, metric="f1", mode="max")
        picked = [(v.model.name, v.number, v.source_revision_id, v.metrics) for v in (best, best_on_ds1, lowest)]
        again_number = again.number

    assert picked == [
        ("best-max", 1, "r2", {"accuracy": 0.9, "f1": 0.95}),
        ("best-ds1", 1, "r3", {"accuracy": 0.9, "f1": 0.85}),
        ("best-min", 1, "r1", {"accuracy": 0.9, "loss": 0.80}),
    ]
    assert again_number == 1  # already registered: no duplicate version
    with pytest.raises(NotFound), registry_service(context) as service:
        service.register_best("none", candidates, metric="f1", dataset_revision_id="ds9")


def test_register_by_revision_id_answers_404_until_training_lands(client: Client) -> None:
    with pytest.raises(ApiError) as missing:
        client.registry.register("m", revision_id="0123456789abcdef", create_model=True)
    assert missing.value.status == 404
    assert "model revision '0123456789abcdef' does not exist" in missing.value.detail
    with pytest.raises(ApiError):
        client.registry.get("m")  # nothing was created by the refused request


def test_transfer_takes_the_next_number_and_records_both_sides(client: Client) -> None:
    registry = client.registry
    registry.register("source", create_model=True, label_map={0: "a"})
    registry.register("source")
    registry.register("target", create_model=True)
    registry.set_alias("source", "champion", 1)
    registry.stage("source/1", "production")

    moved = registry.transfer("source/1", "target", comment="belongs there")

    assert (moved.model, moved.number, moved.stage.value, moved.aliases) == ("target", 2, "none", [])
    assert registry.get("source").num_versions == 1 and registry.get("target").num_versions == 2
    assert registry.register("source").number == 3  # number 1 is retired in the source
    out = registry.events("source", action="version.transferred_out").items[0]
    into = registry.events("target", action="version.transferred_in").items[0]
    assert (out.version_number, out.after, out.comment) == (1, {"model": "target", "number": 2}, "belongs there")
    assert (into.version_number, into.before) == (2, {"model": "source", "number": 1, "stage": "production"})
    assert registry.stage_holders("source", "production").versions == []


def test_copy_duplicates_content_and_records_the_origin(client: Client) -> None:
    registry = client.registry
    registry.register("a", create_model=True, label_map={0: "x"}, metrics={"f1": 0.5}, tags={"k": "v"})

    copied = registry.copy("a/1", "b", create_model=True)

    assert (copied.model, copied.number, copied.label_map, copied.metrics, copied.tags) == (
        "b", 1, {0: "x"}, {"f1": 0.5}, {"k": "v"},
    )  # fmt: skip
    assert registry.version("a/1").number == 1
    copied_in = registry.events("b", action="version.copied_in").items[0]
    assert copied_in.before["model"] == "a" and copied_in.before["number"] == 1
    assert registry.events("a", action="version.copied_out").items[0].after["model"] == "b"


def test_a_session_reused_across_transactions_locks_the_model_row_again(context: AppContext) -> None:
    from modelyard.registry.schemas import VersionCreate

    session = context.db.sessions()
    try:
        service = RegistryService(session, FileService(session, context.store), "tester")
        first = service.register("m", VersionCreate(create_model=True)).number
        assert session.info["locked_models"] == {service.get_model("m").id}
        session.commit()
        assert "locked_models" not in session.info  # the lock ended with the transaction
        second = service.register("m", VersionCreate()).number
        assert "locked_models" in session.info
        session.commit()
    finally:
        session.close()
    assert (first, second) == (1, 2)
