"""The modelyard Python SDK: the client and the types its methods return."""

from modelyard.architectures.schemas import ArchitectureRead as Architecture
from modelyard.architectures.schemas import CachedWeightsRead as CachedWeights
from modelyard.auth.schemas import TokenCreated as CreatedApiToken
from modelyard.auth.schemas import TokenRead as ApiToken
from modelyard.datasets.analysis import DatasetAnalysis
from modelyard.datasets.schemas import AnnotationRead as Annotation
from modelyard.datasets.schemas import DatasetCounts, ItemNeighbours, ItemProposal, UploadResult
from modelyard.datasets.schemas import ItemPages as DatasetItemPages
from modelyard.datasets.schemas import ItemRead as DatasetItem
from modelyard.datasets.schemas import ItemsBulkResult as DatasetBulkResult
from modelyard.datasets.schemas import RevisionItemRead as DatasetRevisionItem
from modelyard.datasets.schemas import RevisionRead as DatasetRevision
from modelyard.evaluations.schemas import EvaluationRead as Evaluation
from modelyard.jobs.schemas import JobRead as Job
from modelyard.kit.page import Page
from modelyard.pipelines.schemas import PipelineStatus
from modelyard.pipelines.schemas import PredictionsRead as Predictions
from modelyard.projects.schemas import LabelRead as Label
from modelyard.projects.schemas import LabelsUsage
from modelyard.projects.schemas import ProjectRead as Project
from modelyard.registry.schemas import AliasRead as ModelAlias
from modelyard.registry.schemas import EventRead as RegistryEvent
from modelyard.registry.schemas import FileRead as VersionFile
from modelyard.registry.schemas import LabelInUse, ModelDescription, ModelHolders, StageHolders
from modelyard.registry.schemas import ModelRead as RegisteredModel
from modelyard.registry.schemas import VersionRead as ModelVersion
from modelyard.revisions.schemas import Lineage
from modelyard.revisions.schemas import ModelRevisionRead as ModelRevision
from modelyard.revisions.schemas import RecommendationRead as Recommendation
from modelyard.revisions.schemas import TrainingConfigurationRead as TrainingConfiguration
from modelyard.revisions.schemas import VariantRead as Variant
from modelyard.sdk.client import Client
from modelyard.sdk.errors import ApiError
from modelyard.storage.schemas import StorageUsage
from modelyard.storage.schemas import StoredFileRead as StoredFile
from modelyard.stream.schemas import SinkRead as StreamSink
from modelyard.stream.schemas import StreamStatus, UploadedFrames
from modelyard.tuning.schemas import StudyRead as Study

__all__ = [
    "Annotation",
    "ApiError",
    "ApiToken",
    "Architecture",
    "CachedWeights",
    "Client",
    "CreatedApiToken",
    "DatasetAnalysis",
    "DatasetBulkResult",
    "DatasetCounts",
    "DatasetItem",
    "DatasetItemPages",
    "DatasetRevision",
    "DatasetRevisionItem",
    "Evaluation",
    "ItemNeighbours",
    "ItemProposal",
    "Job",
    "Label",
    "LabelInUse",
    "LabelsUsage",
    "Lineage",
    "ModelAlias",
    "ModelDescription",
    "ModelHolders",
    "ModelRevision",
    "ModelVersion",
    "Page",
    "PipelineStatus",
    "Predictions",
    "Project",
    "Recommendation",
    "RegisteredModel",
    "RegistryEvent",
    "StageHolders",
    "StorageUsage",
    "StoredFile",
    "StreamSink",
    "StreamStatus",
    "Study",
    "TrainingConfiguration",
    "UploadResult",
    "UploadedFrames",
    "Variant",
    "VersionFile",
]
