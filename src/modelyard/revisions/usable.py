"""What makes a model revision usable, said once: it exists, its training succeeded and its weights are kept.

Exporting, evaluating, optimizing, serving, packaging, registering and fine-tuning all start here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from modelyard.errors import Conflict, NotFound
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.repository import ModelRevisionRepository
from modelyard.revisions.states import RevisionStatus, WeightsStatus


def require_revision(session: Session, revision_id: str) -> ModelRevision:
    """The revision `revision_id` of any project, whatever its status."""
    revision = ModelRevisionRepository(session).get(revision_id)
    if revision is None:
        raise NotFound(
            f"model revision {revision_id!r} does not exist: list a project's revisions with "
            "`modelyard models list PROJECT`"
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

