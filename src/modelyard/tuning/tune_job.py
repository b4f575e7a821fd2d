"""The `revision.tune` job: a hyperparameter study whose trials are training jobs, children of this one.

The job asks the study (Optuna, TPE sampler) for a trial, submits it as a training job with the trial's
hyperparameters, and keeps up to the job slots' worth of trials queued or running; it holds no slot itself. Each
trial reports its validation metric after every epoch to the study, whose pruner may stop it there (the trial's
job then ends `cancelled` with reason `pruned`). The study lives in the database, so the job is resumable: after a
server restart it is queued again, replays the study, closes the trials whose jobs were lost (failed, and asked
again with the same hyperparameters) and goes on. New trials stop once the budget would be exceeded.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelyard.architectures.manifest import ArchitectureManifest
from modelyard.architectures.service import ArchitectureCatalog
from modelyard.datasets.revisions import DatasetRevisionService
from modelyard.datasets.schemas import RevisionCreate
from modelyard.db.base import new_id, utcnow
from modelyard.db.engine import transaction
from modelyard.jobs.context import CleanupContext, JobCancelled, JobContext
from modelyard.jobs.registry import JobType, JobTypeRegistry
from modelyard.jobs.repository import JobRepository
from modelyard.jobs.service import JobService
from modelyard.jobs.states import ACTIVE_STATUSES
from modelyard.projects.service import ProjectService
from modelyard.revisions.hyperparameter_sources import merge, sources_of
from modelyard.revisions.job_params import TRAIN_JOB, TrainParams
from modelyard.revisions.repository import ModelRevisionRepository
from modelyard.storage.service import FileService
from modelyard.tuning.job_params import TUNE_JOB, TrialLink, TuneParams
from modelyard.tuning.space import is_integer, nested

STUDY_CONFIGURATION = "study configuration"
FAILED_TRIALS_BEFORE_GIVING_UP = 3
BEST_MARK = " (best of its study)"


@dataclass
class _Study:
    """The open study and what the job needs around it."""

    study: Any
    storage: Any
    study_id: int
    params: TuneParams
    manifest: ArchitectureManifest
    distributions: dict[str, Any]
    dataset_revision_id: str
    started_at: datetime
    parallel: int


@dataclass(frozen=True)
class _EndedJob:
    status: str
    reason: str | None
    error: str | None
    result: dict[str, Any] | None


def tune(context: JobContext, raw_params: dict[str, Any]) -> dict[str, Any]:
    params = TuneParams.model_validate(raw_params)
    context.progress(1, "study")
    state = _open(context, params)
    try:
        _run_trials(context, state)
    except JobCancelled:
        if _cancel_was_asked(context):
            _cancel_children(context, "the study was cancelled")
        raise
    return _finish(context, state)


def _open(context: JobContext, params: TuneParams) -> _Study:
    import optuna

    from modelyard.tuning.journal import pruner_for, storage_for

    storage = storage_for(lambda: transaction(context.db.sessions), context.job_id)
    study = optuna.create_study(
        study_name=context.job_id, storage=storage, direction=params.direction, load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=params.seed), pruner=pruner_for(params.pruner),
    )  # fmt: skip
    if "started_at" not in study.user_attrs:
        study.set_user_attr("dataset_revision_id", _dataset_revision(context, params))
        study.set_user_attr("started_at", utcnow().isoformat())
        context.log.info("study %s opened: %s %s, space %s", context.job_id, params.direction,
                         params.metric or "the validation metric", _describe_space(params))  # fmt: skip
    else:
        context.log.info("study %s resumed with %d trials recorded", context.job_id, len(study.trials))
    manifest = ArchitectureCatalog(context.settings).get(params.architecture)
    return _Study(
        study, storage, storage.get_study_id_from_name(context.job_id), params, manifest,
        _distributions(manifest, params), study.user_attrs["dataset_revision_id"],
        datetime.fromisoformat(study.user_attrs["started_at"]), params.parallel or context.settings.job_slots,
    )  # fmt: skip


def _describe_space(params: TuneParams) -> str:
    parts = []
    for name, dimension in params.space.items():
        if dimension.choices is not None:
            parts.append(f"{name} in {dimension.choices}")
        else:
            parts.append(f"{name} in [{dimension.low:g}, {dimension.high:g}]{' (log)' if dimension.log else ''}")
    return "; ".join(parts)


def _distributions(manifest: ArchitectureManifest, params: TuneParams) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    distributions: dict[str, Any] = {}
    for name, dimension in params.space.items():
        if dimension.choices is not None:
            distributions[name] = CategoricalDistribution(dimension.choices)
        elif is_integer(manifest, name):
            distributions[name] = IntDistribution(int(dimension.low or 0), int(dimension.high or 0), log=dimension.log)
        else:
            distributions[name] = FloatDistribution(dimension.low or 0.0, dimension.high or 0.0, log=dimension.log)
    return distributions


def _dataset_revision(context: JobContext, params: TuneParams) -> str:
    """One dataset revision for every trial, so that they compare on the same data."""
    with transaction(context.db.sessions) as session:
        files = FileService(session, context.store)
        project = ProjectService(session, files, context.actor).get(params.project_id)
        datasets = DatasetRevisionService(session, files, context.actor)
        if params.dataset_revision_id:
            revision = datasets.get(project, params.dataset_revision_id)
        else:
            revision, _ = datasets.create(project, RevisionCreate())
        context.log.info("trials train on dataset revision %d (%s)", revision.number, revision.id)
        return revision.id


# -- the loop ---------------------------------------------------------------------------------
def _run_trials(context: JobContext, state: _Study) -> None:
    poll = max(0.2, context.settings.job_poll_seconds)
    while True:
        trials = _settle(context, state)
        running = _finished(trials, "RUNNING")
        failed = [trial for trial in trials if trial.state.name == "FAIL" and not trial.user_attrs.get("lost")]
        if len(failed) >= FAILED_TRIALS_BEFORE_GIVING_UP and not _finished(trials, "COMPLETE", "PRUNED"):
            _cancel_children(context, "the study gave up")
            raise RuntimeError(f"the first {len(failed)} trials failed: read their jobs' logs "
                               f"(`modelyard job logs {failed[0].user_attrs.get('job_id')}`)")  # fmt: skip
        reason_to_stop = _why_no_new_trial(state, trials)
        if reason_to_stop is None and len(running) < state.parallel:
            _submit_trial(context, state)  # a trial asked again (waiting) comes first
            continue
        _report_progress(context, state, trials)
        if not running:
            context.log.info("no more trials: %s", reason_to_stop)
            return
        time.sleep(poll)


def _finished(trials: list[Any], *states: str) -> list[Any]:
    """The trials in any of `states` (names of Optuna's TrialState)."""
    return [trial for trial in trials if trial.state.name in states]


def _why_no_new_trial(state: _Study, trials: list[Any]) -> str | None:
    """Why no trial may be asked now (None: one may)."""
    counted = [trial for trial in trials if not trial.user_attrs.get("lost")]
    waiting = [trial for trial in trials if trial.state.name == "WAITING"]
    if len(counted) - len(waiting) >= state.params.max_trials:
        return f"{state.params.max_trials} trials asked"
    budget = state.params.budget_seconds
    if budget is None:
        return None
    elapsed = (utcnow() - state.started_at).total_seconds()
    durations = [trial.duration.total_seconds() for trial in _finished(trials, "COMPLETE", "PRUNED")
                 if trial.duration is not None]  # fmt: skip
    expected = statistics.mean(durations) if durations else 0.0
    if elapsed + expected > budget:
        return f"the budget of {budget:.0f} s would be exceeded (elapsed {elapsed:.0f} s, a trial {expected:.0f} s)"
    return None


def _submit_trial(context: JobContext, state: _Study) -> None:
    trial = state.study.ask(state.distributions)
    job_id = new_id()
    trial.set_user_attr("job_id", job_id)  # recorded first: a trial whose job never came is known as lost
    values = dict(trial.params)
    layers = [(STUDY_CONFIGURATION, state.params.fixed), (f"study trial {trial.number}", nested(values))]
    hyperparameters = ArchitectureCatalog(context.settings).resolve(state.manifest, merge(layers[0][1], layers[1][1]))
    train = TrainParams(
        project_id=state.params.project_id, architecture=state.manifest.id, hyperparameters=hyperparameters,
        hyperparameter_sources=sources_of(layers, hyperparameters), base=state.params.base,
        dataset_revision_id=state.dataset_revision_id, name=f"{state.manifest.id} trial {trial.number}",
        trial=TrialLink(study_job_id=context.job_id, number=trial.number, metric=state.params.metric,
                        direction=state.params.direction, pruner=state.params.pruner),
        variants=False,
    )  # fmt: skip
    with transaction(context.db.sessions) as session:
        jobs = JobService(session, JobTypeRegistry.for_settings(context.settings), context.actor)
        jobs.submit(TRAIN_JOB, train, state.params.project_id, parent_id=context.job_id, job_id=job_id)
    context.log.info("trial %d: job %s, %s", trial.number, job_id,
                     ", ".join(f"{name}={_shown(value)}" for name, value in values.items()))  # fmt: skip


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _settle(context: JobContext, state: _Study) -> list[Any]:
    """Close the trials whose jobs have ended without telling the study (failed, cancelled, lost); the trials."""
    from optuna.trial import TrialState

    trials = state.study.get_trials(deepcopy=False)
    open_trials = [trial for trial in trials if trial.state == TrialState.RUNNING]
    if not open_trials:
        return trials
    ended: dict[int, _EndedJob | None] = {}  # None: the trial's job was never submitted
    with transaction(context.db.read_sessions) as session:
        repository = JobRepository(session)
        for trial in open_trials:
            job = repository.get(trial.user_attrs.get("job_id", ""))
            if job is None:
                ended[trial.number] = None
            elif job.status not in ACTIVE_STATUSES:
                ended[trial.number] = _EndedJob(job.status, job.reason, job.error, job.result)
    for trial in open_trials:
        if trial.number in ended:
            _close_ended_trial(context, state, trial, ended[trial.number])
    return state.study.get_trials(deepcopy=False) if ended else trials


def _close_ended_trial(context: JobContext, state: _Study, trial: Any, job: _EndedJob | None) -> None:
    from optuna.trial import TrialState

    trial_id = state.storage.get_trial_id_from_study_id_trial_number(state.study_id, trial.number)
    if job is not None and job.status == "succeeded" and job.result and "trial_value" in job.result:
        state.study.tell(trial.number, job.result["trial_value"])  # its job ended before it could tell the study
        return
    if job is not None and job.reason == "pruned":
        state.study.tell(trial.number, state=TrialState.PRUNED)
        return
    lost = job is None or job.reason == "interrupted"
    why = "its job was never submitted" if job is None else f"its job {job.status} ({job.reason}): {job.error or ''}"
    state.storage.set_trial_user_attr(trial_id, "failure", why)
    if lost:
        state.storage.set_trial_user_attr(trial_id, "lost", True)
    state.study.tell(trial.number, state=TrialState.FAIL)
    if lost:
        # Asked again with the same hyperparameters: the lost trial says nothing about them.
        state.study.enqueue_trial(dict(trial.params), skip_if_exists=False)
    context.log.info("trial %d failed: %s%s", trial.number, why, "; asked again" if lost else "")


def _report_progress(context: JobContext, state: _Study, trials: list[Any]) -> None:
    counts = {name: len(_finished(trials, name)) for name in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}
    lost = len([trial for trial in trials if trial.user_attrs.get("lost")])
    done = (counts["COMPLETE"] + counts["PRUNED"] + counts["FAIL"] - lost) / state.params.max_trials
    if state.params.budget_seconds:
        done = max(done, (utcnow() - state.started_at).total_seconds() / state.params.budget_seconds)
    best = ""
    if counts["COMPLETE"]:
        trial = state.study.best_trial
        best = f"; best {state.params.metric or 'metric'} {trial.value:.4f} (trial {trial.number})"
    message = (f"{counts['COMPLETE']} complete, {counts['PRUNED']} pruned, {counts['FAIL']} failed, "
               f"{counts['RUNNING']} running{best}")  # fmt: skip
    context.progress(min(95.0, 2 + 93 * done), "trials", message)


# -- the end ------------------------------------------------------------------------------------
def _finish(context: JobContext, state: _Study) -> dict[str, Any]:
    """Mark the best trial's revision, make its variants, register it if asked; the study's outcome."""
    trials = state.study.get_trials(deepcopy=False)
    counts = {name.lower(): len(_finished(trials, name)) for name in ("COMPLETE", "PRUNED", "FAIL")}
    if not counts["complete"]:
        raise RuntimeError(f"no trial completed ({counts['pruned']} pruned, {counts['fail']} failed): widen the "
                           "budget or the trials, or loosen the pruner")  # fmt: skip
    best = state.study.best_trial
    revision_id = best.user_attrs["revision_id"]
    with transaction(context.db.sessions) as session:
        revision = ModelRevisionRepository(session).get(revision_id)
        if revision is not None and not revision.name.endswith(BEST_MARK):
            revision.name = f"{revision.name}{BEST_MARK}"[:256]
    context.log.info("best: trial %d, %s %.4f, revision %s", best.number, state.params.metric or "metric",
                     best.value, revision_id)  # fmt: skip
    outcome: dict[str, Any] = {
        "best_trial": best.number, "best_value": best.value, "best_params": dict(best.params),
        "best_revision_id": revision_id, "best_job_id": best.user_attrs.get("job_id"),
        "dataset_revision_id": state.dataset_revision_id, "trials": counts,
    }  # fmt: skip
    if state.params.export_best:
        from modelyard.revisions.training_job import make_variants

        context.progress(96, "variants of the best revision")
        outcome["variants"], _ = make_variants(context, revision_id, context.log.info, pytorch_recorded=True)
    if state.params.register_as:
        outcome["registered"] = _register(context, state.params.register_as, revision_id, best.number)
    context.progress(100, "succeeded")
    return outcome


def _register(context: JobContext, name: str, revision_id: str, trial_number: int) -> dict[str, Any]:
    from modelyard.registry.schemas import VersionCreate
    from modelyard.registry.service import RegistryService

    with transaction(context.db.sessions) as session:
        registry = RegistryService(session, FileService(session, context.store), context.actor)
        comment = f"best trial ({trial_number}) of study {context.job_id}"
        version = registry.register(name, VersionCreate(revision_id=revision_id, create_model=True, comment=comment))
        registered = {"model": name, "version": version.number}
    context.log.info("registered as %s/%d", name, registered["version"])
    return registered


# -- stopping -----------------------------------------------------------------------------------
def _cancel_was_asked(context: JobContext) -> bool:
    with transaction(context.db.read_sessions) as session:
        job = JobRepository(session).get(context.job_id)
        return job is not None and job.status == "cancelling"


def _cancel_children(context: JobContext, why: str) -> None:
    with transaction(context.db.sessions) as session:
        jobs = JobService(session, JobTypeRegistry.for_settings(context.settings), context.actor)
        active = [job for job in JobRepository(session).children(context.job_id) if job.status in ACTIVE_STATUSES]
        for job in active:
            jobs.cancel(job)
    if active:
        context.log.info("%s: %d trial jobs cancelled", why, len(active))


def cleanup(context: CleanupContext) -> None:
    """After a failed or cancelled study: its trials still queued or running are cancelled (a study that the
    server's restart interrupted is queued again instead, and keeps them)."""
    now = utcnow()
    with transaction(context.db.sessions) as session:
        repository = JobRepository(session)
        for job in repository.children(context.job_id):
            if job.status == "pending":
                repository.transition(job.id, ["pending"], status="cancelled", finished_at=now,
                                      cancel_requested_at=now, reason="cancelled")  # fmt: skip
            elif job.status == "running":
                repository.transition(job.id, ["running"], status="cancelling", cancel_requested_at=now)


JOB_TYPES = [
    JobType(TUNE_JOB, tune, "Search hyperparameters: trials are training jobs, children of this one.", TuneParams,
            cleanup, started_by="POST /api/v1/projects/{project}/models:tune (modelyard tune)", holds_slot=False,
            resumable=True),
]
