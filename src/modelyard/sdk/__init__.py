"""The modelyard Python SDK."""

from modelyard.api.pagination import Page
from modelyard.jobs.schemas import JobRead as Job
from modelyard.projects.schemas import LabelRead as Label
from modelyard.projects.schemas import ProjectRead as Project
from modelyard.registry.schemas import EventRead as RegistryEvent
from modelyard.registry.schemas import ModelRead as RegisteredModel
from modelyard.registry.schemas import VersionRead as ModelVersion
from modelyard.sdk.client import Client
from modelyard.sdk.errors import ApiError

__all__ = ["ApiError", "Client", "Job", "Label", "ModelVersion", "Page", "Project", "RegisteredModel", "RegistryEvent"]
