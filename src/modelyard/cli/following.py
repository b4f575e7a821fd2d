"""Following a job to its end with a progress bar, for `job wait` and every `--wait`.

A server that restarts while a job is followed does not end the command: connection errors are retried with
backoff, said once per outage, until the server answers again; the only ceiling is the job's own end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelyard.cli.output import console, error_console

if TYPE_CHECKING:
    from modelyard.jobs.schemas import JobRead
    from modelyard.sdk import Client

# Answers of a proxy in front of a server that is down or starting: wait them out like a refused connection.
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
FIRST_RETRY_SECONDS = 0.5
RETRY_CEILING_SECONDS = 5.0  # once the server is back, its job's end is seen within this


def follow(sdk: Client, job_id: str) -> Any:
    """Show a progress bar until the job ends; returns its final state (a `JobRead`; typed loosely, as before,
    because its callers read `result` only after `exit_if_unsuccessful` has made sure the job succeeded)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.fields[step]}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[message]}"),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("job", total=100, step="pending", message="")

        def show(job: JobRead) -> None:
            progress.update(task, completed=job.progress, step=job.step or job.status, message=job.message)

        def notice(line: str) -> None:
            error_console.print(line, highlight=False, soft_wrap=True)

        return follow_to_the_end(sdk, job_id, show, notice)


def follow_to_the_end(
    sdk: Client, job_id: str, show: Callable[[JobRead], None], notice: Callable[[str], None]
) -> JobRead:
    """Hand each state of the job to `show` until it ends, through lost connections; returns the final state."""
    import httpx

    from modelyard.jobs.states import FINISHED_STATUSES
    from modelyard.sdk import ApiError

    delay, unreachable = FIRST_RETRY_SECONDS, False
    while True:
        try:
            job = None
            for job in sdk.jobs.events(job_id):
                show(job)
                delay, unreachable = FIRST_RETRY_SECONDS, False
            # The stream ends with the job's final state, or early when the server stops: then ask once more.
            if job is None or job.status not in FINISHED_STATUSES:
                job = sdk.jobs.get(job_id)
                show(job)
            if job.status in FINISHED_STATUSES:
                return job
        except (httpx.TransportError, ApiError) as error:
            if isinstance(error, ApiError) and error.status not in UNAVAILABLE_STATUSES:
                raise
            if not unreachable:
                reason = type(error).__name__ if isinstance(error, httpx.TransportError) else f"HTTP {error.status}"
                notice(
                    f"the server does not answer ({reason}); job {job_id} is still followed, retrying until "
                    "the server is back (Ctrl+C stops waiting, not the job)"
                )
            unreachable = True
        sdk.poll(delay)
        delay = min(delay * 2, RETRY_CEILING_SECONDS)
