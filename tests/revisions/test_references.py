"""Naming things the way tables show them: a model revision by PROJECT/NUMBER, anything with an id by a unique
prefix of it (6 characters or more), through the API and the SDK."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.context import AppContext
from modelyard.datasets.models import DatasetRevision
from modelyard.db.base import utcnow
from modelyard.revisions.models import ModelRevision
from modelyard.sdk import Client
from modelyard.sdk.errors import ApiError
from tests.revisions.factories import classification_project

# Two ids that share their first 6 characters and differ at the 7th, and one that shares nothing with them.
FIRST_ID = "abcdef0" + "1" * 25
SECOND_ID = "abcdef9" + "2" * 25
THIRD_ID = "0123456" + "3" * 25


def add_revisions(context: AppContext, project_id: str, dataset_revision_id: str) -> None:
    """Three finished-training records, numbered 1-3, with the ids above (training itself is tested elsewhere)."""
    with context.db.sessions.begin() as session:
        for number, revision_id in enumerate((FIRST_ID, SECOND_ID, THIRD_ID), start=1):
            session.add(ModelRevision(
                id=revision_id, project_id=project_id, number=number, name=f"run {number}",
                architecture_id="mobilenet_v3_small", task_type="multiclass_classification", status="failed",
                base="pretrained", dataset_revision_id=dataset_revision_id, configuration={}, labels=[],
                weights_status="deleted", started_at=utcnow(), created_by="test",
            ))  # fmt: skip


@pytest.fixture
def colors(client: Client, context: AppContext, tmp_path: Path) -> str:
    project = client.projects.get(classification_project(client, tmp_path / "images", per_label=2))
    dataset_revision = client.datasets.create_revision(project.name)
    add_revisions(context, project.id, dataset_revision.id)
    return project.name


def test_a_revision_is_found_by_project_name_or_id_and_number(client: Client, colors: str) -> None:
    project = client.projects.get(colors)
    assert client.models.get(f"{colors}/2").id == SECOND_ID
    assert client.models.get(f"{project.id}/3").id == THIRD_ID
    answer = client.request("GET", f"/projects/{colors}/models/1").json()
    assert (answer["id"], answer["number"]) == (FIRST_ID, 1)


def test_every_revision_route_takes_project_and_number(client: Client, colors: str) -> None:
    lineage = client.models.lineage(f"{colors}/3")
    assert lineage.revision.id == THIRD_ID
    assert client.models.rename(f"{colors}/3", "renamed").name == "renamed"
    assert client.models.variants(f"{colors}/3") == []
    client.models.delete(f"{colors}/3")
    with pytest.raises(ApiError) as missing:
        client.models.get(THIRD_ID)
    assert missing.value.status == 404


def test_a_number_the_project_lacks_or_a_malformed_one_is_refused(client: Client, colors: str) -> None:
    with pytest.raises(ApiError) as missing:
        client.models.get(f"{colors}/9")
    assert (missing.value.status, missing.value.detail) == (
        404, f"project '{colors}' has no model revision #9: list them with `modelyard models list {colors}`"
    )  # fmt: skip
    with pytest.raises(ApiError) as malformed:
        client.models.get(f"{colors}/-1")
    assert malformed.value.status == 400 and "use PROJECT/NUMBER" in malformed.value.detail
    with pytest.raises(ApiError) as no_project:
        client.models.get("nowhere/1")
    assert no_project.value.status == 404 and "project 'nowhere' does not exist" in no_project.value.detail


def test_a_unique_id_prefix_names_the_revision_and_an_ambiguous_one_is_refused(client: Client, colors: str) -> None:
    assert client.models.get("abcdef0").id == FIRST_ID
    assert client.models.get(THIRD_ID[:6]).id == THIRD_ID
    with pytest.raises(ApiError) as ambiguous:
        client.models.get("abcdef")
    assert (ambiguous.value.status, ambiguous.value.code) == (400, "ambiguous_id")
    assert "matches 2 model revisions" in ambiguous.value.detail
    with pytest.raises(ApiError) as short:
        client.models.get(THIRD_ID[:5])  # under 6 characters a prefix names nothing
    assert short.value.status == 404 and "no id is or starts with it" in short.value.detail


def test_training_names_its_parent_by_project_and_number(client: Client, colors: str) -> None:
    with pytest.raises(ApiError) as refused:
        client.models.train(colors, "mobilenet_v3_small", base=f"{colors}/2")
    # Found by its number, then refused for what it is: a failed training has nothing to fine-tune from.
    assert refused.value.status == 409 and f"#2 ({SECOND_ID})" in refused.value.detail
    with pytest.raises(ApiError) as missing:
        client.models.train(colors, "mobilenet_v3_small", base=f"{colors}/7")
    assert missing.value.status == 404 and "has no model revision #7" in missing.value.detail


def test_a_prefix_of_digits_only_names_a_dataset_revision_when_no_number_is_that(
    client: Client, colors: str, context: AppContext
) -> None:
    digits_id = "12345678" + "f" * 24
    with context.db.sessions.begin() as session:
        session.add(DatasetRevision(
            id=digits_id, project_id=client.projects.get(colors).id, number=2, parquet_key="none", sha256="0" * 64,
            size=0, images_size=0, item_count=0, subset_counts={}, label_counts=[], fingerprint="none",
        ))  # fmt: skip
    assert client.datasets.revision(colors, "123456").id == digits_id
    assert client.datasets.revision(colors, "2").id == digits_id  # its number


def test_projects_jobs_items_and_dataset_revisions_take_id_prefixes(client: Client, colors: str) -> None:
    project = client.projects.get(colors)
    assert client.projects.get(project.id[:6]).name == colors
    job = client.jobs.submit("test.count", {"steps": 1})
    assert client.jobs.get(job.id[:8]).id == job.id
    dataset_revision = client.datasets.revisions(colors)[0]
    assert client.datasets.revision(colors, dataset_revision.id[:6]).id == dataset_revision.id
    assert client.datasets.revision(colors, "1").id == dataset_revision.id  # its number
    items = list(client.datasets.iterate_items(colors))
    annotated = client.datasets.annotate(colors, items[0].id[:8], labels=["blue"])
    assert (annotated.id, [label.name for label in annotated.annotation.labels]) == (items[0].id, ["blue"])
    assert client.datasets.delete_items(colors, [items[1].id[:8]]) == 1
    assert {item.id for item in client.datasets.iterate_items(colors)} == {item.id for item in items[:1]} | {
        item.id for item in items[2:]
    }
