"""Two server apps on one database and data directory, each with its own in-memory pipeline runtime, as two
`modelyard serve` processes behind a load balancer: what one enables, swaps or disables, the other serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.sdk import ApiError, Client
from tests.pipelines.conftest import _app_client, _context
from tests.pipelines.factories import ServedModel, TinyModel, served_model


@pytest.fixture
def second_app_client(settings: Settings) -> Iterator[Client]:
    yield from _app_client(settings, run_jobs=False)


def test_a_pipeline_swapped_through_one_server_is_served_by_the_other_at_once(
    app_client: Client, second_app_client: Client, tiny_model: TinyModel, tmp_path: Path
) -> None:
    served: ServedModel = served_model(app_client, _context(app_client), tiny_model, tmp_path / "served")
    first, second = app_client, second_app_client
    first.pipelines.enable(served.project, served.revision_id, variant="pytorch-fp32", confidence_threshold=0.3)
    assert second.pipelines.predict(served.project, served.images[:1]).variant == "pytorch-fp32"
    first.pipelines.enable(served.project, served.revision_id, variant="openvino-fp16", confidence_threshold=0.6)
    # The other server's next request serves the new variant: every prediction reads the pipeline's row.
    swapped = second.pipelines.predict(served.project, served.images[:1])
    assert (swapped.variant, swapped.confidence_threshold) == ("openvino-fp16", 0.6)
    first.pipelines.disable(served.project)
    with pytest.raises(ApiError) as refused:
        second.pipelines.predict(served.project, served.images[:1])
    assert refused.value.status == 409
