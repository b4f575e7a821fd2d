"""Checking many images at once: decode, hash and thumbnail in worker processes, one per usable core."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Self

from modelyard.datasets.images import ThumbnailedImage, check_image_with_thumbnail

CHUNK = 16  # images per task: amortises the inter-process round trip, keeps the workers evenly fed
MISSING = "image file missing from the archive"


def usable_cores() -> int:
    """The cores this process may use (affinity, cgroup quota, `MODELYARD_JOB_THREADS` in a job), not the host's."""
    from modelyard.cpu_threads import usable_cpus

    return usable_cpus()


def _check_chunk(
    tasks: Sequence[tuple[Path | None, Path]], *, max_bytes: int, max_pixels: int, longest_side: int
) -> list[ThumbnailedImage | str]:
    results: list[ThumbnailedImage | str] = []
    for image, thumbnail in tasks:
        if image is None or not image.is_file():
            results.append(MISSING)
        else:
            results.append(
                check_image_with_thumbnail(
                    image, thumbnail, max_bytes=max_bytes, max_pixels=max_pixels, longest_side=longest_side
                )
            )
    return results


class ImagePool:
    """Worker processes that check images; `check` returns futures whose results keep the order asked.

    Each result is a ThumbnailedImage (its thumbnail written under `scratch`) or the reason the image
    is refused. Workers are forked where the platform can: a spawned one re-imports the job's modules
    (about 0.6 s of CPU each). Forking beside the job's threads is safe for what they run, Pillow and
    hashlib on files they are handed: no database, no logging, no threads of their own.
    """

    def __init__(self, scratch: Path, *, max_bytes: int, max_pixels: int, longest_side: int, images: int) -> None:
        import multiprocessing

        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.workers = max(1, min(usable_cores(), -(-images // CHUNK)))
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method))
        self._check = partial(_check_chunk, max_bytes=max_bytes, max_pixels=max_pixels, longest_side=longest_side)
        self._counter = 0

    def check(self, images: Sequence[Path | None]) -> list[Future[list[ThumbnailedImage | str]]]:
        tasks = []
        for image in images:
            tasks.append((image, self.scratch / f"{self._counter}.thumb.jpg"))
            self._counter += 1
        return [
            self._executor.submit(self._check, tasks[start : start + CHUNK]) for start in range(0, len(tasks), CHUNK)
        ]

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def results(futures: Sequence[Future[list[ThumbnailedImage | str]]]) -> list[ThumbnailedImage | str]:
    return [result for future in futures for result in future.result()]
