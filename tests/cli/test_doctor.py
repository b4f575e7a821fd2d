"""`modelyard doctor` on the test's database and data directory."""

from __future__ import annotations

import pytest

from modelyard.cli.main import main
from modelyard.config import Settings
from modelyard.context import AppContext


def _doctor(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    with pytest.raises(SystemExit) as ended:
        main(["doctor"])
        raise SystemExit(0)
    return int(ended.value.code or 0), capsys.readouterr().out


def test_doctor_passes_on_a_migrated_database_and_a_writable_store(
    context: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _doctor(context.settings, monkeypatch, capsys)
    lines = out.splitlines()
    assert code == 0, out
    assert [line.split(":")[0] for line in lines] == ["ok   database", "ok   store"]
    assert "sha256 matches" in lines[1]
    assert not (context.settings.data_dir / "doctor").exists()  # the probe is removed


def test_doctor_fails_on_a_database_without_the_schema(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.data_dir.mkdir(parents=True)
    code, out = _doctor(settings, monkeypatch, capsys)
    assert code == 1
    assert out.splitlines()[0].startswith("FAIL database:") and "modelyard db upgrade" in out
