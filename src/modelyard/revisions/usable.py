"""What makes a model revision usable, said once: it exists, its training succeeded and its weights are kept.

Exporting, evaluating, optimizing, serving, packaging, registering and fine-tuning all start here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.kit.bounds import fits_int64
from modelyard.projects.repository import ProjectRepository
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.repository import ModelRevisionRepository
from modelyard.revisions.states import RevisionStatus, WeightsStatus


def require_revision(session: Session, reference: str, access: ProjectAccess = EVERY_PROJECT) -> ModelRevision:
    """The revision `reference` names, of any project, whatever its status: its id, a unique prefix of the id
    (6 characters or more), or `PROJECT/NUMBER` (the project by name or id, the revision by its number); only
    of a project `access` allows."""
    revisions = ModelRevisionRepository(session)
    project_reference, slash, number = reference.rpartition("/")
    if slash:
        return _by_number(session, project_reference, number, access)
    revision = revisions.get(reference) or revisions.by_id_prefix(reference)
    if revision is None or not access.allows(revision.project_id):
        raise NotFound(
            f"model revision {reference!r} does not exist (no id is or starts with it): list a project's revisions "
            "with `modelyard models list PROJECT`"
        )
    return revision


def _by_number(session: Session, project_reference: str, number: str, access: ProjectAccess) -> ModelRevision:
    if not (number.isascii() and number.isdigit() and fits_int64(int(number))):
        raise InvalidInput(
            f"model revision {project_reference + '/' + number!r} is not valid: use PROJECT/NUMBER (e.g. digits/4) "
            "or an id"
        )
    project = ProjectRepository(session).find(project_reference)
    if project is None or not access.allows(project.id):
        raise NotFound(f"project {project_reference!r} does not exist: list projects with `modelyard project list`")
    revision = ModelRevisionRepository(session).by_number(project.id, int(number))
    if revision is None:
        raise NotFound(
            f"project {project.name!r} has no model revision #{number}: list them with "
            f"`modelyard models list {project.name}`"
        )
    return revision


def ensure_usable(revision: ModelRevision) -> ModelRevision:
    """`revision`, if its training succeeded and its weights are kept; a conflict otherwise."""
    if revision.status != RevisionStatus.SUCCEEDED:
        raise Conflict(
            f"model revision #{revision.number} ({revision.id}) is {revision.status}: only a succeeded revision "
            "can be exported, evaluated, served, registered or fine-tuned"
        )
    if revision.weights_status != WeightsStatus.AVAILABLE:
        raise Conflict(
            f"model revision #{revision.number} ({revision.id}) has no weights to use (weights "
            f"{revision.weights_status}): choose a revision whose weights are kept (`modelyard models list PROJECT`) "
            "or train again",
            code="weights_unavailable",
        )
    return revision


def require_usable(session: Session, revision_id: str) -> ModelRevision:
    """Load the revision or raise not-found; refuse it (conflict) unless it is usable."""
    return ensure_usable(require_revision(session, revision_id))
