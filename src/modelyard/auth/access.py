"""Who a request is and what it may touch: the scope ladder and the project limit.

A leaf module (no database, no web framework): services of every domain take a `ProjectAccess` and ask it
whether a project's things are visible, so a token limited to projects never learns that others exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """What a token may do; each scope includes the ones before it."""

    READ = "read"  # GET and HEAD
    WRITE = "write"  # create, change, train, predict
    ADMIN = "admin"  # delete projects, registered models and files; tokens; storage jobs

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, needed: Scope) -> bool:
        return self.rank >= needed.rank


class TokenKind(StrEnum):
    """What made a token: `modelyard token create` or the tokens API (`api`), or a web UI sign-in (`session`)."""

    API = "api"
    SESSION = "session"


_RANKS = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}
# Jobs that reach every project's files (verify, garbage collection) are the admin's.
ADMIN_JOB_PREFIXES = ("storage.",)


def scope_for_job(job_type: str) -> Scope:
    """The scope submitting a job of this type needs."""
    return Scope.ADMIN if job_type.startswith(ADMIN_JOB_PREFIXES) else Scope.WRITE


@dataclass(frozen=True)
class ProjectAccess:
    """The projects a caller may see: every one (`project_ids` None) or a fixed set of project ids.

    Things of no project (global registered models, storage jobs, files outside projects) are visible
    to unlimited callers only.
    """

    project_ids: frozenset[str] | None = None

    @property
    def limited(self) -> bool:
        return self.project_ids is not None

    def allows(self, project_id: str | None) -> bool:
        if self.project_ids is None:
            return True
        return project_id is not None and project_id in self.project_ids


EVERY_PROJECT = ProjectAccess()


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user name (recorded as the actor of changes), a scope, a project limit."""

    user: str
    scope: Scope
    access: ProjectAccess = EVERY_PROJECT
    token_id: str | None = None

    def may(self, needed: Scope) -> bool:
        return self.scope.includes(needed)


# Without authentication (no token anywhere) every caller is the local user with every right.
LOCAL = Principal(user="local", scope=Scope.ADMIN)
