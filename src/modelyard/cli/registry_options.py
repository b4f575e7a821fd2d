"""Parsing of `modelyard registry` options: key=value pairs, label maps, metrics, named files, runtimes
and version references."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Any

import typer


def key_values(values: list[str] | None, what: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} {value!r} must look like key=value")
        pairs[key] = item
    return pairs


def json_value(text: str) -> Any:
    try:
        return jsonlib.loads(text)
    except ValueError:
        return text


def json_object(text: str | None, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = jsonlib.loads(text)
    except ValueError as error:
        raise typer.BadParameter(f"{what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{what} must be a JSON object")
    return value


def label_map_of(values: list[str] | None) -> dict[int, str]:
    labels = {}
    for index, name in key_values(values, "label").items():
        if not index.isdigit():
            raise typer.BadParameter(f"label index {index!r} must be a number (e.g. --label 0=cat)")
        labels[int(index)] = name
    return labels


def metrics_of(values: list[str] | None) -> dict[str, float]:
    metrics = {}
    for key, value in key_values(values, "metric").items():
        try:
            metrics[key] = float(value)
        except ValueError:
            raise typer.BadParameter(f"metric {key}={value!r} must be a number (e.g. --metric accuracy=0.97)") from None
    return metrics


def named_files(values: list[str] | None, option: str) -> dict[str, Path]:
    """`NAME=PATH` options: store the file at PATH under NAME in the version."""
    named = {}
    for name, path in key_values(values, option).items():
        if not Path(path).is_file():
            raise typer.BadParameter(f"{option} {name}={path}: there is no file at {path}")
        named[name] = Path(path)
    return named


def version_reference(reference: str, latest: bool) -> str:
    """The reference of the version a command acts on: a bare model name only with --latest."""
    from modelyard.registry.references import is_version_reference, reference_forms

    if latest:
        if is_version_reference(reference):
            raise typer.BadParameter(f"--latest goes with a bare model name, not with the version {reference!r}")
        return f"{reference}/latest"
    if not is_version_reference(reference):
        raise typer.BadParameter(
            f"{reference!r} names a model, not a version: use {reference_forms(reference)}, or add --latest"
        )
    return reference


def runtime_with(
    current: dict[str, Any], image: str | None, flags: list[str] | None, environment: list[str] | None
) -> dict[str, Any] | None:
    """The runtime with these options applied to `current`, or None when no runtime option is given."""
    if image is None and flags is None and environment is None:
        return None
    runtime = {"image": None, "tag": None, "flags": [], "environment": {}, **current}
    if image is not None:
        name, _, tag = image.rpartition(":")
        # A colon names a tag only after the last slash and outside a digest (`host:5000/x`, `x@sha256:...`).
        if name and "/" not in tag and "@" not in image:
            runtime["image"], runtime["tag"] = name, tag
        else:
            runtime["image"], runtime["tag"] = image, None
    if flags is not None:
        runtime["flags"] = list(flags)
    runtime["environment"] = {**runtime["environment"], **key_values(environment, "runtime-env")}
    return runtime
