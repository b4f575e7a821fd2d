"""Where each hyperparameter of a training comes from, in the order the layers apply.

A new training starts from the architecture's defaults, then the project's stored configuration, then
the request's overrides. A fine-tuning starts from its parent's hyperparameters instead (what made
the parent good: learning rate, schedule, augmentations), with only the request's overrides on top;
starting it from the defaults silently undoes the parent's choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ARCHITECTURE_DEFAULT = "architecture defaults"
PROJECT_CONFIGURATION = "project configuration"
OVERRIDE = "overrides"

Layer = tuple[str, Mapping[str, Any]]  # (where the values come from, values in the manifest's shape)


def parent_source(number: int, revision_id: str) -> str:
    return f"parent revision {number} ({revision_id})"


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`top` over `base`; groups (nested mappings) are merged key by key."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def known_only(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The values the architecture still knows (a parent may predate a change of its manifest)."""
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if key not in defaults:
            continue
        if isinstance(defaults[key], Mapping):
            kept[key] = known_only(value if isinstance(value, Mapping) else {}, defaults[key])
        else:
            kept[key] = value
    return kept


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def sources_of(layers: Sequence[Layer], resolved: Mapping[str, Any]) -> dict[str, str]:
    """Each resolved hyperparameter (dotted name) -> the last layer that set it, else the defaults."""
    sources = dict.fromkeys(flatten(resolved), ARCHITECTURE_DEFAULT)
    for source, values in layers:
        for name in flatten(values):
            if name in sources:
                sources[name] = source
    return sources


def describe(sources: Mapping[str, str], resolved: Mapping[str, Any]) -> str:
    """One line for the training log, grouped by where the values come from."""
    values = flatten(resolved)
    groups: dict[str, list[str]] = {}
    for name in sorted(sources):
        groups.setdefault(sources[name], []).append(f"{name}={values.get(name)!r}")
    rank = {ARCHITECTURE_DEFAULT: 1, PROJECT_CONFIGURATION: 2, OVERRIDE: 3}  # a parent comes first
    order = sorted(groups, key=lambda source: rank.get(source, 0))
    parts = [f"from {source}: {', '.join(groups[source])}" for source in order if source != OVERRIDE]
    parts.append(f"overrides: {', '.join(groups[OVERRIDE]) if OVERRIDE in groups else 'none'}")
    return "hyperparameters " + "; ".join(parts)
