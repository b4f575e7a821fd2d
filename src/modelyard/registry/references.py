"""Version references: `name/3`, `name/latest`, `name/production` (newest in a stage), `name@champion`.

A reference splits into the model name and a *selector* that the REST routes take in place of a
version number: `3`, `latest`, a stage name, or `@alias`. A bare `name` names the whole model, never
a version: where a version is meant, `name` alone is refused rather than read as `name/latest`.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelyard.errors import InvalidInput, NotFound
from modelyard.kit.bounds import fits_int64

LATEST = "latest"
STAGES = ("none", "staging", "production", "archived")


@dataclass(frozen=True)
class VersionSelector:
    number: int | None = None
    alias: str | None = None
    stage: str | None = None
    latest: bool = False

    def __str__(self) -> str:
        if self.number is not None:
            return str(self.number)
        if self.alias is not None:
            return f"@{self.alias}"
        return self.stage or LATEST


def parse_selector(text: str) -> VersionSelector:
    text = text.strip()
    if text.startswith("@") and len(text) > 1:
        return VersionSelector(alias=text[1:])
    if text.isascii() and text.isdigit():  # str.isdigit alone takes '²', which int() refuses
        number = int(text)
        if not fits_int64(number):
            raise NotFound(f"there is no version {text}: version numbers are below 2**63")
        return VersionSelector(number=number)
    if text == LATEST:
        return VersionSelector(latest=True)
    if text in STAGES:
        return VersionSelector(stage=text)
    raise InvalidInput(f"version {text!r} is not a number, 'latest', a stage ({', '.join(STAGES)}) or '@alias'")


def reference_forms(name: str = "name") -> str:
    """The ways to name a version of `name`, for messages."""
    return f"{name}/3, {name}/latest, {name}/production (newest in a stage) or {name}@alias"


def is_version_reference(reference: str) -> bool:
    """True when `reference` names a version (`name/3`, `name@alias`), False for a bare model name."""
    return "/" in reference or "@" in reference


def split_reference(reference: str) -> tuple[str, str]:
    """`name@alias` -> (name, '@alias'); `name/3` -> (name, '3'); a bare `name` is refused."""
    if not is_version_reference(reference):
        raise InvalidInput(
            f"{reference!r} names a model, not a version: use {reference_forms(reference)}",
            code="version_reference_required",
        )
    if "@" in reference:
        name, _, alias = reference.partition("@")
        selector = f"@{alias}"
    else:
        name, _, selector = reference.partition("/")
    if not name or not selector.strip("@"):
        raise InvalidInput(f"model reference {reference!r} is not valid: use {reference_forms()}")
    parse_selector(selector)
    return name, selector
