"""`modelyard pipeline ...` (a project's inference pipeline) and `modelyard deploy` (deployment packages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli.jobs import exit_if_unsuccessful, follow
from modelyard.cli.output import print_fields, print_json, print_table
from modelyard.cli.params import ProjectArgument, RevisionArgument
from modelyard.cli.state import client
from modelyard.cli.stream import register as register_stream_commands
from modelyard.cli.stream import stream_fields
from modelyard.pipelines.defaults import DEFAULT_CONFIDENCE_THRESHOLD, DEFAULT_VARIANT

app = typer.Typer(help="A project's inference pipeline: the variant that answers predictions, and its stream "
                  "from a source to sinks.", no_args_is_help=True)  # fmt: skip
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
VariantOption = Annotated[str, typer.Option("--variant", help="FORMAT-PRECISION: openvino-fp16, openvino-int8, "
                                                              "onnx-fp32, pytorch-fp32...")]  # fmt: skip


@app.command("enable")
def enable(
    ctx: typer.Context,
    project: ProjectArgument,
    revision: RevisionArgument,
    variant: VariantOption = DEFAULT_VARIANT,
    threshold: Annotated[
        float, typer.Option("--threshold", min=0.0, max=1.0, help="Confidence threshold.")
    ] = DEFAULT_CONFIDENCE_THRESHOLD,  # fmt: skip
    json: JsonOption = False,
) -> None:
    """Serve predictions with a variant of a model revision (replaces the one served now)."""
    status = client(ctx).pipelines.enable(project, revision, variant, threshold)
    print_json(status) if json else _show(status)


@app.command("disable")
def disable(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """Stop serving predictions."""
    status = client(ctx).pipelines.disable(project)
    print_json(status) if json else print(f"pipeline of {project} disabled")


@app.command("status")
def status(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """What the pipeline serves, its metrics since it was enabled, and its stream's state and counts."""
    sdk = client(ctx)
    found = sdk.pipelines.status(project)
    stream = sdk.pipelines.stream_status(project)
    if json:
        print_json({**found.model_dump(mode="json"), "stream": stream.model_dump(mode="json")})
        return
    _show(found)
    print_fields(stream_fields(stream))


@app.command("predict")
def predict(
    ctx: typer.Context,
    project: ProjectArgument,
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Image files.")],
    json: JsonOption = False,
) -> None:
    """Predict image files with the enabled variant."""
    result = client(ctx).pipelines.predict(project, images)
    if json:
        print_json(result)
        return
    print_table(
        f"{result.variant} of revision {result.revision_id}",
        ["file", "size", "prediction"],
        [(p.file, f"{p.width}x{p.height}", _summary(p)) for p in result.predictions],
    )


@app.command("batch")
def batch(
    ctx: typer.Context,
    project: ProjectArgument,
    input_dir: Annotated[Path, typer.Argument(help="Folder of images (on the server).")],
    output_dir: Annotated[Path, typer.Argument(help="Folder for predictions.json (on the server).")],
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until the job ends.")] = False,
    json: JsonOption = False,
) -> None:
    """Predict every image of a folder in a background job; writes predictions.json (+ COCO results)."""
    sdk = client(ctx, run_jobs=wait)
    if sdk.is_local:  # the "server" is this machine: relative paths mean the current folder
        input_dir, output_dir = input_dir.resolve(), output_dir.resolve()
    job = sdk.pipelines.batch_predict(project, input_dir, output_dir)
    if not wait:
        print_json(job) if json else print(f"batch prediction queued as job {job.id}; "
                                           f"follow it with `modelyard job show {job.id}`")  # fmt: skip
        return
    job = follow(sdk, job.id)
    if json:
        print_json(job)
    exit_if_unsuccessful(job)
    if not json:
        print(f"{job.result['count']} images predicted; predictions in {job.result['predictions_path']}")


def deploy(
    ctx: typer.Context,
    revision: RevisionArgument,
    variant: VariantOption = DEFAULT_VARIANT,
    output: Annotated[Path, typer.Option("--output", "-o", help="Zip file to write.")] = Path("model.zip"),
) -> None:
    """Download a self-contained deployment package (graph, config, predict.py) of a variant."""
    path = client(ctx).pipelines.deploy(revision, variant, output)
    print(f"deployment package written to {path} ({path.stat().st_size} bytes); "
          "unzip it and read README.md")  # fmt: skip


def _summary(prediction: Any) -> str:
    if prediction.objects:
        counts: dict[str, int] = {}
        for detected in prediction.objects:
            counts[detected.label.name] = counts.get(detected.label.name, 0) + 1
        return ", ".join(f"{count} {name}" for name, count in counts.items())
    if prediction.labels:
        return ", ".join(f"{label.name} {label.score:.3f}" for label in prediction.labels)
    return "nothing above the threshold"


def _show(status: Any) -> None:
    if not status.enabled:
        print(f"pipeline of project {status.project_id} is disabled")
        return
    fields = {
        "revision": f"#{status.revision_number} {status.revision_name} ({status.revision_id})",
        "variant": f"{status.variant} ({status.variant_id})",
        "threshold": status.confidence_threshold,
        "enabled": f"{status.enabled_at:%Y-%m-%d %H:%M:%S} by {status.enabled_by}",
    }
    metrics = status.metrics
    if metrics is None:
        fields["metrics"] = "none yet in this server process (the variant loads on the first request)"
    else:
        fields["requests"] = f"{metrics.requests} ({metrics.failed_requests} failed), {metrics.images} images"
        fields["latency"] = (f"p50 {metrics.latency_ms_p50} ms, p95 {metrics.latency_ms_p95} ms, "
                             f"p99 {metrics.latency_ms_p99} ms"
                             if metrics.latency_ms_p50 is not None else "-")  # fmt: skip
        fields["throughput"] = f"{metrics.throughput_images_per_second} images/s since {metrics.since:%H:%M:%S}"
    print_fields(fields)


register_stream_commands(app)
