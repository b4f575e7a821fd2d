"""The subsets an import keeps, and the testing subset split out of training when the source has none.

A source's own subsets (train/val/test files or folders) are kept as training/validation/testing. A
source that names training items but no testing ones would leave the project without a testing
subset, and the evaluations after training and after INT8 would have nothing to run on; so a share
of the imported training items (10% by default, at least one, never the last one) moves to testing.
The choice is stratified on the items' labels like the revision split (`split.py`), and stable: the
same source, fraction and seed pick the same items (they are ordered by name, not by their new ids).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modelyard.datasets.split import split_off

DEFAULT_TESTING_FRACTION = 0.1
SPLIT_SEED = 0
NAMED_SUBSETS = ("training", "validation", "testing")


@dataclass(frozen=True)
class ImportedItem:
    """A training item an import stored: enough to choose the testing split."""

    id: str
    name: str
    label_ids: list[str]


@dataclass(frozen=True)
class SubsetPlan:
    """What happens to the subsets: the items to move to testing (maybe none) and why, in a sentence."""

    to_testing: list[str]
    note: str


def count_for_testing(training: int, fraction: float) -> int:
    """How many of `training` items go to testing: the fraction rounded, at least one, never the last."""
    if fraction <= 0 or training < 2:
        return 0
    return min(training - 1, max(1, round(training * fraction)))


def plan_subsets(
    source_subsets: Mapping[str, int],
    training: Sequence[ImportedItem],
    fraction: float,
    testing_in_project: int,
) -> SubsetPlan:
    named = [subset for subset in NAMED_SUBSETS if source_subsets.get(subset)]
    if not named:
        return SubsetPlan([], "the source names no subsets: its items get training, validation and testing "
                              "(70/20/10, stratified) when a dataset revision first includes them")  # fmt: skip
    kept = f"subsets {', '.join(named)} kept from the source"
    if "testing" in named:
        return SubsetPlan([], kept)
    missing = f"{kept}; no testing subset in the source"
    if fraction <= 0:
        why = "testing_fraction is 0, so none was split: evaluations need one (set items' subset to testing)"
        return SubsetPlan([], f"{missing} and {why}")
    if testing_in_project:
        already = f"the project has {testing_in_project} testing item(s) already"
        return SubsetPlan([], f"{missing}, but {already}: none split")
    count = count_for_testing(len(training), fraction)
    if count == 0:
        return SubsetPlan([], f"{missing} and {len(training)} training item(s) imported: too few to split one off")
    ordered = sorted(training, key=lambda item: (item.name, item.id))
    taken, _ = split_off([item.id for item in ordered], [item.label_ids for item in ordered], count, SPLIT_SEED)
    how = f"{fraction:.0%}, stratified by label, seed {SPLIT_SEED}"
    return SubsetPlan(taken, f"{missing}: {count} of the {len(training)} training items ({how}) moved to testing")
