"""Stratified assignment of new items to training, validation and testing (pure: no database).

Rule: only items without a subset are assigned, and never again. They are split by the ratios
(70/20/10 by default), stratified on one key per item: the label for multiclass, the item's rarest
label (by frequency among the new items) for multilabel, detection and segmentation, `<none>` for
an item without labels. A subset with a non-zero ratio that would otherwise stay empty (counting
the items assigned earlier) gets one item from the subset with the most new items, as long as that
one keeps at least one, so every subset is non-empty once 3 or more items are split.
Keys too rare to stratify on (one item) are pooled; when stratifying is impossible, the split is
random. The same items and seed always give the same split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

SUBSETS = ("training", "validation", "testing")
NO_LABEL = "<none>"
RARE = "<rare>"


def stratification_keys(label_sets: Sequence[Sequence[str]]) -> list[str]:
    frequency = Counter(label for labels in label_sets for label in set(labels))
    return [min(labels, key=lambda label: (frequency[label], label)) if labels else NO_LABEL for labels in label_sets]


def target_counts(new: int, ratios: Mapping[str, float], existing: Mapping[str, int]) -> dict[str, int]:
    """How many of `new` items each subset gets (largest remainder), with the non-empty rule."""
    raw = {subset: new * ratios[subset] for subset in SUBSETS}
    counts = {subset: int(raw[subset]) for subset in SUBSETS}
    by_remainder = sorted(SUBSETS, key=lambda subset: (raw[subset] - counts[subset], ratios[subset]), reverse=True)
    for subset in by_remainder[: new - sum(counts.values())]:
        counts[subset] += 1
    for subset in SUBSETS:
        if ratios[subset] > 0 and existing.get(subset, 0) + counts[subset] == 0:
            donor = max(SUBSETS, key=lambda s: (counts[s], ratios[s]))
            if counts[donor] < 2:
                break  # too few new items: a donor never gives its last one
            counts[donor] -= 1
            counts[subset] += 1
    return counts


def assign_missing_subsets(
    item_ids: Sequence[str],
    label_sets: Sequence[Sequence[str]],
    ratios: Mapping[str, float],
    existing: Mapping[str, int],
    seed: int = 0,
) -> dict[str, list[str]]:
    """Subset -> the ids of the new items it gets."""
    if not item_ids:
        return {subset: [] for subset in SUBSETS}
    counts = target_counts(len(item_ids), ratios, existing)
    keys = stratification_keys(label_sets)
    remaining = list(range(len(item_ids)))
    assigned: dict[str, list[str]] = {}
    for subset in ("testing", "validation"):
        taken, remaining = _take(remaining, [keys[i] for i in remaining], counts[subset], seed)
        assigned[subset] = [item_ids[i] for i in sorted(taken)]
    assigned["training"] = [item_ids[i] for i in sorted(remaining)]
    return assigned


def split_off(
    item_ids: Sequence[str], label_sets: Sequence[Sequence[str]], count: int, seed: int = 0
) -> tuple[list[str], list[str]]:
    """(the `count` ids taken, the rest), stratified on the same keys as `assign_missing_subsets`."""
    taken, kept = _take(list(range(len(item_ids))), stratification_keys(label_sets), count, seed)
    return [item_ids[i] for i in sorted(taken)], [item_ids[i] for i in sorted(kept)]


def _take(indices: list[int], keys: list[str], count: int, seed: int) -> tuple[list[int], list[int]]:
    from sklearn.model_selection import train_test_split

    if count <= 0:
        return [], indices
    if count >= len(indices):
        return indices, []
    strata = _usable_strata(keys, count, len(indices) - count)
    try:
        rest, taken = train_test_split(indices, test_size=count, stratify=strata, random_state=seed)
    except ValueError:
        rest, taken = train_test_split(indices, test_size=count, random_state=seed)
    return list(taken), list(rest)


def _usable_strata(keys: list[str], taken: int, kept: int) -> list[str] | None:
    frequency = Counter(keys)
    pooled = [key if frequency[key] >= 2 else RARE for key in keys]
    frequency = Counter(pooled)
    if frequency.get(RARE) == 1:
        commonest = max((key for key in frequency if key != RARE), key=lambda key: frequency[key], default=None)
        if commonest is None:
            return None
        pooled = [commonest if key == RARE else key for key in pooled]
        frequency = Counter(pooled)
    if len(frequency) < 2 or len(frequency) > min(taken, kept):
        return None
    return pooled
