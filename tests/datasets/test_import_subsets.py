"""The testing subset an import splits out of training when its source has none."""

from __future__ import annotations

from modelyard.datasets.import_subsets import ImportedItem, count_for_testing, plan_subsets


def _training(count: int) -> list[ImportedItem]:
    return [ImportedItem(f"id-{i:03d}", f"img{i:03d}.png", ["cat" if i % 4 else "dog"]) for i in range(count)]


def test_count_for_testing_rounds_takes_at_least_one_and_never_the_last() -> None:
    assert [count_for_testing(n, 0.1) for n in (0, 1, 2, 4, 15, 100)] == [0, 0, 1, 1, 2, 10]
    assert count_for_testing(10, 0.95) == 9 and count_for_testing(10, 0.0) == 0


def test_train_and_val_source_gets_a_stratified_stable_testing_split() -> None:
    plan = plan_subsets({"training": 40, "validation": 10}, _training(40), 0.1, testing_in_project=0)
    assert len(plan.to_testing) == 4
    labels = {item.id: item.label_ids[0] for item in _training(40)}
    assert sorted(labels[item_id] for item_id in plan.to_testing) == ["cat", "cat", "cat", "dog"]
    assert "4 of the 40 training items (10%" in plan.note and "kept from the source" in plan.note
    shuffled = list(reversed(_training(40)))
    assert plan_subsets({"training": 40}, shuffled, 0.1, 0).to_testing == plan.to_testing


def test_no_split_when_the_source_has_testing_names_no_subsets_or_fraction_is_zero() -> None:
    assert plan_subsets({"training": 8, "testing": 2}, _training(8), 0.1, 0).to_testing == []
    unnamed = plan_subsets({"unassigned": 8}, [], 0.1, 0)
    assert unnamed.to_testing == [] and "70/20/10" in unnamed.note
    off = plan_subsets({"training": 8}, _training(8), 0.0, 0)
    assert off.to_testing == [] and "testing_fraction is 0" in off.note
    already = plan_subsets({"training": 8}, _training(8), 0.1, testing_in_project=3)
    assert already.to_testing == [] and "3 testing item(s) already" in already.note
