"""The stream pipeline's speed: frames per second through a detector against OpenVINO's benchmark_app on the same
IR, and the end-to-end latency of a live source at 15 frames per second.

1. ssdlite320_mobilenet_v3_large with random weights, exported to an FP32 IR, served by a project's pipeline in a
   server running in this process (job runner and stream supervisor included, the worker a process of its own).
2. Throughput: a generated 640x480 video (moving shapes) as the stream's source, read as fast as the model takes
   frames, into a folder sink (one JSON per frame). Frames per second are counted between the first and the last
   JSON written, so the worker's start-up (imports, model load) is left out. `--codec`: Motion JPEG (the
   default; each frame is a JPEG, which the predictor decodes) or MPEG-4 (OpenCV decodes the frames). The stream
   compiles its model with OpenVINO's THROUGHPUT hint, f32 inference precision and as many infer requests in
   flight as the compiled model calls optimal; benchmark_app runs the same IR in the same configuration
   (`-api async -hint throughput -nireq N -infer_precision f32 -b 1`), and the bench checks that both report the
   same streams and threads. The two sides alternate, stream then benchmark_app for as long, `--rounds` times, so
   load that comes and goes on a shared machine weighs on both alike. Aim: stream fps >= 0.8 x benchmark_app fps
   (the median of the rounds' ratios). The stream pays for decoding the video, resizing each frame, decoding the
   boxes and writing the JSON; benchmark_app for none of these.
3. Latency: the same video at its own rate (15 fps, `realtime`), looped, for `--live-seconds`; the worker's own
   p50/p99 from the source timestamp to the sink written, and the frames dropped.

    PYTHONPATH=src:.:bench .venv/bin/python bench/stream.py --frames 600 --rounds 3 --live-seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from inference import make_checkpoint

from modelyard import cpu_threads
from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.export import ExportedVariant, export_openvino
from modelyard.inference import Predictor
from modelyard.logging import configure_logging
from modelyard.pipelines.service import THROUGHPUT_CONFIG
from modelyard.sdk import Client
from modelyard.sdk.transport import InProcessTransport
from modelyard.stream.schemas import StreamStatus
from tests.stream.factories import serve_detector, write_video

AIM = 0.8
STATUS_POLL_SECONDS = 0.5
"""How often the bench asks the stream's status: the server in this process shares the CPUs with the worker, so the
bench polls no more often than the server's own loops do by default (`job_poll_seconds`)."""
ARCHITECTURE = "ssdlite320_mobilenet_v3_large"
LIVE_FPS = 15.0
CODECS = {"MJPG": "avi", "mp4v": "mp4"}
"""FourCC: the file's suffix."""


def wait_until_finished(client: Client, project: str) -> StreamStatus:
    while (status := client.pipelines.stream_status(project)).state != "finished":
        if status.state == "restarting":
            raise RuntimeError(f"the stream crashed: {status.last_error}")
        time.sleep(STATUS_POLL_SECONDS)
    return status


@dataclass(frozen=True)
class CompiledLike:
    """How the stream's worker compiles the model on this machine: its streams, threads and requests in flight."""

    streams: int
    threads: int
    requests: int


def stream_configuration(model_xml: Path, settings: Settings) -> CompiledLike:
    """The stream's compile, done here with the worker's properties (its thread count from `cpu_threads`)."""
    threads = cpu_threads.choose(settings.job_threads).threads
    predictor = Predictor.open(model_xml.parent, concurrency=None,
                               config={**THROUGHPUT_CONFIG, "INFERENCE_NUM_THREADS": threads})  # fmt: skip
    compiled = predictor.backend.compiled  # type: ignore[attr-defined]  # an OpenVINO variant
    return CompiledLike(int(compiled.get_property("NUM_STREAMS")), int(compiled.get_property("INFERENCE_NUM_THREADS")),
                        predictor.backend.concurrency)  # fmt: skip


def benchmark_app_flags(requests: int) -> list[str]:
    """The stream's configuration as benchmark_app's flags (besides the model and the duration)."""
    return ["-d", "CPU", "-b", "1", "-api", "async", "-hint", "throughput", "-nireq", str(requests),
            "-infer_precision", "f32"]  # fmt: skip


def benchmark_app(model_xml: Path, seconds: float, expected: CompiledLike) -> float:
    """benchmark_app's frames per second, in the stream's configuration (checked against what it reports)."""
    tool = Path(sys.executable).parent / "benchmark_app"
    duration = ["-m", str(model_xml), "-t", str(max(1, round(seconds)))]
    completed = subprocess.run([str(tool), *duration, *benchmark_app_flags(expected.requests)],
                               capture_output=True, text=True, check=True)  # fmt: skip
    report = completed.stdout + completed.stderr  # benchmark_app logs its results to either, by version
    found = {name: re.search(rf"{name}:\s+(\d+)", report) for name in ("NUM_STREAMS", "INFERENCE_NUM_THREADS")}
    throughput = re.search(r"Throughput:\s+([\d.]+)\s+FPS", report)
    if throughput is None or any(match is None for match in found.values()):
        raise RuntimeError(f"benchmark_app printed no throughput or configuration:\n{report[-2000:]}")
    streams, threads = (int(match.group(1)) for match in found.values() if match is not None)
    if (streams, threads) != (expected.streams, expected.threads):
        raise RuntimeError(f"benchmark_app ran {streams} streams of {threads} threads, the stream "
                           f"{expected.streams} of {expected.threads}: not the same configuration")  # fmt: skip
    return float(throughput.group(1))


def stream_fps(client: Client, project: str, video: Path, out: Path) -> float:
    client.pipelines.set_source(project, "video", path=video)
    out.mkdir()
    sink = client.pipelines.add_sink(project, "folder", path=out)
    client.pipelines.start(project)
    wait_until_finished(client, project)
    client.pipelines.remove_sink(project, sink.id)
    written = sorted(path.stat().st_mtime for path in out.glob("*.json"))
    return (len(written) - 1) / (written[-1] - written[0])


def live_latency(client: Client, project: str, video: Path, out: Path, seconds: float) -> StreamStatus:
    client.pipelines.set_source(project, "video", path=video, loop=True, realtime=True)
    out.mkdir()
    client.pipelines.add_sink(project, "folder", path=out)
    client.pipelines.start(project)
    while (status := client.pipelines.stream_status(project)).metrics is None or status.state != "running":
        time.sleep(0.2)
    time.sleep(seconds)
    status = client.pipelines.stream_status(project)
    client.pipelines.stop(project)
    return status


@dataclass
class StreamBench:
    """A tiny detector's FP32 IR enabled in a project's pipeline, on a server in this process."""

    client: Client
    project: str
    variant: ExportedVariant
    configuration: CompiledLike


@contextmanager
def served_stream(root: Path) -> Iterator[StreamBench]:
    checkpoint = make_checkpoint(root / "model", ARCHITECTURE, "detection")
    variant = export_openvino(checkpoint, root / "model" / "openvino_fp32", "fp32")
    settings = Settings(data_dir=root / "data", log_level="warning")  # the server's default poll intervals
    configuration = stream_configuration(variant.model_path, settings)
    app = create_app(settings, run_jobs=True, configure_logs=False)
    transport = InProcessTransport(app)
    client = Client(transport=transport)
    try:
        served = serve_detector(client, app.state.context, variant, root / "dataset")
        yield StreamBench(client, served.project, variant, configuration)
    finally:
        client.close()
        transport.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=600, help="Frames of the throughput video.")
    parser.add_argument("--rounds", type=int, default=3, help="Stream, then benchmark_app, this many times.")
    parser.add_argument("--live-seconds", type=float, default=10.0)
    parser.add_argument("--codec", choices=sorted(CODECS), default="MJPG",
                        help="The video's codec: Motion JPEG (each frame a JPEG, decoded as a JPEG file is) or "
                             "MPEG-4 Part 2 (inter-frame, decoded by OpenCV, as cameras' H.264 is).")  # fmt: skip
    options = parser.parse_args()
    configure_logging("warning")
    load_before = os.getloadavg()
    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as scratch:
        root = Path(scratch)
        video = write_video(root / f"shapes.{CODECS[options.codec]}", options.frames, 640, 480, fps=LIVE_FPS,
                            codec=options.codec)  # fmt: skip
        with served_stream(root) as bench:
            for index in range(options.rounds):
                started = time.monotonic()
                fps = stream_fps(bench.client, bench.project, video, root / f"out-{index}")
                seconds = max(3.0, min(time.monotonic() - started, options.frames / max(fps, 1e-9)))
                app_fps = benchmark_app(bench.variant.model_path, seconds, bench.configuration)
                rounds.append({"stream_fps": round(fps, 2), "benchmark_app_fps": round(app_fps, 2),
                               "ratio": round(fps / app_fps, 3)})  # fmt: skip
                print(json.dumps({"round": index + 1, **rounds[-1]}), flush=True)
            live = live_latency(bench.client, bench.project, video, root / "live", options.live_seconds)
    metrics = live.metrics
    assert metrics is not None
    report = {
        "model": f"{ARCHITECTURE} FP32 IR, random weights, 640x480 frames, {options.codec} video",
        "configuration": {"streams": bench.configuration.streams, "threads": bench.configuration.threads,
                          "infer_requests": bench.configuration.requests,
                          "benchmark_app": " ".join(benchmark_app_flags(bench.configuration.requests))},  # fmt: skip
        "rounds": rounds,
        "ratio_median": round(statistics.median(entry["ratio"] for entry in rounds), 3),
        "aim": AIM,
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "live_fps": LIVE_FPS,
        "live_frames": {"in": metrics.frames_in, "processed": metrics.frames_processed,
                        "dropped": metrics.frames_dropped},  # fmt: skip
        "live_latency_ms": {"p50": metrics.latency_ms_p50, "p99": metrics.latency_ms_p99},
        "live_model_ms": {"p50": metrics.model_ms_p50, "p99": metrics.model_ms_p99},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
