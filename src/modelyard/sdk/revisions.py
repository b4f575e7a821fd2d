"""SDK resource `client.models`: training and model revisions (the CLI verb `models`)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from modelyard.errors import InvalidInput
from modelyard.evaluations.schemas import EvaluationRead
from modelyard.jobs.schemas import JobRead
from modelyard.kit.durations import seconds_in
from modelyard.kit.page import Page
from modelyard.revisions.schemas import (
    Lineage,
    ModelRevisionRead,
    RecommendationRead,
    TrainingConfigurationRead,
    VariantRead,
)
from modelyard.tuning.schemas import StudyRead

if TYPE_CHECKING:
    from modelyard.sdk.client import Client


class ModelRevisions:
    def __init__(self, client: Client) -> None:
        self._client = client

    def train(
        self,
        project: str,
        architecture: str | None = None,
        *,
        overrides: dict[str, Any] | None = None,
        base: str | None = None,
        dataset_revision: str | int | None = None,
        name: str | None = None,
        auto: bool = False,
        budget_seconds: float = 600,
        goal: str = "balanced",
    ) -> JobRead:
        """Queue a training; `base` is 'pretrained' (the default), 'scratch' or a revision id. With `auto`, the
        job chooses whatever of architecture, base and hyperparameters is not given, to train within
        `budget_seconds` towards `goal` (fast, balanced, accurate). The job's result holds `revision_id` once
        it succeeds."""
        body: dict[str, Any] = {"architecture": architecture, "overrides": overrides or {}, "base": base}
        if auto:
            body["auto"] = {"budget_seconds": budget_seconds, "goal": goal}
        if dataset_revision is not None:
            body["dataset_revision"] = str(dataset_revision)
        if name is not None:
            body["name"] = name
        return self._client.send_model(JobRead, "POST", f"/projects/{project}/models:train", json=body)

    def tune(
        self,
        project: str,
        architecture: str,
        *,
        budget: float | str | None = None,
        trials: int = 20,
        metric: str | None = None,
        space: dict[str, dict[str, Any]] | None = None,
        overrides: dict[str, Any] | None = None,
        base: str = "pretrained",
        dataset_revision: str | int | None = None,
        parallel: int | None = None,
        pruner: dict[str, Any] | None = None,
        seed: int = 0,
        register_as: str | None = None,
        export_best: bool = True,
    ) -> JobRead:
        """Queue a hyperparameter study of `architecture`: up to `trials` trainings, none started once it would end
        past `budget` (seconds, or `30m`, `2h`). `space`: dotted name -> {low, high, log} or {choices}; default:
        from the manifest. `pruner`: {kind: median|threshold|none, ...}. Read its trials with `study(job_id)`."""
        body: dict[str, Any] = {
            "architecture": architecture, "overrides": overrides or {}, "base": base, "max_trials": trials,
            "metric": metric, "space": space, "parallel": parallel, "seed": seed, "register_as": register_as,
            "export_best": export_best,
            "budget_seconds": seconds_in(budget) if isinstance(budget, str) else budget,
            "dataset_revision": None if dataset_revision is None else str(dataset_revision),
        }  # fmt: skip
        if pruner is not None:
            body["pruner"] = pruner
        return self._client.send_model(JobRead, "POST", f"/projects/{project}/models:tune", json=body)

    def study(self, job_id: str) -> StudyRead:
        """A tune job's study: each trial's parameters, metric, time and status, the best one marked."""
        return self._client.get_model(StudyRead, f"/studies/{job_id}")

    def recommend(self, project: str, *, budget_seconds: float = 600, goal: str = "balanced") -> RecommendationRead:
        """The architectures `train --auto` picks from, with predicted time and expected quality; the
        recommended one first."""
        return self._client.get_model(
            RecommendationRead,
            f"/projects/{project}/models:recommend",
            params={"budget_seconds": budget_seconds, "goal": goal},
        )

    def list(
        self,
        project: str,
        *,
        architecture: str | None = None,
        status: str | None = None,
        dataset_revision: str | None = None,
        parent: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ModelRevisionRead]:
        params = {key: value for key, value in {
            "architecture": architecture, "status": status, "dataset_revision": dataset_revision,
            "parent": parent, "limit": limit, "cursor": cursor}.items() if value is not None}  # fmt: skip
        return self._client.get_model(Page[ModelRevisionRead], f"/projects/{project}/models", params=params)

    def get(self, revision: str) -> ModelRevisionRead:
        """A revision by id, unique id prefix (6 characters or more) or `PROJECT/NUMBER` (e.g. digits/4)."""
        project, slash, number = revision.rpartition("/")
        if not slash:
            return self._client.get_model(ModelRevisionRead, f"/models/{revision}")
        if not project or not number:
            raise InvalidInput(f"model revision {revision!r} is not valid: use PROJECT/NUMBER (e.g. digits/4) or an id")
        return self._client.get_model(ModelRevisionRead, f"/projects/{quote(project)}/models/{quote(number)}")

    def id_of(self, revision: str) -> str:
        """What to put in a `/models/{id}` path: `PROJECT/NUMBER` is looked up; an id or prefix the server resolves."""
        return self.get(revision).id if "/" in revision else revision

    def rename(self, revision: str, name: str) -> ModelRevisionRead:
        path = f"/models/{self.id_of(revision)}"
        return self._client.send_model(ModelRevisionRead, "PATCH", path, json={"name": name})

    def metrics(self, revision: str) -> builtins.list[dict[str, Any]]:
        path = f"/models/{self.id_of(revision)}/metrics"
        metrics: builtins.list[dict[str, Any]] = self._client.request("GET", path).json()
        return metrics

    def log(self, revision: str) -> str:
        return self._client.request("GET", f"/models/{self.id_of(revision)}/log").text

    def lineage(self, revision: str) -> Lineage:
        return self._client.get_model(Lineage, f"/models/{self.id_of(revision)}/lineage")

    def configuration(self, project: str, architecture: str) -> TrainingConfigurationRead:
        return self._client.get_model(
            TrainingConfigurationRead, f"/projects/{project}/training-configurations/{architecture}"
        )

    def configure(self, project: str, architecture: str, overrides: dict[str, Any]) -> TrainingConfigurationRead:
        """Store a project's hyperparameter overrides for an architecture (checked against its bounds)."""
        return self._client.send_model(
            TrainingConfigurationRead, "PUT", f"/projects/{project}/training-configurations/{architecture}",
            json={"overrides": overrides},
        )  # fmt: skip

    # -- variants, evaluations, deletion -----------------------------------------------------
    def variants(self, revision: str) -> builtins.list[VariantRead]:
        return [
            VariantRead.model_validate(variant)
            for variant in self._client.request("GET", f"/models/{self.id_of(revision)}/variants").json()
        ]

    def export(self, revision: str, format: str = "openvino", precision: str = "fp16") -> JobRead:
        body = {"format": format, "precision": precision}
        return self._client.send_model(JobRead, "POST", f"/models/{self.id_of(revision)}/variants", json=body)

    def optimize(self, revision: str, max_drop: float | None = None) -> JobRead:
        path = f"/models/{self.id_of(revision)}:optimize"
        return self._client.send_model(JobRead, "POST", path, json={"max_drop": max_drop})

    def evaluate(self, revision: str, variant: str = "openvino-fp16", *, dataset_revision: str | int | None = None,
                 subset: str = "testing", force: bool = False) -> JobRead | EvaluationRead:  # fmt: skip
        """Queue an evaluation (a JobRead), or get the stored one of the same variant on the same subset of the
        same dataset revision (an EvaluationRead) unless `force`."""
        body = {"variant": variant, "subset": subset, "force": force,
                "dataset_revision": None if dataset_revision is None else str(dataset_revision)}  # fmt: skip
        response = self._client.request("POST", f"/models/{self.id_of(revision)}:evaluate", json=body)
        if response.status_code == 200:
            return EvaluationRead.model_validate(response.json())
        return JobRead.model_validate(response.json())

    def evaluations(self, revision: str) -> builtins.list[EvaluationRead]:
        response = self._client.request("GET", f"/models/{self.id_of(revision)}/evaluations")
        return [EvaluationRead.model_validate(row) for row in response.json()]

    def compare(self, project: str, *, subset: str = "testing", dataset_revision: str | int | None = None,
                metric: str | None = None, variant: str | None = None) -> builtins.list[EvaluationRead]:  # fmt: skip
        filters = {"subset": subset, "dataset_revision": dataset_revision, "metric": metric, "variant": variant}
        params = {key: value for key, value in filters.items() if value is not None}
        response = self._client.request("GET", f"/projects/{project}/evaluations", params=params)
        return [EvaluationRead.model_validate(row) for row in response.json()]

    def delete(self, revision: str, *, weights_only: bool = False) -> None:
        params = {"weights_only": str(weights_only).lower()}
        self._client.request("DELETE", f"/models/{self.id_of(revision)}", params=params)
