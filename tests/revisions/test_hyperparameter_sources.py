"""Where a training's hyperparameters come from: a fine-tuning starts from its parent's, overrides on top."""

from __future__ import annotations

from modelyard.db.engine import transaction
from modelyard.revisions.hyperparameter_sources import (
    OVERRIDE,
    PROJECT_CONFIGURATION,
    Layer,
    describe,
    known_only,
    sources_of,
)
from modelyard.revisions.models import ModelRevision
from modelyard.sdk import Client
from tests.pipelines.conftest import app_client, served
from tests.pipelines.factories import ServedModel

__all__ = ["app_client", "served"]

PARENT_CONFIGURATION = {"epochs": 12, "learning_rate": 0.02, "batch_size": 8, "retired_option": 3,
                        "augmentations": {"horizontal_flip": False}}  # fmt: skip


def test_sources_name_the_last_layer_that_set_each_value_and_the_line_groups_them() -> None:
    resolved = {"epochs": 1, "learning_rate": 0.02, "augmentations": {"horizontal_flip": False, "crop": True}}
    layers: list[Layer] = [("parent revision 3 (r3)", {"epochs": 12, "learning_rate": 0.02,
                                          "augmentations": {"horizontal_flip": False}}),
              (OVERRIDE, {"epochs": 1})]  # fmt: skip
    sources = sources_of(layers, resolved)
    assert sources == {"epochs": OVERRIDE, "learning_rate": "parent revision 3 (r3)",
                       "augmentations.horizontal_flip": "parent revision 3 (r3)",
                       "augmentations.crop": "architecture defaults"}  # fmt: skip
    assert describe(sources, resolved) == (
        "hyperparameters from parent revision 3 (r3): augmentations.horizontal_flip=False, learning_rate=0.02; "
        "from architecture defaults: augmentations.crop=True; overrides: epochs=1"
    )
    plain = sources_of([(PROJECT_CONFIGURATION, {}), (OVERRIDE, {})], {"epochs": 5})
    assert describe(plain, {"epochs": 5}) == "hyperparameters from architecture defaults: epochs=5; overrides: none"


def test_known_only_drops_what_the_architecture_no_longer_has() -> None:
    defaults = {"epochs": 10, "augmentations": {"horizontal_flip": True}}
    assert known_only(PARENT_CONFIGURATION, defaults) == {"epochs": 12, "augmentations": {"horizontal_flip": False}}


def test_fine_tuning_starts_from_the_parents_hyperparameters_with_overrides_on_top(
    app_client: Client, served: ServedModel
) -> None:
    context = app_client.app.state.context  # type: ignore[attr-defined]
    with transaction(context.db.sessions) as session:
        parent = session.get(ModelRevision, served.revision_id)
        assert parent is not None
        parent.configuration = PARENT_CONFIGURATION
    app_client.models.configure(served.project, "mobilenet_v3_small", {"learning_rate": 0.005, "batch_size": 2})

    job = app_client.models.train(served.project, "mobilenet_v3_small", base=served.revision_id,
                                  overrides={"epochs": 1})  # fmt: skip
    hyperparameters, sources = job.params["hyperparameters"], job.params["hyperparameter_sources"]
    assert (hyperparameters["epochs"], hyperparameters["learning_rate"], hyperparameters["batch_size"]) == (1, 0.02, 8)
    assert hyperparameters["augmentations"]["horizontal_flip"] is False and "retired_option" not in hyperparameters
    from_parent = f"parent revision 1 ({served.revision_id})"
    assert (sources["epochs"], sources["learning_rate"], sources["augmentations.horizontal_flip"]) == (
        "overrides", from_parent, from_parent)

    fresh = app_client.models.train(served.project, "mobilenet_v3_small", base="scratch", overrides={"epochs": 1})
    assert (fresh.params["hyperparameters"]["learning_rate"], fresh.params["hyperparameters"]["batch_size"]) == (
        0.005, 2)
    assert fresh.params["hyperparameter_sources"]["learning_rate"] == "project configuration"
