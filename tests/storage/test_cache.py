"""The local copies' cache of the S3 store: verified copies named as their keys, least recently used go first."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.errors import IntegrityError
from modelyard.storage.cache import VerifiedCache


def _source(content: bytes, fetched: list[bytes]) -> Callable[[Path], None]:
    def fetch(target: Path) -> None:
        fetched.append(content)
        target.write_bytes(content)

    return fetch


def _get(cache: VerifiedCache, key: str, content: bytes, fetched: list[bytes]) -> Path:
    return cache.get(key, hashlib.sha256(content).hexdigest(), len(content), _source(content, fetched))


def test_a_copy_is_named_as_its_key_and_fetched_once(tmp_path: Path) -> None:
    cache = VerifiedCache(tmp_path / "cache", 10_000)
    fetched: list[bytes] = []
    first = _get(cache, "models/r/openvino/model.xml", b"<xml/>", fetched)
    again = _get(cache, "models/r/openvino/model.xml", b"<xml/>", fetched)
    assert first == again == tmp_path / "cache" / "models/r/openvino/model.xml"
    assert fetched == [b"<xml/>"] and first.read_bytes() == b"<xml/>"


def test_bytes_that_arrive_altered_are_refused_and_not_kept(tmp_path: Path) -> None:
    cache = VerifiedCache(tmp_path / "cache", 10_000)
    expected = hashlib.sha256(b"recorded bytes").hexdigest()
    with pytest.raises(IntegrityError):
        cache.get("a/model.bin", expected, 14, _source(b"the wrong ones", []))
    assert not (tmp_path / "cache" / "a" / "model.bin").exists()


def test_a_copy_whose_key_now_holds_other_bytes_is_fetched_again(tmp_path: Path) -> None:
    cache = VerifiedCache(tmp_path / "cache", 10_000)
    fetched: list[bytes] = []
    _get(cache, "a/model.bin", b"version 1", fetched)
    assert _get(cache, "a/model.bin", b"version 2", fetched).read_bytes() == b"version 2"
    assert fetched == [b"version 1", b"version 2"]


def test_the_least_recently_used_copies_go_when_the_cache_is_full(tmp_path: Path) -> None:
    cache = VerifiedCache(tmp_path / "cache", 2_500, protect_seconds=0)
    fetched: list[bytes] = []
    _get(cache, "a", b"a" * 1000, fetched)
    _get(cache, "b", b"b" * 1000, fetched)
    _get(cache, "a", b"a" * 1000, fetched)  # used again: b is now the oldest
    _get(cache, "c", b"c" * 1000, fetched)
    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == ["a", "c"]
    assert cache.used_bytes() == 2000
