"""The SDK's public names are the types its methods return, so code using the SDK can annotate with them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

from pydantic import BaseModel

import modelyard.sdk


def _collect_models(annotation: object, found: set[type[BaseModel]]) -> None:
    for argument in typing.get_args(annotation):
        _collect_models(argument, found)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        generic = annotation.__pydantic_generic_metadata__
        found.add(generic["origin"] or annotation)  # Page[Job] is a Page of a Job
        for argument in generic["args"]:
            _collect_models(argument, found)


def returned_models() -> set[type[BaseModel]]:
    """The pydantic models in the return annotations of the public methods of the SDK's classes."""
    found: set[type[BaseModel]] = set()
    for info in pkgutil.iter_modules(modelyard.sdk.__path__, "modelyard.sdk."):
        module = importlib.import_module(info.name)
        # Resource classes only: pydantic files parametrized models (Page[Job]) in the module that made them.
        classes = [value for value in vars(module).values()
                   if inspect.isclass(value) and value.__module__ == module.__name__
                   and not issubclass(value, BaseModel)]  # fmt: skip
        for cls in classes:
            for name, method in inspect.getmembers(cls, inspect.isfunction):
                if not name.startswith("_"):
                    _collect_models(typing.get_type_hints(method, vars(module)).get("return"), found)
    return found


def test_every_exported_result_type_is_returned_by_the_sdk() -> None:
    exported = {getattr(modelyard.sdk, name) for name in modelyard.sdk.__all__}
    results = {value for value in exported if issubclass(value, BaseModel)}
    assert sorted(value.__name__ for value in exported - results) == ["ApiError", "Client"]
    stale = sorted(value.__name__ for value in results - returned_models())
    assert stale == [], "exported as SDK result types, but no SDK method returns them"


def test_every_result_type_the_sdk_returns_is_exported() -> None:
    exported = {getattr(modelyard.sdk, name) for name in modelyard.sdk.__all__}
    unexported = sorted(f"{model.__module__}.{model.__name__}" for model in returned_models() - exported)
    assert unexported == []
