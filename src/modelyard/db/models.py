"""Every ORM model, imported in one place so that Alembic and tests see the whole schema."""

from __future__ import annotations

from modelyard.auth.models import ApiToken, User  # noqa: F401
from modelyard.datasets.models import DatasetItem, DatasetRevision, ItemLabel, RevisionImage  # noqa: F401
from modelyard.db.base import Base
from modelyard.evaluations.models import Evaluation  # noqa: F401
from modelyard.jobs.models import Job, JobLogLine, JobMetricRecord, JobRunnerRecord  # noqa: F401
from modelyard.mlflow.tracking_models import (  # noqa: F401
    MlflowArtifact,
    MlflowExperiment,
    MlflowExperimentTag,
    MlflowLatestMetric,
    MlflowMetric,
    MlflowParam,
    MlflowRun,
    MlflowRunTag,
)
from modelyard.pipelines.models import Pipeline  # noqa: F401
from modelyard.projects.models import Label, Project  # noqa: F401
from modelyard.registry.models import (  # noqa: F401
    ModelAlias,
    ModelVersion,
    ModelVersionFile,
    ModelVersionMetric,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelLabel,
    RegisteredModelTag,
    RegistryEvent,
)
from modelyard.revisions.models import ModelRevision, TrainingConfiguration, Variant  # noqa: F401
from modelyard.storage.models import StoredFile  # noqa: F401
from modelyard.stream.models import OutboxMessage, ProcessedFile, StreamPipeline, StreamSink  # noqa: F401
from modelyard.tuning.models import StudyJournalEntry  # noqa: F401

metadata = Base.metadata
