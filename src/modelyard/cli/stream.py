"""`modelyard pipeline source|sink|sinks|sink-remove|settings|start|stop`: the project's stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from modelyard.cli.output import print_json, print_table
from modelyard.cli.params import ProjectArgument
from modelyard.cli.state import client

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _server_path(ctx: typer.Context, path: Path) -> Path:
    """Without a server, or with one on this machine (a loopback address), a relative path means the current
    folder; a remote server is given the path as typed (it refuses a relative one)."""
    sdk = client(ctx)
    on_this_machine = sdk.is_local or urlsplit(sdk.base_url).hostname in LOOPBACK_HOSTS
    return path.resolve() if on_this_machine else path


def source(
    ctx: typer.Context,
    project: ProjectArgument,
    video: Annotated[Path | None, typer.Option("--video", help="A video file (on the server).")] = None,
    loop: Annotated[bool, typer.Option("--loop", help="video: play it again when it ends.")] = False,
    realtime: Annotated[bool, typer.Option("--realtime", help="video: at its own frame rate, as a camera.")] = False,
    camera: Annotated[str | None, typer.Option("--camera", help="A camera index (0) or an RTSP/HTTP URL.")] = None,
    folder: Annotated[Path | None, typer.Option("--folder", help="A folder watched for new images.")] = None,
    http: Annotated[bool, typer.Option("--http", help="Images sent with `pipeline send`.")] = False,
    json: JsonOption = False,
) -> None:
    """Set the stream's one source: --video FILE [--loop] | --camera INDEX_OR_URL | --folder DIR | --http."""
    chosen = [name for name, value in (("video", video), ("camera", camera), ("folder", folder), ("http", http))
              if value]  # fmt: skip
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --video, --camera, --folder, --http")
    sdk = client(ctx)
    given = video or folder
    path = _server_path(ctx, given) if given is not None else None
    status = sdk.pipelines.set_source(project, chosen[0], path=path, loop=loop, realtime=realtime,  # type: ignore[arg-type]
                                      device=camera)  # fmt: skip
    print_json(status) if json else print(f"source of {project}: {_describe_source(status.source)}")


def sink(
    ctx: typer.Context,
    project: ProjectArgument,
    folder: Annotated[Path | None, typer.Option("--folder", help="Write NAME.json per frame here.")] = None,
    draw: Annotated[bool, typer.Option("--draw", help="folder: also write each frame with predictions drawn.")] = False,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST each frame's JSON to this URL.")] = None,
    mqtt: Annotated[str | None, typer.Option("--mqtt", help="Publish to this broker, HOST:PORT (QoS 1).")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="mqtt: the topic.")] = None,
    live: Annotated[bool, typer.Option("--live", help="The live view (Server-Sent Events).")] = False,
    json: JsonOption = False,
) -> None:
    """Add a sink: --folder DIR [--draw] | --webhook URL | --mqtt HOST:PORT [--topic T] | --live."""
    chosen = [name for name, value in (("folder", folder), ("webhook", webhook), ("mqtt", mqtt), ("live", live))
              if value]  # fmt: skip
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --folder, --webhook, --mqtt, --live")
    options: dict[str, Any] = {}
    if folder is not None:
        options = {"path": _server_path(ctx, folder), "draw": draw}
    elif webhook is not None:
        options = {"url": webhook}
    elif mqtt is not None:
        host, _, port = mqtt.rpartition(":")
        if not host or not port.isdigit():
            raise typer.BadParameter(f"--mqtt takes HOST:PORT, not {mqtt!r}")
        options = {"host": host, "port": int(port), "topic": topic}
    added = client(ctx).pipelines.add_sink(project, chosen[0], **options)
    print_json(added) if json else print(f"sink {added.id} added: {added.kind} {_describe_config(added.config)}")


def sinks(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """List the stream's sinks."""
    found = client(ctx).pipelines.sinks(project)
    if json:
        print_json(found)
        return
    print_table(f"sinks of {project}", ["id", "kind", "where"],
                [(entry.id, entry.kind, _describe_config(entry.config)) for entry in found])  # fmt: skip


SinkIdArgument = Annotated[str, typer.Argument(help="The sink's id (see `pipeline sinks`).")]
ImagesArgument = Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Image files.")]


def sink_remove(ctx: typer.Context, project: ProjectArgument, sink_id: SinkIdArgument) -> None:
    """Remove a sink (webhook messages not yet delivered to it are dropped)."""
    client(ctx).pipelines.remove_sink(project, sink_id)
    print(f"sink {sink_id} removed")


def settings(
    ctx: typer.Context,
    project: ProjectArgument,
    threshold: Annotated[float | None, typer.Option("--threshold", min=0.0, max=1.0,
                                                    help="Confidence threshold for the stream.")] = None,  # fmt: skip
    labels: Annotated[str | None, typer.Option("--labels", help="Keep only these labels (comma-separated).")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Region of interest X,Y,WIDTH,HEIGHT.")] = None,
    json: JsonOption = False,
) -> None:
    """The stream's settings (options not given are cleared): threshold, label filter, region of interest."""
    box = None
    if region is not None:
        parts = region.split(",")
        if len(parts) != 4 or not all(part.strip().isdigit() for part in parts):
            raise typer.BadParameter(f"--region takes X,Y,WIDTH,HEIGHT in pixels, not {region!r}")
        x, y, width, height = (int(part) for part in parts)
        box = (x, y, width, height)
    names = [name.strip() for name in labels.split(",") if name.strip()] if labels is not None else None
    status = client(ctx).pipelines.configure_stream(project, confidence_threshold=threshold, labels=names,
                                                    region=box)  # fmt: skip
    print_json(status) if json else print(f"stream settings of {project}: "
                                          f"{status.settings.model_dump(exclude_none=True) or 'none'}")  # fmt: skip


def start(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """Run the stream in a worker process of the server (again after every restart) until `pipeline stop`."""
    sdk = client(ctx)
    status = sdk.pipelines.start(project)
    if json:
        print_json(status)
        return
    print(f"stream of {project} started")
    if sdk.is_local:
        print("no server was given: it runs while `modelyard serve` runs on this data directory")


def stop(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """Stop the stream (its worker ends; sources and sinks stay configured)."""
    status = client(ctx).pipelines.stop(project)
    print_json(status) if json else print(f"stream of {project} stopped")


def send(ctx: typer.Context, project: ProjectArgument, images: ImagesArgument) -> None:
    """Send images to a stream whose source is --http."""
    accepted = client(ctx).pipelines.upload_frames(project, images)
    print(f"{len(accepted.accepted)} images queued for the stream of {project}")


def stream_fields(stream: Any) -> dict[str, Any]:
    """The stream's lines of `pipeline status`."""
    fields: dict[str, Any] = {"stream": f"{stream.state} (wanted {stream.desired_state})",
                              "source": _describe_source(stream.source),
                              "sinks": ", ".join(f"{s.kind} {_describe_config(s.config)}".strip()
                                                 for s in stream.sinks) or "none"}  # fmt: skip
    if stream.restarts or stream.last_error:
        fields["restarts"] = f"{stream.restarts}; last error: {stream.last_error or '-'}"
    metrics = stream.metrics
    if metrics is not None:
        fields["frames"] = (f"{metrics.frames_in} in, {metrics.frames_processed} processed, {metrics.frames_dropped} "
                            f"dropped, {metrics.frames_failed} failed, {metrics.queue_depth} queued")  # fmt: skip
        fields["end-to-end"] = f"p50 {metrics.latency_ms_p50} ms, p99 {metrics.latency_ms_p99} ms"
        fields["model"] = f"p50 {metrics.model_ms_p50} ms, p99 {metrics.model_ms_p99} ms"
        for entry in metrics.sinks:
            counts = f"{entry.delivered} delivered, {entry.failed} failed, {entry.retrying} retrying"
            fields[f"sink {entry.kind} {entry.id[:8]}"] = f"{counts}, {entry.pending} pending"
    return fields


def _describe_source(found: Any) -> str:
    if found is None:
        return "none"
    if found.kind == "video":
        return f"video {found.path}" + (" (looped)" if found.loop else "") + (" (realtime)" if found.realtime else "")
    if found.kind == "camera":
        return f"camera {found.device}"
    if found.kind == "folder":
        return f"folder {found.path}"
    return "http uploads"


def _describe_config(config: dict[str, Any]) -> str:
    if "path" in config:
        return config["path"] + (" (drawn)" if config.get("draw") else "")
    if "url" in config:
        return str(config["url"])
    if "host" in config:
        return f"{config['host']}:{config['port']} {config['topic']}"
    return ""


def register(app: typer.Typer) -> None:
    for name, command in (("source", source), ("sink", sink), ("sinks", sinks), ("sink-remove", sink_remove),
                          ("settings", settings), ("start", start), ("stop", stop), ("send", send)):  # fmt: skip
        app.command(name)(command)
