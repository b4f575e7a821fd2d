"""Running a deployment package the way its users do: unzip it and run predict.py without modelyard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path


def run_deployment_package(package: Path, folder: Path, images: list[Path], *arguments: str) -> list[dict]:
    """predict.py's JSON lines for `images`; modelyard is installed in this virtualenv, so a shadowing
    package that refuses to import proves predict.py needs none of it."""
    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    blocker = folder.parent / "blocker" / "modelyard"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('predict.py must not import modelyard')\n")
    environment = {**os.environ, "PYTHONPATH": str(blocker.parent)}
    refused = subprocess.run([sys.executable, "-c", "import modelyard"], cwd=folder, env=environment,
                             capture_output=True)  # fmt: skip
    assert refused.returncode != 0, "the blocker did not hide modelyard"
    completed = subprocess.run(
        [sys.executable, str(folder / "predict.py"), *map(str, images), *arguments],
        cwd=folder, env=environment, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return [json.loads(line) for line in completed.stdout.splitlines()]
