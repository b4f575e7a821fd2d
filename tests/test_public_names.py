"""`__all__` of modelyard and of each of its packages that declares one says exactly what the package exports."""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import inspect
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import pytest

import modelyard

SOURCE = Path(modelyard.__file__).parent
# Found by reading the files, so that collecting this test imports none of the packages.
PACKAGES_WITH_ALL = ["modelyard"] + sorted(
    f"modelyard.{init.parent.name}" for init in SOURCE.glob("*/__init__.py") if "__all__ =" in init.read_text()
)


def public_names(module: ModuleType) -> set[str]:
    """Names a reader of the package sees as its own: not private, not a submodule, not a typing or __future__
    helper the package imported for itself."""
    return {
        name for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
        and not isinstance(value, __future__._Feature) and getattr(typing, name, None) is not value
    }  # fmt: skip


def test_packages_with_all_include_the_sdk_and_the_ml_core() -> None:
    assert {"modelyard", "modelyard.sdk", "modelyard.export", "modelyard.inference"} <= set(PACKAGES_WITH_ALL)


@pytest.mark.parametrize("package", PACKAGES_WITH_ALL)
def test_all_lists_each_exported_name_once_and_nothing_else(package: str) -> None:
    module = importlib.import_module(package)
    names = list(module.__all__)
    assert len(names) == len(set(names)), f"listed twice: {sorted({n for n in names if names.count(n) > 1})}"
    missing = [name for name in names if not hasattr(module, name)]
    assert missing == [], f"{package}.__all__ lists names the package does not have"
    unlisted = sorted(public_names(module) - set(names))
    assert unlisted == [], f"{package} exports names its __all__ does not list"


def test_package_client_is_the_sdk_client_and_is_loaded_on_first_use() -> None:
    import modelyard.sdk

    probe = "import sys, modelyard; print('modelyard.sdk' in sys.modules, modelyard.Client.__module__)"
    printed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert printed.split() == ["False", "modelyard.sdk.client"]

    assert modelyard.__all__ == ["Client", "__version__"]
    assert modelyard.Client is modelyard.sdk.Client
    assert modelyard.__version__ == importlib.metadata.version("modelyard")
    with pytest.raises(AttributeError, match="no attribute 'Clients'"):
        modelyard.Clients  # noqa: B018
