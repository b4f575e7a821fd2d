"""The modelyard Python SDK."""

from modelyard.datasets.schemas import ItemRead as DatasetItem
from modelyard.datasets.schemas import RevisionRead as DatasetRevision
from modelyard.datasets.schemas import UploadResult
from modelyard.jobs.schemas import JobRead as Job
from modelyard.kit.page import Page
from modelyard.projects.schemas import LabelRead as Label
from modelyard.projects.schemas import ProjectRead as Project
from modelyard.registry.schemas import EventRead as RegistryEvent
from modelyard.registry.schemas import ModelRead as RegisteredModel
from modelyard.registry.schemas import VersionRead as ModelVersion
from modelyard.sdk.client import Client
from modelyard.sdk.errors import ApiError

__all__ = [
    "ApiError", "Client", "DatasetItem", "DatasetRevision", "Job", "Label", "ModelVersion", "Page", "Project",
    "RegisteredModel", "RegistryEvent", "UploadResult",
]
