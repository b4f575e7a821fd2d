"""Experiments and runs as MLflow shows them, whatever stores them (MLflow's own tables or a project and its
training revisions): one shape for answers, filters and sorting, rendered in MLflow's JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ARTIFACT_SCHEME = "mlflow-artifacts:"
ACTIVE = "active"
DELETED = "deleted"


def millis(moment: datetime | None) -> int | None:
    """MLflow's time: milliseconds since the epoch."""
    return None if moment is None else int(moment.timestamp() * 1000)


def experiment_artifact_location(experiment_id: str) -> str:
    return f"{ARTIFACT_SCHEME}/{experiment_id}"


def run_artifact_uri(experiment_id: str, run_id: str) -> str:
    return f"{ARTIFACT_SCHEME}/{experiment_id}/{run_id}/artifacts"


@dataclass(frozen=True)
class MetricValue:
    key: str
    value: float
    timestamp: int
    step: int

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "value": json_number(self.value), "timestamp": self.timestamp, "step": self.step}


def json_number(value: float) -> float | str:
    """A double as MLflow's JSON writes it: NaN and the infinities as strings its client reads back."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


@dataclass
class ExperimentView:
    experiment_id: str
    name: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_location": experiment_artifact_location(self.experiment_id),
            "lifecycle_stage": self.lifecycle_stage,
            "creation_time": self.creation_time,
            "last_update_time": self.last_update_time,
            "tags": [{"key": key, "value": value} for key, value in sorted(self.tags.items())],
        }


@dataclass
class RunView:
    run_id: str
    experiment_id: str
    run_name: str
    status: str
    user_id: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, MetricValue] = field(default_factory=dict)

    @property
    def artifact_uri(self) -> str:
        return run_artifact_uri(self.experiment_id, self.run_id)

    def info_json(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "run_name": self.run_name,
            "experiment_id": self.experiment_id,
            "user_id": self.user_id,
            "status": self.status,
            "start_time": self.start_time,
            "artifact_uri": self.artifact_uri,
            "lifecycle_stage": self.lifecycle_stage,
        }
        if self.end_time is not None:
            info["end_time"] = self.end_time
        return info

    def to_json(self) -> dict[str, Any]:
        return {
            "info": self.info_json(),
            "data": {
                "metrics": [metric.to_json() for _, metric in sorted(self.metrics.items())],
                "params": [{"key": key, "value": value} for key, value in sorted(self.params.items())],
                "tags": [{"key": key, "value": value} for key, value in sorted(self.tags.items())],
            },
            "inputs": {},
        }
