"""The search space: from the manifest's bounds, or the user's, checked against them."""

from __future__ import annotations

import pytest

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR, HyperparameterError, load_manifests
from modelyard.errors import InvalidInput
from modelyard.kit.durations import seconds_in
from modelyard.tuning.space import SearchDimension, check_space, default_space, nested

MANIFEST = load_manifests(SHIPPED_MANIFESTS_DIR, None)["mobilenet_v3_small"]


def test_the_default_space_spans_a_decade_around_the_defaults_within_the_bounds() -> None:
    space = default_space(MANIFEST)
    assert space["learning_rate"] == SearchDimension(low=1e-4, high=1e-2, log=True)
    assert space["batch_size"] == SearchDimension(low=8, high=32, log=True)
    assert space["optimizer"].choices == ["sgd", "adam", "adamw"]
    assert space["augmentations.horizontal_flip"].choices == [True, False]
    assert set(space) == {"learning_rate", "weight_decay", "batch_size", "optimizer", "augmentations.horizontal_flip",
                          "augmentations.color_jitter", "augmentations.random_resized_crop"}  # fmt: skip
    check_space(MANIFEST, space)


@pytest.mark.parametrize(
    ("space", "field", "problem"),
    [
        ({"learning_rat": SearchDimension(low=0.1, high=0.2)}, "learning_rat", "is not a hyperparameter"),
        ({"learning_rate": SearchDimension(low=1e-4, high=1.0)}, "learning_rate", "must be <= 0.1"),
        ({"optimizer": SearchDimension(choices=["sgd", "lion"])}, "optimizer", "must be one of"),
        ({"optimizer": SearchDimension(low=0, high=1)}, "optimizer", "takes choices"),
    ],
)
def test_a_space_outside_the_manifest_is_refused_naming_the_field(space: dict, field: str, problem: str) -> None:
    with pytest.raises(HyperparameterError) as refused:
        check_space(MANIFEST, space)
    assert refused.value.field == field and problem in refused.value.message


def test_a_dimension_is_a_range_or_choices_never_both() -> None:
    with pytest.raises(ValueError, match="either low and high, or choices"):
        SearchDimension(low=1, high=2, choices=[1])
    with pytest.raises(ValueError, match="log scale needs low above zero"):
        SearchDimension(low=0, high=1, log=True)


def test_dotted_names_become_the_manifests_shape() -> None:
    assert nested({"learning_rate": 0.01, "augmentations.color_jitter": 0.2}) == {
        "learning_rate": 0.01, "augmentations": {"color_jitter": 0.2}}


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("45", 45)])
def test_budgets_read_as_people_write_them(text: str, seconds: float) -> None:
    assert seconds_in(text) == seconds


def test_a_budget_without_a_unit_it_knows_is_refused() -> None:
    with pytest.raises(InvalidInput, match="write e.g. 90s, 30m"):
        seconds_in("30 minutes")
