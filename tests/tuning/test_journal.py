"""The study journal on both databases: concurrent writers, and an Optuna study kept in it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.jobs.models import Job
from modelyard.tuning.models import StudyJournalEntry


def _study_job(context: AppContext) -> str:
    with transaction(context.db.sessions) as session:
        job = Job(type="revision.tune", params={})
        session.add(job)
        session.flush()
        return job.id


def test_concurrent_writers_keep_every_operation_once_and_numbered_without_gaps(context: AppContext) -> None:
    from modelyard.tuning.journal import DatabaseJournal

    job_id = _study_job(context)

    def write(writer: int) -> None:
        journal = DatabaseJournal(lambda: transaction(context.db.sessions), job_id)
        for index in range(10):
            journal.append_logs([{"writer": writer, "index": index}, {"writer": writer, "index": index, "pair": 1}])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    logs = list(DatabaseJournal(lambda: transaction(context.db.sessions), job_id).read_logs(0))
    assert len(logs) == 80
    assert {(log["writer"], log["index"]) for log in logs} == {(w, i) for w in range(4) for i in range(10)}
    # A batch stays together, in its order, and each writer's batches keep theirs.
    assert all(logs[at + 1] == {**logs[at], "pair": 1} for at in range(0, 80, 2))
    for writer in range(4):
        assert [log["index"] for log in logs[::2] if log["writer"] == writer] == list(range(10))
    with transaction(context.db.read_sessions) as session:
        numbers = session.scalars(select(StudyJournalEntry.seq).where(StudyJournalEntry.study_job_id == job_id))
        assert sorted(numbers) == list(range(80))


def test_a_study_replayed_from_the_journal_has_its_trials_and_best(context: AppContext) -> None:
    import optuna

    from modelyard.tuning.journal import load_study, storage_for

    job_id = _study_job(context)
    study = optuna.create_study(study_name=job_id, storage=storage_for(lambda: transaction(context.db.sessions),
                                                                       job_id), direction="maximize")  # fmt: skip
    for value in (0.5, 0.9, 0.7):
        trial = study.ask({"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)})
        trial.report(value / 2, 1)
        study.tell(trial, value)
    replayed = load_study(lambda: transaction(context.db.read_sessions), job_id)
    assert [trial.value for trial in replayed.trials] == [0.5, 0.9, 0.7]
    assert replayed.best_trial.number == 1
    assert replayed.trials[2].intermediate_values == {1: 0.35}
