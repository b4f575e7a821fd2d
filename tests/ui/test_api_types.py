"""The UI's API types are generated from the server's OpenAPI document; regenerating them must change nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from modelyard.app import create_app
from modelyard.config import Settings
from tests.ui.build import UI_DIR, ensure_ui_packages

COMMITTED_TYPES = UI_DIR / "src" / "api" / "schema.d.ts"
GENERATOR = UI_DIR / "scripts" / "gen-api.mjs"


def test_committed_api_types_match_the_openapi_document(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    node = shutil.which("node")
    assert node is not None, "Node 20 is needed to generate the UI's API types"
    ensure_ui_packages(Path(pytestconfig.rootpath) / "test-results" / "ui")
    app = create_app(Settings(data_dir=tmp_path / "data"), run_jobs=False, configure_logs=False)
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(app.openapi()), encoding="utf-8")
    regenerated = tmp_path / "schema.d.ts"
    done = subprocess.run([node, str(GENERATOR), str(document), str(regenerated)], cwd=UI_DIR, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert regenerated.read_text(encoding="utf-8") == COMMITTED_TYPES.read_text(encoding="utf-8"), (
        "ui/src/api/schema.d.ts is out of date with the API: run `npm run gen:api` in ui/ and commit the result"
    )
