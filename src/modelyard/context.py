"""What a running modelyard holds: settings, database, artifact store. Built once, passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelyard.auth.service import Authenticator
from modelyard.config import Settings
from modelyard.db.engine import Database
from modelyard.jobs.registry import JobTypeRegistry
from modelyard.storage.base import ArtifactStore
from modelyard.storage.factory import open_store


@dataclass
class AppContext:
    settings: Settings
    db: Database = field(init=False)
    store: ArtifactStore = field(init=False)
    job_types: JobTypeRegistry = field(init=False)
    auth: Authenticator = field(init=False)

    def __post_init__(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings)
        self.store = open_store(self.settings)
        self.job_types = JobTypeRegistry.for_settings(self.settings)
        self.auth = Authenticator(self.settings, self.db)

    def close(self) -> None:
        self.db.dispose()
        self.store.release()
