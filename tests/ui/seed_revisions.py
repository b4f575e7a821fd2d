"""Two tiny trained revisions for the browser tests: the smallest classifier trained for one epoch on a few
generated images (exported and evaluated by its training job), then fine-tuned once with another learning rate,
so pages show real curves, variants, evaluations, lineage and a hyperparameter difference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelyard.sdk import Client
from tests.revisions.factories import classification_project
from tests.waiting import JOB_CEILING_SECONDS

TRAINED_PROJECT = "palette"
SMALLEST_ARCHITECTURE = "mobilenet_v3_small"
ONE_QUICK_EPOCH: dict[str, object] = {"epochs": 1, "batch_size": 4, "warmup_epochs": 0, "early_stopping_patience": 0}
FINE_TUNED_LEARNING_RATE = 0.0005


@dataclass(frozen=True)
class TrainedRevisions:
    project: str
    first_id: str
    """Trained from scratch; exported (PyTorch, OpenVINO FP16, ONNX) and evaluated by its job."""
    second_id: str
    """Fine-tuned from the first with `FINE_TUNED_LEARNING_RATE`."""
    first_job_id: str


def _train(sdk: Client, project: str, base: str, overrides: dict[str, object], name: str) -> tuple[str, str]:
    """The trained revision's id and its job's."""
    job = sdk.models.train(project, SMALLEST_ARCHITECTURE, base=base, overrides=overrides, name=name)
    done = sdk.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert done.status == "succeeded", done.error
    return str(done.result["revision_id"]), job.id


def seed_trained_revisions(sdk: Client, folder: Path) -> TrainedRevisions:
    project = classification_project(sdk, folder / "palette-images", name=TRAINED_PROJECT, per_label=5)
    first, first_job = _train(sdk, project, "scratch", ONE_QUICK_EPOCH, "first swatch")
    second, _ = _train(sdk, project, first, {**ONE_QUICK_EPOCH, "learning_rate": FINE_TUNED_LEARNING_RATE},
                       "second swatch")  # fmt: skip
    return TrainedRevisions(project, first, second, first_job)
