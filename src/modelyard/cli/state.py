"""What every command shares: how to reach modelyard (a server, or the local data directory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from modelyard.sdk import Client


@dataclass
class CliState:
    server: str | None = None
    token: str | None = None
    data_dir: Path | None = None
    _client: Client | None = field(default=None, repr=False)

    def client(self, run_jobs: bool = False) -> Client:
        """The SDK client. Locally, `run_jobs` also runs jobs in this process while it lives
        (for `--wait` without a server)."""
        if self._client is None:
            from modelyard.config import Settings
            from modelyard.sdk import Client

            settings = None
            if not self.server:
                settings = Settings(data_dir=self.data_dir) if self.data_dir else Settings()
            self._client = Client(self.server, token=self.token, settings=settings, run_jobs=run_jobs)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def client(ctx: typer.Context, *, run_jobs: bool = False) -> Client:
    return ctx.find_root().obj.client(run_jobs=run_jobs)
