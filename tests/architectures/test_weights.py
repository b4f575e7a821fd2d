from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.architectures.manifest import ArchitectureManifest, PretrainedWeights
from modelyard.architectures.weights import (
    WeightsIntegrityError,
    WeightsUnavailableError,
    ensure_weights,
    import_weights,
    list_cached,
    recorded_digest_path,
    weights_path,
)

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: several download chunks


@pytest.fixture()
def served_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving a folder that holds ``weights.pth``."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "weights.pth").write_bytes(PAYLOAD)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", folder
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _manifest_with(
    base: ArchitectureManifest, url: str, sha256: str | None, prefix: str | None = None
) -> ArchitectureManifest:
    weights = PretrainedWeights(url=url, file_name="weights.pth", sha256=sha256, sha256_prefix=prefix)
    return base.model_copy(update={"pretrained_weights": weights})


@pytest.fixture()
def resnet18(shipped_manifests: dict[str, ArchitectureManifest]) -> ArchitectureManifest:
    return shipped_manifests["resnet18"]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_over_http_stores_verified_file(
    served_folder: tuple[str, Path], resnet18: ArchitectureManifest, tmp_path: Path
) -> None:
    url, _ = served_folder
    manifest = _manifest_with(resnet18, f"{url}/weights.pth", _digest(PAYLOAD))
    seen: list[tuple[int, int | None]] = []
    path = ensure_weights(manifest, tmp_path / "data", progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "data" / "pretrained_weights" / "classification" / "resnet18" / "weights.pt"
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert sorted(p.name for p in path.parent.iterdir()) == ["weights.pt"]


def test_download_from_file_url_with_hash_prefix(resnet18: ArchitectureManifest, tmp_path: Path) -> None:
    source = tmp_path / "elsewhere.pth"
    source.write_bytes(PAYLOAD)
    manifest = _manifest_with(resnet18, source.as_uri(), None, prefix=_digest(PAYLOAD)[:8])
    path = ensure_weights(manifest, tmp_path / "data")
    assert path.read_bytes() == PAYLOAD


def test_cached_weights_are_used_without_network(
    served_folder: tuple[str, Path], resnet18: ArchitectureManifest, tmp_path: Path
) -> None:
    url, folder = served_folder
    manifest = _manifest_with(resnet18, f"{url}/weights.pth", _digest(PAYLOAD))
    first = ensure_weights(manifest, tmp_path / "data")
    (folder / "weights.pth").unlink()  # a second download would now fail with 404
    assert ensure_weights(manifest, tmp_path / "data", allow_download=False) == first


def test_hash_mismatch_is_refused_and_leaves_nothing(
    served_folder: tuple[str, Path], resnet18: ArchitectureManifest, tmp_path: Path
) -> None:
    url, _ = served_folder
    manifest = _manifest_with(resnet18, f"{url}/weights.pth", _digest(b"other bytes"))
    with pytest.raises(WeightsIntegrityError, match="nothing was stored"):
        ensure_weights(manifest, tmp_path / "data")
    folder = weights_path(manifest, tmp_path / "data").parent
    assert list(folder.iterdir()) == []


def test_corrupt_cached_file_is_downloaded_again(
    served_folder: tuple[str, Path], resnet18: ArchitectureManifest, tmp_path: Path
) -> None:
    url, _ = served_folder
    manifest = _manifest_with(resnet18, f"{url}/weights.pth", _digest(PAYLOAD))
    target = weights_path(manifest, tmp_path / "data")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"truncated")
    assert ensure_weights(manifest, tmp_path / "data").read_bytes() == PAYLOAD


def test_offline_error_says_how_to_import(resnet18: ArchitectureManifest, tmp_path: Path) -> None:
    with pytest.raises(WeightsUnavailableError) as caught:
        ensure_weights(resnet18, tmp_path / "data", allow_download=False)
    message = str(caught.value)
    assert "modelyard weights import resnet18 FILE" in message
    assert str(tmp_path / "data" / "pretrained_weights" / "classification" / "resnet18" / "weights.pt") in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message


def test_unreachable_server_raises_unavailable(resnet18: ArchitectureManifest, tmp_path: Path) -> None:
    manifest = _manifest_with(resnet18, "http://127.0.0.1:9/weights.pth", _digest(PAYLOAD))
    with pytest.raises(WeightsUnavailableError, match="download failed"):
        ensure_weights(manifest, tmp_path / "data", timeout_seconds=2)
    assert not weights_path(manifest, tmp_path / "data").exists()


def test_import_checks_the_hash_and_lists_the_file(resnet18: ArchitectureManifest, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.pth", tmp_path / "bad.pth"
    good.write_bytes(PAYLOAD)
    bad.write_bytes(PAYLOAD[:-1])
    manifest = _manifest_with(resnet18, "https://example.invalid/w.pth", None, prefix=_digest(PAYLOAD)[:12])
    with pytest.raises(WeightsIntegrityError):
        import_weights(manifest, tmp_path / "data", bad)
    assert list_cached(tmp_path / "data") == []
    path = import_weights(manifest, tmp_path / "data", good)
    [cached] = list_cached(tmp_path / "data")
    assert (cached.family, cached.architecture_id, cached.path, cached.size_bytes) == (
        "classification", "resnet18", path, len(PAYLOAD)
    )


def test_weights_without_a_published_digest_record_theirs_at_download(
    served_folder: tuple[str, Path], resnet18: ArchitectureManifest, tmp_path: Path
) -> None:
    url, folder = served_folder
    weights = PretrainedWeights(url=f"{url}/weights.pth", file_name="weights.pth", digest_recorded_at_download=True)
    manifest = resnet18.model_copy(update={"pretrained_weights": weights})
    path = ensure_weights(manifest, tmp_path / "data")
    assert path.read_bytes() == PAYLOAD
    assert recorded_digest_path(path).read_text(encoding="utf-8") == f"{_digest(PAYLOAD)}\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["weights.pt", "weights.pt.sha256"]
    # The cache is checked against the recorded digest: intact, it is used without the server; altered, refetched.
    other = b"the server now serves other bytes"
    (folder / "weights.pth").write_bytes(other)
    assert ensure_weights(manifest, tmp_path / "data", allow_download=False).read_bytes() == PAYLOAD
    path.write_bytes(b"truncated")
    assert ensure_weights(manifest, tmp_path / "data").read_bytes() == other
    assert recorded_digest_path(path).read_text(encoding="utf-8").strip() == _digest(other)


def test_a_digest_to_record_excludes_a_published_one() -> None:
    with pytest.raises(ValueError, match="only for weights without a published sha256"):
        PretrainedWeights(url="https://example.invalid/w.pth", file_name="w.pth", sha256_prefix="0123abcd",
                          digest_recorded_at_download=True)  # fmt: skip
    with pytest.raises(ValueError, match="digest_recorded_at_download: true"):
        PretrainedWeights(url="https://example.invalid/w.pth", file_name="w.pth")
