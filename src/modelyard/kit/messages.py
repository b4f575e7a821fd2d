"""Messages shown to clients name what is in their upload, never where the server keeps it."""

from __future__ import annotations

import re
from pathlib import Path


def without_server_path(text: str, folder: Path, shown_as: str) -> str:
    """`text` with `folder`, and any path under it, written relative to `shown_as` (e.g. 'the archive')."""
    for root in {str(folder), str(folder.resolve())}:
        text = re.sub(re.escape(root) + r"(?=/|\b|$)", lambda _: shown_as, text)
    return text
