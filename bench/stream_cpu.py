"""CPU time per frame of the stream against benchmark_app's on the same IR: a comparison that holds on a shared
machine, where frames per second follow the neighbours' load.

Both sides keep every CPU busy, so `bench/stream.py`'s ratio of frames per second is, on a quiet machine, the ratio
of CPU spent per frame. Here each side runs a short and a long job, and (CPU of the long - CPU of the short) /
(frames of the long - frames of the short) is its CPU per frame with start-up left out: the stream's worker process
(a child of this process), this process (the server that supervises the worker and answers the status polls), and
benchmark_app (`-niter`, in the stream's configuration).

    PYTHONPATH=src:.:bench .venv/bin/python bench/stream_cpu.py --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stream import LIVE_FPS, benchmark_app_flags, served_stream, stream_fps

from modelyard.logging import configure_logging
from tests.stream.factories import write_video

SHORT_FRAMES = 100
LONG_FRAMES = 500


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    configure_logging("warning")
    tool = Path(sys.executable).parent / "benchmark_app"
    with tempfile.TemporaryDirectory(prefix="bench-stream-cpu-") as scratch:
        root = Path(scratch)
        videos = {frames: write_video(root / f"shapes-{frames}.avi", frames, 640, 480, fps=LIVE_FPS)
                  for frames in (SHORT_FRAMES, LONG_FRAMES)}  # fmt: skip
        with served_stream(root) as bench:
            for index in range(options.rounds):
                worker, server, app_cpu = {}, {}, {}
                for frames, video in videos.items():
                    children, own = cpu_seconds(resource.RUSAGE_CHILDREN), cpu_seconds(resource.RUSAGE_SELF)
                    stream_fps(bench.client, bench.project, video, root / f"out-{index}-{frames}")
                    time.sleep(0.5)  # the finished worker is reaped by the supervisor, its CPU then counted
                    worker[frames] = cpu_seconds(resource.RUSAGE_CHILDREN) - children
                    server[frames] = cpu_seconds(resource.RUSAGE_SELF) - own
                    children = cpu_seconds(resource.RUSAGE_CHILDREN)
                    subprocess.run([str(tool), "-m", str(bench.variant.model_path), "-niter", str(frames),
                                    *benchmark_app_flags(bench.configuration.requests)],
                                   capture_output=True, check=True)  # fmt: skip
                    app_cpu[frames] = cpu_seconds(resource.RUSAGE_CHILDREN) - children
                per_frame = {name: (side[LONG_FRAMES] - side[SHORT_FRAMES]) / (LONG_FRAMES - SHORT_FRAMES) * 1000
                             for name, side in (("worker", worker), ("server", server), ("app", app_cpu))}  # fmt: skip
                print(json.dumps({
                    "round": index + 1, **{f"{name}_cpu_ms_per_frame": round(value, 2)
                                           for name, value in per_frame.items()},
                    "ratio": round(per_frame["app"] / (per_frame["worker"] + per_frame["server"]), 3),
                    "load_average_1min": round(os.getloadavg()[0], 2),
                }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
