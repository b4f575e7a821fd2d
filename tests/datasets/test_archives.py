"""Zip archives are read safely: nothing escapes the target folder, nothing fills the disk."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from modelyard.datasets.archives import ArchiveLimits, extract_zip
from modelyard.errors import InvalidInput, PayloadTooLarge

LIMITS = ArchiveLimits(max_bytes=1_000_000, max_ratio=50, max_members=100)


def _zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            bundle.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\evil.txt"])
def test_paths_that_escape_are_refused_before_anything_is_written(tmp_path: Path, member: str) -> None:
    archive = _zip(tmp_path / "a.zip", {"ok.txt": b"fine", member: b"owned"})
    with pytest.raises(InvalidInput) as error:
        extract_zip(archive, tmp_path / "out", LIMITS)
    assert error.value.code == "unsafe_archive" and repr(member) in error.value.message
    assert not (tmp_path / "out").exists()


def test_symlinks_are_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"ok.txt": b"fine"}, symlink="link")
    with pytest.raises(InvalidInput, match="symbolic link"):
        extract_zip(archive, tmp_path / "out", LIMITS)


def test_size_ratio_and_member_count_are_capped(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge, match="MODELYARD_MAX_ARCHIVE_RATIO"):
        extract_zip(_zip(tmp_path / "bomb.zip", {"zeros": b"\0" * 500_000}), tmp_path / "o1", LIMITS)
    with pytest.raises(PayloadTooLarge, match="MODELYARD_MAX_ARCHIVE_BYTES"):
        extract_zip(_zip(tmp_path / "big.zip", {f"{i}": bytes(range(256)) * 1000 for i in range(5)}),
                    tmp_path / "o2", ArchiveLimits(max_bytes=1_000_000, max_ratio=1000, max_members=100))
    with pytest.raises(PayloadTooLarge, match="MODELYARD_MAX_ARCHIVE_MEMBERS"):
        extract_zip(_zip(tmp_path / "many.zip", {f"{i}.txt": b"x" for i in range(101)}), tmp_path / "o3", LIMITS)


def test_sound_archive_unpacks_in_place(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"images/a.txt": b"A", "./b.txt": b"B"})
    written = extract_zip(archive, tmp_path / "out", LIMITS)
    assert sorted(p.relative_to((tmp_path / "out").resolve()).as_posix() for p in written) == ["b.txt", "images/a.txt"]
    assert (tmp_path / "out" / "images" / "a.txt").read_bytes() == b"A"


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(InvalidInput, match="not a readable zip"):
        extract_zip(tmp_path / "x.zip", tmp_path / "out", LIMITS)
