"""A hyperparameter study kept in modelyard's own database: Optuna's JournalStorage over a journal of our own.

Optuna's relational storage would bring its own tables and migrations into our schema; its journal storage
instead replays a list of operations, which we keep as rows of `study_journal`, one study per tune job. Every
process that touches the study (the tune job, each trial, the API reading results) replays the same rows.

Imports Optuna: import this module inside the functions that need it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

import optuna
from optuna.storages.journal import BaseJournalBackend, JournalStorage
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from modelyard.tuning.job_params import PrunerSpec
from modelyard.tuning.repository import StudyJournalRepository

SessionOpener = Callable[[], AbstractContextManager[Session]]
APPEND_ATTEMPTS = 50


class DatabaseJournal(BaseJournalBackend):
    """The journal of one study (named by its tune job's id) in the `study_journal` table.

    `open_session` gives a session whose work is committed when the block ends (`transaction(db.sessions)`)."""

    def __init__(self, open_session: SessionOpener, study_job_id: str) -> None:
        self.open_session = open_session
        self.study_job_id = study_job_id

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        with self.open_session() as session:
            operations = StudyJournalRepository(session).operations_from(self.study_job_id, log_number_from)
        return [json.loads(operation) for operation in operations]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        operations = [json.dumps(log, separators=(",", ":")) for log in logs]
        for attempt in range(APPEND_ATTEMPTS):
            try:
                with self.open_session() as session:
                    StudyJournalRepository(session).append(self.study_job_id, operations)
                return
            except (IntegrityError, OperationalError):  # another writer took the number, or held SQLite's lock
                if attempt == APPEND_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (1 + attempt))


def storage_for(open_session: SessionOpener, study_job_id: str) -> JournalStorage:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial belongs in the job's log, not Optuna's
    return JournalStorage(DatabaseJournal(open_session, study_job_id))


def pruner_for(spec: PrunerSpec) -> optuna.pruners.BasePruner:
    """The same pruner in every process: the trials decide with it, from every trial's reported values."""
    if spec.kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=spec.startup_trials, n_warmup_steps=spec.warmup_epochs)
    if spec.kind == "threshold":
        return optuna.pruners.ThresholdPruner(lower=spec.lower, upper=spec.upper, n_warmup_steps=spec.warmup_epochs)
    return optuna.pruners.NopPruner()


def load_study(open_session: SessionOpener, study_job_id: str, pruner: PrunerSpec | None = None,
               seed: int | None = None) -> optuna.Study:  # fmt: skip
    """The study of tune job `study_job_id`, as its journal has it now."""
    return optuna.load_study(
        study_name=study_job_id,
        storage=storage_for(open_session, study_job_id),
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner_for(pruner) if pruner is not None else None,
    )
