from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.base import utcnow
from modelyard.db.engine import transaction
from modelyard.jobs.models import Job
from modelyard.jobs.paths import job_work_dir
from modelyard.jobs.runner import JobRunner
from modelyard.sdk import ApiError, Client
from tests.cpu_load import busy_cores
from tests.waiting import START_CEILING_SECONDS


def _wait_for(client: Client, job_id: str, status: str, timeout: float = 30.0):  # noqa: ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.jobs.get(job_id)
        if job.status == status:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is {client.jobs.get(job_id).status}, expected {status}")


def test_job_runs_in_its_own_process_with_progress_result_and_log(running_client: Client, settings: Settings) -> None:
    job = running_client.jobs.submit("test.count", {"steps": 3})
    assert job.status == "pending" and job.params == {"steps": 3, "delay": 0.0}
    done = running_client.jobs.wait(job.id, timeout=30)
    assert done.status == "succeeded"
    assert (done.progress, done.step, done.message) == (100.0, "step 3", "3/3")
    assert done.result == {"counted": 3}
    assert done.started_at is not None and done.finished_at >= done.started_at
    worker_pid = int((settings.data_dir / "runs" / job.id).read_text().split()[0])
    assert worker_pid != os.getpid()
    log = running_client.jobs.logs(job.id)
    assert "counting 3" in log and "succeeded" in log


def test_job_threads_setting_sizes_torch_and_openvino_and_is_logged(settings: Settings) -> None:
    with Client(settings=settings.model_copy(update={"job_threads": 3}), run_jobs=True) as sdk:
        done = sdk.jobs.wait(sdk.jobs.submit("test.threads").id, timeout=60)
        assert done.status == "succeeded", done.error
        assert done.result == {
            "torch_imported_before": False,  # a job that needs no torch does not pay for importing it
            "torch": 3,
            "torch_interop": 3,
            "openvino": {"INFERENCE_NUM_THREADS": 3},
            "usable": 3,
            "omp_wait_policy": "PASSIVE",  # set before torch loaded OpenMP: waiting threads sleep
        }
        assert "threads: 3 (MODELYARD_JOB_THREADS=3)" in sdk.jobs.logs(done.id)


def test_invalid_params_and_unknown_types_are_refused(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.jobs.submit("test.count", {"steps": 0})
    assert caught.value.status == 400 and "steps" in caught.value.detail
    with pytest.raises(ApiError) as caught:
        client.jobs.submit("no.such.type")
    assert caught.value.status == 400 and "unknown job type 'no.such.type'" in caught.value.detail
    assert client.jobs.list().items == []


def test_failing_job_is_failed_with_the_error(running_client: Client) -> None:
    job = running_client.jobs.submit("test.fail")
    done = running_client.jobs.wait(job.id, timeout=30)
    assert (done.status, done.reason) == ("failed", "error")
    assert done.error == "ValueError: this job always fails"
    assert "Traceback" in running_client.jobs.logs(job.id)


def test_crashed_process_is_failed_as_crashed(running_client: Client) -> None:
    job = running_client.jobs.submit("test.crash")
    done = running_client.jobs.wait(job.id, timeout=30)
    assert (done.status, done.reason) == ("failed", "crashed")
    assert "exited with code 9" in done.error


def test_cancel_pending_job_is_immediate(client: Client) -> None:
    job = client.jobs.submit("test.count")
    cancelled = client.jobs.cancel(job.id)
    assert (cancelled.status, cancelled.reason) == ("cancelled", "cancelled")
    with pytest.raises(ApiError) as caught:
        client.jobs.cancel(job.id)
    assert caught.value.status == 409


def test_cooperative_cancel_cleans_half_done_work(running_client: Client, settings: Settings) -> None:
    job = running_client.jobs.submit("test.leave_work")
    _wait_for(running_client, job.id, "running")
    output = settings.data_dir / "outputs" / f"{job.id}.txt"
    deadline = time.monotonic() + 20
    while not output.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert output.exists()
    assert running_client.jobs.cancel(job.id).status == "cancelling"
    done = running_client.jobs.wait(job.id, timeout=30)
    assert (done.status, done.reason) == ("cancelled", "cancelled")
    assert not output.exists()
    assert (settings.data_dir / "outputs" / f"{job.id}.cleaned").read_text() == "cancelled"
    assert not job_work_dir(settings.data_dir, job.id).exists()


def test_job_ignoring_cancel_is_terminated(running_client: Client) -> None:
    job = running_client.jobs.submit("test.ignore_cancel")
    _wait_for(running_client, job.id, "running")
    time.sleep(0.5)
    running_client.jobs.cancel(job.id)
    done = running_client.jobs.wait(job.id, timeout=30)
    assert done.status == "cancelled"
    assert "cancelled" in running_client.jobs.logs(job.id)


def test_job_ignoring_sigterm_is_killed(running_client: Client) -> None:
    job = running_client.jobs.submit("test.stubborn")
    _wait_for(running_client, job.id, "running")
    time.sleep(0.5)
    running_client.jobs.cancel(job.id)
    done = running_client.jobs.wait(job.id, timeout=30)
    assert (done.status, done.reason) == ("cancelled", "cancelled")
    assert done.finished_at is not None


def _insert_running_job(settings: Settings, **values: object) -> str:
    context = AppContext(settings)
    with transaction(context.db.sessions) as session:
        job = Job(type="test.leave_work", params={}, status="running", started_at=utcnow(), **values)
        session.add(job)
        session.flush()
        job_id = job.id
    output = settings.data_dir / "outputs" / f"{job_id}.txt"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("half done")
    context.close()
    return job_id


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_start_up_marks_jobs_whose_process_is_gone_as_interrupted(settings: Settings, client: Client) -> None:
    job_id = _insert_running_job(
        settings, host=socket.gethostname(), pid=_dead_pid(), runner_id="old-runner", heartbeat_at=utcnow()
    )
    with Client(settings=settings, run_jobs=True) as running:
        job = running.jobs.get(job_id)
    assert (job.status, job.reason) == ("failed", "interrupted")
    assert not (settings.data_dir / "outputs" / f"{job_id}.txt").exists()
    assert (settings.data_dir / "outputs" / f"{job_id}.cleaned").read_text() == "interrupted"


def test_jobs_with_a_stale_heartbeat_elsewhere_are_interrupted(settings: Settings, client: Client) -> None:
    stale = _insert_running_job(
        settings, host="another-host", pid=1, runner_id="remote", heartbeat_at=utcnow() - timedelta(minutes=5)
    )
    fresh = _insert_running_job(settings, host="another-host", pid=1, runner_id="remote", heartbeat_at=utcnow())
    with Client(settings=settings, run_jobs=True) as running:
        assert running.jobs.get(stale).reason == "interrupted"
        assert running.jobs.get(fresh).status == "running"


def _sleeper(*arguments: str) -> subprocess.Popen[bytes]:
    """A process that lives a minute; `arguments` show in its command line as a worker's would."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *arguments])


def _reconcile_once(settings: Settings) -> None:
    context = AppContext(settings)
    try:
        JobRunner(context, context.job_types).reconcile()
    finally:
        context.close()


def test_a_live_worker_with_a_late_heartbeat_is_not_interrupted(settings: Settings, client: Client) -> None:
    host, long_ago = socket.gethostname(), utcnow() - timedelta(minutes=5)
    job_id = _insert_running_job(settings, host=host, runner_id=f"{host}:{_dead_pid()}:gone", heartbeat_at=long_ago)
    worker = _sleeper("-m", "modelyard.jobs.worker", job_id)
    try:
        context = AppContext(settings)
        with transaction(context.db.sessions) as session:
            session.get_one(Job, job_id).pid = worker.pid
        context.close()
        _reconcile_once(settings)
        assert client.jobs.get(job_id).status == "running"
    finally:
        worker.kill()
        worker.wait()
    _reconcile_once(settings)
    assert (client.jobs.get(job_id).status, client.jobs.get(job_id).reason) == ("failed", "interrupted")


def test_a_job_claimed_by_a_live_runner_is_left_to_it_until_that_runner_is_gone(
    settings: Settings, client: Client
) -> None:
    # Claimed, its worker not started yet (no pid), the claim's heartbeat long past: a runner on a saturated
    # machine between its claim and its worker's first beat.
    owner = _sleeper()
    host, long_ago = socket.gethostname(), utcnow() - timedelta(minutes=5)
    try:
        job_id = _insert_running_job(settings, host=host, runner_id=f"{host}:{owner.pid}:live", heartbeat_at=long_ago)
        _reconcile_once(settings)
        assert client.jobs.get(job_id).status == "running"
    finally:
        owner.kill()
        owner.wait()
    _reconcile_once(settings)
    assert (client.jobs.get(job_id).status, client.jobs.get(job_id).reason) == ("failed", "interrupted")


def test_a_runner_pid_taken_by_a_later_process_is_not_the_owner(settings: Settings, client: Client) -> None:
    newcomer = _sleeper()  # started after the claim below: it only has the pid the owner had
    host, long_ago = socket.gethostname(), utcnow() - timedelta(minutes=5)
    try:
        job_id = _insert_running_job(settings, host=host, runner_id=f"{host}:{newcomer.pid}:old", heartbeat_at=long_ago)
        context = AppContext(settings)
        with transaction(context.db.sessions) as session:
            session.get_one(Job, job_id).started_at = long_ago
        context.close()
        _reconcile_once(settings)
        assert (client.jobs.get(job_id).status, client.jobs.get(job_id).reason) == ("failed", "interrupted")
    finally:
        newcomer.kill()
        newcomer.wait()


def test_job_submitted_without_a_runner_runs_once_one_starts(settings: Settings, client: Client) -> None:
    job = client.jobs.submit("test.count", {"steps": 2})
    time.sleep(0.3)
    assert client.jobs.get(job.id).status == "pending"
    with Client(settings=settings, run_jobs=True) as running:
        assert running.jobs.wait(job.id, timeout=30).status == "succeeded"


def test_two_runners_on_one_database_run_each_job_once_with_the_cores_saturated(
    settings: Settings, client: Client
) -> None:
    # Workers start slowly and beat late when every core is taken: neither may make a runner take a live job
    # for an orphan (marking it interrupted) or claim another runner's job.
    jobs = [client.jobs.submit("test.count", {"steps": 3, "delay": 0.1}) for _ in range(8)]
    slots = settings.model_copy(update={"job_slots": 2})
    with busy_cores() as spinners:
        contexts = [AppContext(slots), AppContext(slots)]
        runners = [JobRunner(context, context.job_types) for context in contexts]
        try:
            for runner in runners:
                runner.start()
            finished = [client.jobs.wait(job.id, timeout=START_CEILING_SECONDS) for job in jobs]
        finally:
            for runner, context in zip(runners, contexts, strict=True):
                runner.stop()
                context.close()
        assert [spinner.poll() for spinner in spinners] == [None] * len(spinners)  # the load lasted the whole run
    assert [(job.status, job.reason, job.error) for job in finished] == [("succeeded", None, None)] * 8
    for job in jobs:
        assert len((settings.data_dir / "runs" / job.id).read_text().split()) == 1
    assert {job.result["counted"] for job in finished} == {3}


def test_events_stream_status_changes_until_the_end(running_client: Client) -> None:
    job = running_client.jobs.submit("test.count", {"steps": 3, "delay": 0.1})
    statuses = [event.status for event in running_client.jobs.events(job.id)]
    assert statuses[-1] == "succeeded"
    assert set(statuses) <= {"pending", "running", "succeeded"}
    lines = list(running_client.jobs.follow_logs(job.id))
    assert any("counting 3" in line for line in lines)


def test_metrics_recorded_by_a_job_are_streamed_once_each_and_listed(running_client: Client) -> None:
    job = running_client.jobs.submit("test.count", {"steps": 3, "delay": 0.1})
    streamed = [data for event, data in running_client.stream_events(f"/jobs/{job.id}/events") if event == "metrics"]
    assert streamed == [{"step": 1, "square": 1}, {"step": 2, "square": 4}, {"step": 3, "square": 9}]
    assert running_client.jobs.metrics(job.id) == streamed
    assert running_client.jobs.metrics(running_client.jobs.submit("test.fail").id) == []


def test_in_process_streams_deliver_log_lines_while_the_job_runs(running_client: Client) -> None:
    job = running_client.jobs.submit("test.count", {"steps": 4, "delay": 1.0})
    lines = running_client.jobs.follow_logs(job.id)
    first = next(line for line in lines if "counting" in line)
    # A transport that buffered whole responses would hand over this line only once the job had ended.
    assert first.endswith("counting 1")
    assert running_client.jobs.get(job.id).status == "running"
    assert [line for line in lines if "counting" in line][-1].endswith("counting 4")


def test_in_process_stream_left_early_frees_the_client(running_client: Client) -> None:
    job = running_client.jobs.submit("test.count", {"steps": 3, "delay": 1.0})
    events = running_client.jobs.events(job.id)
    assert next(events).status in {"pending", "running"}
    events.close()  # the caller stops listening long before the job ends
    assert running_client.jobs.wait(job.id, timeout=30).status == "succeeded"
    assert [event.status for event in running_client.jobs.events(job.id)] == ["succeeded"]


def test_streams_of_an_unknown_job_are_not_found(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        next(client.jobs.events("nope"))
    assert (caught.value.status, caught.value.code) == (404, "not_found")


def test_list_filters_by_status_and_type(running_client: Client) -> None:
    ok = running_client.jobs.submit("test.count", {"steps": 1})
    bad = running_client.jobs.submit("test.fail")
    running_client.jobs.wait(ok.id, timeout=30)
    running_client.jobs.wait(bad.id, timeout=30)
    assert [job.id for job in running_client.jobs.list(status="failed").items] == [bad.id]
    assert [job.id for job in running_client.jobs.list(type="test.count").items] == [ok.id]
    assert [job.id for job in running_client.jobs.list().items] == [bad.id, ok.id]


def test_project_with_an_active_job_cannot_be_deleted(client: Client) -> None:
    client.projects.create("p", "detection")
    job = client.jobs.submit("test.count", project="p")
    with pytest.raises(ApiError) as caught:
        client.projects.delete("p")
    assert caught.value.status == 409 and "1 active job" in caught.value.detail
    client.jobs.cancel(job.id)
    client.projects.delete("p")
    assert client.jobs.get(job.id).project_id is None


def test_storage_verify_job_reports_damaged_files(running_client: Client, settings: Settings) -> None:
    from modelyard.storage.service import FileService

    context = AppContext(settings)
    with transaction(context.db.sessions) as session:
        files = FileService(session, context.store)
        files.save("a/good.bin", iter([b"good"]), actor="t")
        files.save("a/bad.bin", iter([b"bad!"]), actor="t")
    context.close()
    bad = settings.data_dir / "a" / "bad.bin"
    os.chmod(bad, 0o644)
    bad.write_bytes(b"BAD!")
    done = running_client.jobs.wait(running_client.jobs.submit("storage.verify").id, timeout=30)
    assert done.status == "succeeded"
    assert done.result["checked"] == 2
    assert [item["key"] for item in done.result["damaged"]] == ["a/bad.bin"]
