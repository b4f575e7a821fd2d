"""Size limits of what a request may store: JSON documents (metadata, parameters, descriptions, tags), names,
and counts of tags, labels and files. Each refusal names the limit and the setting that raises it.

The limits come from Settings, but request bodies are validated by FastAPI before any endpoint or service
runs, and FastAPI has no way to hand a validation context to pydantic. So the app puts its limits in a
context variable for each request (`limits_in_force`), and the validators here read them: the schemas stay
declarative (one annotated type per kind of input), and outside a request (a job, a test, a script) the
defaults of Settings hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, cast

from pydantic import AfterValidator, ValidationInfo

from modelyard.errors import InvalidInput
from modelyard.kit.bounds import storable_text

if TYPE_CHECKING:
    from modelyard.config import Settings

# pydantic stops serializing at 255 levels, envelope included (a page of events, an event, its `after`, the
# metadata...): a stored document is shown down to this depth and cut below it, so a document stored before the
# limits existed can never make a list answer 500.
SHOWN_DEPTH = 200
CUT_MARKER = f"(nested deeper than {SHOWN_DEPTH} levels: not shown)"


@dataclass(frozen=True)
class InputLimits:
    """The limits in force; defaults equal those of Settings."""

    max_json_bytes: int = 64 * 1024
    max_json_depth: int = 20
    max_name_length: int = 256
    max_tags: int = 100
    max_labels: int = 1000
    max_files_per_version: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> InputLimits:
        return cls(
            max_json_bytes=settings.max_json_value_bytes,
            max_json_depth=settings.max_json_depth,
            max_name_length=settings.max_name_length,
            max_tags=settings.max_tags,
            max_labels=settings.max_labels,
            max_files_per_version=settings.max_files_per_version,
        )


SETTING_NAMES = {
    "max_json_bytes": "MODELYARD_MAX_JSON_VALUE_BYTES",
    "max_json_depth": "MODELYARD_MAX_JSON_DEPTH",
    "max_name_length": "MODELYARD_MAX_NAME_LENGTH",
    "max_tags": "MODELYARD_MAX_TAGS",
    "max_labels": "MODELYARD_MAX_LABELS",
    "max_files_per_version": "MODELYARD_MAX_FILES_PER_VERSION",
}

_in_force: ContextVar[InputLimits] = ContextVar("modelyard_input_limits", default=InputLimits())  # noqa: B039 - frozen


def current_limits() -> InputLimits:
    return _in_force.get()


@contextmanager
def limits_in_force(limits: InputLimits) -> Iterator[None]:
    token = _in_force.set(limits)
    try:
        yield
    finally:
        _in_force.reset(token)


def over_limit(what: str, amount: int, unit: str, limit_name: str) -> str:
    """The message of a refusal: what, how much, the limit, and the setting that raises it."""
    limit = getattr(current_limits(), limit_name)
    return f"{what} has {amount} {unit}; the limit is {limit} ({SETTING_NAMES[limit_name]})"


def json_depth(value: Any, stop_after: int) -> int:
    """Nesting depth of a JSON value (a scalar is 0, `{}` is 1), counted without recursion; stops counting
    once past `stop_after`, so a hostile document costs no more than the limit. Runs on every read of
    metadata and parameters, hence the plain loop that stacks containers only."""
    if not isinstance(value, dict | list):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > stop_after:
                return deepest
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return deepest


def _field(info: ValidationInfo, default: str) -> str:
    return info.field_name or default


def check_json_value(value: Any, info: ValidationInfo) -> Any:
    """A pydantic validator: the value, or ValueError when over the JSON depth or size limit."""
    return json_within_limits(value, _field(info, "the value"))


def json_within_limits(value: Any, what: str) -> Any:
    """The value, or ValueError when it is nested too deep or too large as JSON (UTF-8 bytes)."""
    limits = current_limits()
    depth = json_depth(value, limits.max_json_depth)
    if depth > limits.max_json_depth:
        raise ValueError(over_limit(what, depth, "levels of nesting (or more)", "max_json_depth"))
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > limits.max_json_bytes:
        raise ValueError(over_limit(what, size, "bytes as JSON", "max_json_bytes"))
    return value


def check_tag_count(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    if len(value) > current_limits().max_tags:
        raise ValueError(over_limit(_field(info, "tags"), len(value), "tags", "max_tags"))
    return value


def check_label_count(value: Any, info: ValidationInfo) -> Any:
    if len(value) > current_limits().max_labels:
        raise ValueError(over_limit(_field(info, "labels"), len(value), "labels", "max_labels"))
    return value


def merged_within_limits(value: dict[str, Any], what: str) -> dict[str, Any]:
    """A document merged from several requests (metadata patches), checked as a whole: InvalidInput if over."""
    try:
        return cast("dict[str, Any]", json_within_limits(value, what))
    except ValueError as error:
        raise InvalidInput(str(error), code="limit_exceeded") from None


def count_within_limit(count: int, what: str, unit: str, limit_name: str) -> None:
    """InvalidInput when a collection grown by a request (tags, labels, files) has passed its limit."""
    if count > getattr(current_limits(), limit_name):
        raise InvalidInput(over_limit(what, count, unit, limit_name), code="limit_exceeded")


JsonObject = Annotated[dict[str, Any], AfterValidator(check_json_value)]
"""A JSON document from a request (metadata, parameters, overrides): bounded in depth and size."""

BoundedText = Annotated[str, AfterValidator(storable_text), AfterValidator(check_json_value)]
"""Free text from a request (descriptions, comments): storable, and bounded in size like a JSON document."""


def cut_deep_json(value: Any) -> Any:
    """A stored document as shown: levels below SHOWN_DEPTH replaced by a marker. Shallow documents (all
    those stored within the limits) are returned as they are, after a walk that stops at SHOWN_DEPTH."""
    if json_depth(value, SHOWN_DEPTH) <= SHOWN_DEPTH:
        return value
    return _cut(value, SHOWN_DEPTH)


def _cut(value: Any, levels_left: int) -> Any:
    if not isinstance(value, dict | list):
        return value
    if levels_left == 0:
        return CUT_MARKER
    # Recursion is bounded by SHOWN_DEPTH, far below Python's limit.
    if isinstance(value, dict):
        return {key: _cut(child, levels_left - 1) for key, child in value.items()}
    return [_cut(child, levels_left - 1) for child in value]


ShownJson = Annotated[dict[str, Any], AfterValidator(cut_deep_json)]
"""A stored JSON document in a response: never too deep to serialize."""
