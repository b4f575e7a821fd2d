from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.config import Settings


def test_environment_variables_with_the_prefix_configure_everything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("MODELYARD_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/db")
    monkeypatch.setenv("MODELYARD_PORT", "9001")
    monkeypatch.setenv("MODELYARD_JOB_SLOTS", "3")
    monkeypatch.setenv("MODELYARD_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.data_dir == tmp_path / "d"
    assert settings.resolved_database_url == "postgresql+psycopg://u@127.0.0.1/db"
    assert (settings.port, settings.job_slots, settings.log_level) == (9001, 3, "debug")
    assert not settings.is_sqlite


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("MODELYARD_DATA_DIR", "MODELYARD_JOB_SLOTS", "MODELYARD_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("MODELYARD_JOB_SLOTS=4\nMODELYARD_DATA_DIR=store\n")
    settings = Settings()
    assert settings.job_slots == 4
    assert settings.data_dir == tmp_path / "store"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'store' / 'modelyard.db'}"


def test_out_of_range_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_JOB_SLOTS", "0")
    with pytest.raises(ValueError, match="job_slots"):
        Settings()
