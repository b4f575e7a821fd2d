"""The stream pipeline's speed: frames per second through a detector against OpenVINO's benchmark_app on the same
IR, and the end-to-end latency of a live source at 15 frames per second.

1. ssdlite320_mobilenet_v3_large with random weights, exported to an FP32 IR, served by a project's pipeline in a
   server running in this process (job runner and stream supervisor included, the worker a process of its own).
2. Throughput: a generated 640x480 video (moving shapes) as the stream's source, read as fast as the model takes
   frames, into a folder sink (one JSON per frame). Frames per second are counted between the first and the last
   JSON written, so the worker's start-up (imports, model load) is left out. benchmark_app then runs the same IR
   (sync, batch 1, f32) for as long. Aim: stream fps >= 0.8 x benchmark_app fps. The stream pays for decoding the
   video, resizing each frame, decoding the boxes and writing the JSON; benchmark_app for none of these.
3. Latency: the same video at its own rate (15 fps, `realtime`), looped, for `--live-seconds`; the worker's own
   p50/p99 from the source timestamp to the sink written, and the frames dropped.

    PYTHONPATH=src:. .venv/bin/python bench/stream.py --frames 150 --live-seconds 10
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from inference import benchmark_app, make_checkpoint

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.export import export_openvino
from modelyard.logging import configure_logging
from modelyard.sdk import Client
from modelyard.sdk.transport import InProcessTransport
from modelyard.stream.schemas import StreamStatus
from tests.stream.factories import serve_detector, write_video

AIM = 0.8
ARCHITECTURE = "ssdlite320_mobilenet_v3_large"
LIVE_FPS = 15.0


def wait_until_finished(client: Client, project: str) -> StreamStatus:
    while (status := client.pipelines.stream_status(project)).state != "finished":
        if status.state == "restarting":
            raise RuntimeError(f"the stream crashed: {status.last_error}")
        time.sleep(0.2)
    return status


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=150, help="Frames of the throughput video.")
    parser.add_argument("--live-seconds", type=float, default=10.0)
    options = parser.parse_args()
    configure_logging("warning")
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as scratch:
        root = Path(scratch)
        checkpoint = make_checkpoint(root / "model", ARCHITECTURE, "detection")
        variant = export_openvino(checkpoint, root / "model" / "openvino_fp32", "fp32")
        video = write_video(root / "shapes.avi", options.frames, 640, 480, fps=LIVE_FPS)
        settings = Settings(data_dir=root / "data", log_level="warning", job_poll_seconds=0.1)
        app = create_app(settings, run_jobs=True, configure_logs=False)
        transport = InProcessTransport(app)
        client = Client(transport=transport)
        try:
            served = serve_detector(client, app.state.context, variant, root / "dataset")
            fps = stream_fps(client, served.project, video, root / "out")
            app_fps, app_ms = benchmark_app(variant.model_path, max(3.0, options.frames / max(fps, 1e-9)))
            live = live_latency(client, served.project, video, root / "live", options.live_seconds)
        finally:
            client.close()
            transport.close()
    metrics = live.metrics
    assert metrics is not None
    report = {
        "model": f"{ARCHITECTURE} FP32 IR, random weights, 640x480 frames",
        "stream_fps": round(fps, 2),
        "benchmark_app_fps": round(app_fps, 2),
        "benchmark_app_median_ms": round(app_ms, 2),
        "ratio": round(fps / app_fps, 3),
        "aim": AIM,
        "live_fps": LIVE_FPS,
        "live_frames": {"in": metrics.frames_in, "processed": metrics.frames_processed,
                        "dropped": metrics.frames_dropped},  # fmt: skip
        "live_latency_ms": {"p50": metrics.latency_ms_p50, "p99": metrics.latency_ms_p99},
        "live_model_ms": {"p50": metrics.model_ms_p50, "p99": metrics.model_ms_p99},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
