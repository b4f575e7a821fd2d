"""`modelyard job ...`"""

from __future__ import annotations

import json as jsonlib
from typing import Annotated, Any

import typer

from modelyard.cli.following import follow
from modelyard.cli.output import Id, fail, parse_pairs, print_fields, print_json, print_table
from modelyard.cli.params import JobArgument
from modelyard.cli.state import client

app = typer.Typer(help="Background jobs: list, follow, wait, cancel.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

# What a failure line calls each job type; a type not listed (a job module's own) is named as it is.
JOB_KINDS = {
    "revision.train": "training",
    "revision.export": "export",
    "revision.evaluate": "evaluation",
    "revision.optimize": "INT8 optimization",
    "dataset.import": "dataset import",
    "dataset.export": "dataset export",
    "pipeline.batch_predict": "batch prediction",
    "storage.verify": "storage verification",
    "storage.gc": "storage clean-up",
}


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project's jobs.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="Only this job type.")] = None,
    status: Annotated[str | None, typer.Option(help="pending|running|cancelling|succeeded|failed|cancelled")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    json: JsonOption = False,
) -> None:
    """List jobs, newest first."""
    page = client(ctx).jobs.list(project=project, type=type, status=status, limit=limit)
    if json:
        print_json(page.items)
        return
    print_table(
        "jobs",
        ["id", "type", "status", "progress", "step", "created"],
        [(Id(j.id), j.type, j.status, f"{j.progress:.0f}%", j.step, j.created_at) for j in page.items],
    )


@app.command("types")
def types(ctx: typer.Context, json: JsonOption = False) -> None:
    """Job types this installation knows."""
    rows = client(ctx).request("GET", "/jobs/types").json()
    if json:
        print_json(rows)
        return
    print_table(
        "job types",
        ["type", "submit", "description"],
        [(row["name"], "job submit" if row.get("public") else "own command", row["description"]) for row in rows],
    )


@app.command("show")
def show(ctx: typer.Context, job_id: JobArgument, json: JsonOption = False) -> None:
    """Show a job."""
    _show(client(ctx).jobs.get(job_id), json)


@app.command("submit")
def submit(
    ctx: typer.Context,
    job_type: Annotated[str, typer.Argument(help="A job type (`modelyard job types`).")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value (value parsed as JSON).")] = None,
    project: Annotated[str | None, typer.Option(help="Project the job belongs to.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow progress until the job ends.")] = False,
    json: JsonOption = False,
) -> None:
    """Submit a job of a type meant for people (`job types` marks them public), e.g. storage.verify."""
    sdk = client(ctx, run_jobs=wait)
    job = sdk.jobs.submit(job_type, parse_pairs(param or [], "--param"), project=project)
    if wait:
        job = follow(sdk, job.id)
    _show(job, json)
    exit_if_unsuccessful(job)


@app.command("wait")
def wait(ctx: typer.Context, job_id: JobArgument, json: JsonOption = False) -> None:
    """Follow a submitted job with a progress bar until it ends, through server restarts.

    Exits 0 if the job succeeded, else 1 with one line saying how it ended.
    """
    # Locally, waiting also runs jobs here, as `--wait` does: with no server, nothing else would run a pending job.
    job = follow(client(ctx, run_jobs=True), job_id)
    _show(job, json)
    exit_if_unsuccessful(job)


@app.command("cancel")
def cancel(ctx: typer.Context, job_id: JobArgument, json: JsonOption = False) -> None:
    """Cancel a job: at once if pending, cooperatively then by signal if running."""
    _show(client(ctx).jobs.cancel(job_id), json)


@app.command("logs")
def logs(
    ctx: typer.Context,
    job_id: JobArgument,
    follow_log: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the job ends.")] = False,
) -> None:
    """Print a job's log."""
    # Following locally also runs jobs here, as `--wait` does: with no server, nothing else would run a pending job.
    jobs = client(ctx, run_jobs=follow_log).jobs
    if not follow_log:
        print(jobs.logs(job_id), end="")
        return
    for line in jobs.follow_logs(job_id):
        print(line, flush=True)


@app.command("metrics")
def metrics(ctx: typer.Context, job_id: JobArgument, json: JsonOption = False) -> None:
    """The figures a job recorded so far (a training: loss and validation metric per epoch)."""
    records = client(ctx).jobs.metrics(job_id)
    if json:
        print_json(records)
        return
    columns = [key for key, value in records[0].items() if not isinstance(value, dict)] if records else ["epoch"]
    print_table("job metrics", columns, [[record.get(column, "") for column in columns] for record in records])


def failure_line(job: Any) -> str:
    """One line for a job that failed or was cancelled, naming what kind of job it was."""
    line = f"{JOB_KINDS.get(job.type, f'job {job.type}')} {job.status}"
    if job.reason and job.reason not in (job.status, "error"):  # "crashed", "interrupted": worth saying
        line += f" ({job.reason})"
    if job.error:
        line += f": {job.error}"
    return f"{line} [job {job.id}]"


def exit_if_unsuccessful(job: Any) -> None:
    """After `--wait`: a job that failed or was cancelled ends the command with one line and exit code 1."""
    if job.status in ("failed", "cancelled"):
        fail(failure_line(job))
        raise typer.Exit(1)


def _show(job: Any, json: bool) -> None:
    if json:
        print_json(job)
        return
    print_fields(
        {
            "id": job.id,
            "type": job.type,
            "status": job.status + (f" ({job.reason})" if job.reason else ""),
            "progress": f"{job.progress:.0f}% {job.step}",
            "message": job.message or "-",
            "error": job.error or "-",
            "project": job.project_id,
            "created": f"{job.created_at:%Y-%m-%d %H:%M:%S} by {job.created_by}",
            "started": job.started_at,
            "finished": job.finished_at,
            "result": jsonlib.dumps(job.result) if job.result else "-",
        }
    )
