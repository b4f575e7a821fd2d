"""modelyard: manage computer-vision models from labelled data to deployment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Client", "__version__"]

if TYPE_CHECKING:
    from modelyard.sdk import Client


def __getattr__(name: str) -> Any:
    # The SDK is imported lazily so that `import modelyard` stays cheap for the CLI and job workers.
    if name == "Client":
        from modelyard.sdk import Client

        return Client
    raise AttributeError(f"module 'modelyard' has no attribute {name!r}")
