"""The modelyard Python SDK."""

from modelyard.api.pagination import Page
from modelyard.jobs.schemas import JobRead as Job
from modelyard.projects.schemas import LabelRead as Label
from modelyard.projects.schemas import ProjectRead as Project
from modelyard.sdk.client import Client
from modelyard.sdk.errors import ApiError

__all__ = ["ApiError", "Client", "Job", "Label", "Page", "Project"]
