"""A trial's side of a study, inside its training job: report each epoch's metric, stop when the study prunes it,
and tell the study how the trial ended.

Imports Optuna: import this module inside the functions that need it.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
from optuna.trial import TrialState

from modelyard.tuning.job_params import TrialLink
from modelyard.tuning.journal import SessionOpener, load_study, storage_for
from modelyard.tuning.pruned import TrialPruned


class TrialReporter:
    def __init__(self, link: TrialLink, open_session: SessionOpener) -> None:
        self.link = link
        self.study = load_study(open_session, link.study_job_id, link.pruner)
        self.storage = storage_for(open_session, link.study_job_id)
        study_id = self.storage.get_study_id_from_name(link.study_job_id)
        self.trial_id = self.storage.get_trial_id_from_study_id_trial_number(study_id, link.number)
        self.trial = optuna.Trial(self.study, self.trial_id)
        self.values: list[float] = []

    def value_of(self, record: Any) -> float:
        """The study's metric in an epoch's record: the training's own metric, or one of its further figures."""
        wanted = self.link.metric or record.metric_name
        if wanted == record.metric_name:
            value = record.metric_value
        elif wanted in record.details:
            value = record.details[wanted]
        else:
            known = ", ".join([record.metric_name, *record.details])
            raise ValueError(f"the training reports no metric {wanted!r}; it reports {known}")
        if self.link.metric is None and record.metric_name == "train_loss":
            raise ValueError("the dataset revision has no validation images: a study needs them to judge its trials")
        return float(value)

    def report(self, record: Any) -> None:
        """Record the epoch's value with the study; raise TrialPruned when the study stops the trial."""
        value = self.value_of(record)
        self.values.append(value)
        if not math.isfinite(value):
            return
        self.trial.report(value, record.epoch)
        if self.trial.should_prune():
            raise TrialPruned(record.epoch, value)

    @property
    def best(self) -> float:
        finite = [value for value in self.values if math.isfinite(value)]
        if not finite:
            raise ValueError("no epoch gave a finite value of the study's metric")
        return max(finite) if self.link.direction == "maximize" else min(finite)

    def complete(self, revision_id: str) -> float:
        """Tell the study the trial's value (its best epoch's) and the revision it made; the value."""
        value = self.best
        self.trial.set_user_attr("revision_id", revision_id)
        self._tell(TrialState.COMPLETE, value)
        return value

    def pruned(self) -> None:
        self._tell(TrialState.PRUNED, None)

    def _tell(self, state: TrialState, value: float | None) -> None:
        if self.storage.get_trial(self.trial_id).state.is_finished():
            return  # the tune job already closed it (it judged this trial's job gone)
        self.study.tell(self.link.number, value, state=state)
