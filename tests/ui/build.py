"""The web application built once for the browser tests: `npm ci` when its packages are missing, `npm run build`
when the build is missing or older than any of its sources."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.server import REPO_ROOT

UI_DIR = REPO_ROOT / "ui"
BUILT_INDEX = REPO_ROOT / "src" / "modelyard" / "ui" / "static" / "index.html"
SOURCE_FILES = (
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
    "postcss.config.cjs",
)
BUILD_CEILING_SECONDS = 600


def newest_source_time() -> float:
    sources = [UI_DIR / name for name in SOURCE_FILES]
    sources += [path for path in (UI_DIR / "src").rglob("*") if path.is_file()]
    return max(path.stat().st_mtime for path in sources if path.exists())


def build_is_current() -> bool:
    return BUILT_INDEX.is_file() and BUILT_INDEX.stat().st_mtime >= newest_source_time()


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise RuntimeError("npm is needed to build the web application (Node 20 and npm)")
    return found


def ensure_ui_packages(lock_folder: Path) -> Path:
    """ui/node_modules, installed from the lockfile when missing (under a lock: parallel runs install once)."""
    with _build_lock(lock_folder):
        _install_if_missing()
    return UI_DIR / "node_modules"


def ensure_ui_built(lock_folder: Path) -> Path:
    """The built index.html; builds under a lock, so parallel test runs build once."""
    with _build_lock(lock_folder):
        if not build_is_current():
            _install_if_missing()
            _run([npm(), "run", "build"])
    return BUILT_INDEX


@contextmanager
def _build_lock(lock_folder: Path) -> Iterator[None]:
    lock_folder.mkdir(parents=True, exist_ok=True)
    with (lock_folder / "ui-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _install_if_missing() -> None:
    if not (UI_DIR / "node_modules").is_dir():
        _run([npm(), "ci", "--no-audit", "--no-fund"])


def _run(command: list[str]) -> None:
    done = subprocess.run(command, cwd=UI_DIR, capture_output=True, text=True, timeout=BUILD_CEILING_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {UI_DIR}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
