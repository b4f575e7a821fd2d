"""Field-level helpers of the registry: storage keys of version files, label maps as JSON, tag and document
merges. No session and no rules: `service.py` decides when they apply."""

from __future__ import annotations

import copy
from typing import Any

from modelyard.kit.limits import count_within_limit


def version_folder(version_id: str) -> str:
    return f"registry/versions/{version_id}"


def version_file_key(version_id: str, name: str) -> str:
    return f"{version_folder(version_id)}/{name}"


def label_map_to_json(label_map: dict[int, str]) -> dict[str, str]:
    return {str(index): name for index, name in sorted(label_map.items())}


def change_tags(tags: list[Any], tag_type: type, set_tags: dict[str, str], remove: list[str]) -> None:
    """Remove the `remove` keys, then set (add or overwrite) the `set_tags` values of a tag collection."""
    existing = {tag.key: tag for tag in tags}
    for key in remove:
        if key in existing:
            tags.remove(existing.pop(key))
    for key, value in set_tags.items():
        if key in existing:
            existing[key].value = value
        else:
            tags.append(tag_type(key=key, value=value))
    count_within_limit(len(tags), "the tags", "tags", "max_tags")


def merged_document(
    current: dict[str, Any], set_values: dict[str, Any] | None, remove: list[str] | None
) -> dict[str, Any]:
    """A copy of `current` without the `remove` keys and with the `set_values` on top (metadata, parameters)."""
    merged = copy.deepcopy(current)
    for key in remove or []:
        merged.pop(key, None)
    merged.update(copy.deepcopy(set_values or {}))
    return merged
