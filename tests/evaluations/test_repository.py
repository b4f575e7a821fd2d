"""Evaluation records: compared best first within a subset, and only those of revisions still usable."""

from __future__ import annotations

from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.evaluations.models import Evaluation
from modelyard.evaluations.repository import EvaluationRepository
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.states import WeightsStatus
from modelyard.sdk import Client
from tests.pipelines.factories import ServedModel, set_weights_status


def _context(client: Client) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _record(served: ServedModel, dataset_revision_id: str, variant: str, subset: str, accuracy: float,
            revision_id: str | None = None) -> Evaluation:  # fmt: skip
    return Evaluation(
        project_id=served.project_id, revision_id=revision_id or served.revision_id, variant=variant,
        dataset_revision_id=dataset_revision_id, subset=subset, item_count=4, metric_name="accuracy",
        metric_value=accuracy, metrics={"accuracy": accuracy}, per_label={}, seconds=0.1,
    )  # fmt: skip


def test_compare_orders_best_first_within_the_subset_and_filters_by_variant(
    app_client: Client, served: ServedModel
) -> None:
    context = _context(app_client)
    with transaction(context.db.sessions) as session:
        dataset_revision_id = session.get(ModelRevision, served.revision_id).dataset_revision_id
        repository = EvaluationRepository(session)
        for variant, subset, accuracy in [("openvino-fp16", "testing", 0.7), ("pytorch-fp32", "testing", 0.9),
                                          ("pytorch-fp32", "training", 1.0)]:  # fmt: skip
            repository.add(_record(served, dataset_revision_id, variant, subset, accuracy))
    with transaction(context.db.read_sessions) as session:
        repository = EvaluationRepository(session)
        testing = repository.compare(served.project_id, dataset_revision_id=dataset_revision_id, subset="testing",
                                     metric="accuracy", variant=None)  # fmt: skip
        only_fp16 = repository.compare(served.project_id, dataset_revision_id=None, subset="testing",
                                       metric=None, variant="openvino-fp16")  # fmt: skip
        listed = repository.of_revision(served.revision_id)
    assert [(e.variant, e.metric_value) for e in testing] == [("pytorch-fp32", 0.9), ("openvino-fp16", 0.7)]
    assert [e.metric_value for e in only_fp16] == [0.7]
    assert sorted(e.subset for e in listed) == ["testing", "testing", "training"]


def test_evaluations_of_a_revision_without_weights_are_not_offered(app_client: Client, served: ServedModel) -> None:
    context = _context(app_client)
    with transaction(context.db.sessions) as session:
        dataset_revision_id = session.get(ModelRevision, served.revision_id).dataset_revision_id
        EvaluationRepository(session).add(_record(served, dataset_revision_id, "pytorch-fp32", "testing", 0.8))
    with transaction(context.db.read_sessions) as session:
        usable = EvaluationRepository(session).of_usable_revisions(served.project_id)
    assert [(evaluation.metric_value, revision.id) for evaluation, revision in usable] == [(0.8, served.revision_id)]

    set_weights_status(context, served.revision_id, WeightsStatus.DELETED)
    with transaction(context.db.read_sessions) as session:
        assert EvaluationRepository(session).of_usable_revisions(served.project_id) == []
        # The record itself stays: deleting weights keeps metrics and evaluations.
        assert len(EvaluationRepository(session).of_revision(served.revision_id)) == 1
