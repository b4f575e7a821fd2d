"""The stratified split of new items (pure functions, no database)."""

from __future__ import annotations

from collections import Counter

from modelyard.datasets.split import assign_missing_subsets, stratification_keys, target_counts

RATIOS = {"training": 0.7, "validation": 0.2, "testing": 0.1}


def test_target_counts_follow_the_ratios() -> None:
    assert target_counts(100, RATIOS, {}) == {"training": 70, "validation": 20, "testing": 10}
    assert sum(target_counts(7, RATIOS, {}).values()) == 7


def test_every_subset_gets_an_item_once_there_are_three() -> None:
    assert target_counts(3, RATIOS, {}) == {"training": 1, "validation": 1, "testing": 1}
    assert target_counts(2, RATIOS, {}) == {"training": 1, "validation": 1, "testing": 0}
    assert target_counts(1, RATIOS, {}) == {"training": 1, "validation": 0, "testing": 0}
    # Subsets already filled by earlier revisions need no help.
    assert target_counts(3, RATIOS, {"testing": 5}) == {"training": 2, "validation": 1, "testing": 0}


def test_rarest_label_is_the_stratification_key() -> None:
    keys = stratification_keys([["a", "b"], ["a"], ["a"], [], ["b", "c"]])
    assert keys == ["b", "a", "a", "<none>", "c"]


def test_split_is_stratified_and_deterministic() -> None:
    ids = [f"i{n}" for n in range(100)]
    labels = [["cat"] if n < 50 else ["dog"] for n in range(100)]
    first = assign_missing_subsets(ids, labels, RATIOS, {}, seed=3)
    assert first == assign_missing_subsets(ids, labels, RATIOS, {}, seed=3)
    assert {subset: len(chosen) for subset, chosen in first.items()} == {
        "training": 70,
        "validation": 20,
        "testing": 10,
    }
    for subset, expected in (("validation", 10), ("testing", 5)):
        per_label = Counter("cat" if int(item[1:]) < 50 else "dog" for item in first[subset])
        assert per_label == {"cat": expected, "dog": expected}
    assert sorted(sum(first.values(), [])) == sorted(ids)


def test_split_survives_labels_too_rare_to_stratify() -> None:
    ids = ["a", "b", "c", "d"]
    result = assign_missing_subsets(ids, [["x"], ["y"], ["z"], ["w"]], RATIOS, {}, seed=0)
    assert sorted(sum(result.values(), [])) == ids
    assert all(result[subset] for subset in result)
