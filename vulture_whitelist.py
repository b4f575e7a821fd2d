"""Names vulture reports as unused that are used, by a framework or by name, where vulture cannot see it.

vulture matches names, not objects: each entry here keeps every attribute or variable of that name alive, so only
names whose every definition is used that way belong here. Routes, CLI commands, validators and the network
builders are skipped through `ignore_decorators` in pyproject.toml instead. This file is read by vulture only.
"""

# ruff: noqa
# mypy: ignore-errors

# Pydantic: `model_config` configures each model; fields below are filled and serialised by pydantic and FastAPI
# (API responses, manifest files) and read by clients.
model_config
augmentations  # architectures/manifest.py: listed in the architecture's manifest for clients
gflops  # architectures/manifest.py
file_size_mb  # architectures/manifest.py
reference_metrics  # architectures/manifest.py
deleted  # datasets/schemas.py: ItemsDeleted response
auth_required  # auth/schemas.py: SessionRead, read by the web application
flags  # registry/schemas.py: Runtime of a registered version
environment  # registry/schemas.py: Runtime of a registered version
pytest_runtest_makereport  # tests/ui/conftest.py: a pytest hook, called by pytest by its name
delay  # tests/jobs/sample_jobs.py: a job parameter read by the job body through the model

# Enum members of API values, used through their string values.
PYTORCH
OPENVINO
ONNX
TENSORFLOW
NONE
STAGING
PRODUCTION
ARCHIVED

# SQLAlchemy: columns and relationships written through the ORM and read back into response schemas by attribute;
# TypeDecorator hooks and class attributes that SQLAlchemy calls or reads.
images_size
files_deleted_at
predictions_key
metric_rows
user_id  # auth/models.py: the foreign key under ApiToken.user
impl
cache_ok
_.process_bind_param
_.process_result_value
_.isolation_level  # sqlite3 connection attribute, set to hand transactions to SQLAlchemy

# Alembic: revision modules are read by name.
down_revision
branch_labels
depends_on
downgrade

# Dataclasses serialised whole (asdict, JSON reports, parquet rows): each field is part of the stored record.
average_precision  # scoring/metrics.py
compared_detections  # export/parity.py
latency_p95_ms  # export/speed.py
throughput_by_batch  # export/speed.py
image_sha256  # datasets/parquet.py and schemas.py
image_size  # datasets/parquet.py

# Called by the libraries they plug into.
__getattr__  # modelyard/__init__.py: lazy module attributes (PEP 562)
_.forward  # torch.nn.Module
_.handle_request  # httpx.BaseTransport
_.log_message  # http.server.BaseHTTPRequestHandler (tests/ml/test_weights.py)
_.image_mean  # torchvision's GeneralizedRCNNTransform reads them
_.image_std
_.min_size
_.max_size
pytestmark  # pytest: the marks of every test in a module (tests/api/test_guard.py)
_.setup  # schemathesis' APIStateMachine (tests/api/test_schemathesis.py)
_.before_call
_.validate_response

# Public SDK methods, for callers outside this repository.
_.update_item  # sdk/datasets.py
_.download_revision  # sdk/datasets.py

# cli/help.py: Click calls these overrides of its own methods; `__class__` is assigned to switch a parameter's class.
get_usage_pieces
display_type_rich
__class__

# The stream pipeline: prometheus_client calls a collector's `collect`; paho-mqtt calls the `on_*` callbacks and
# http.server the `do_POST` handler of the tests' receivers; a processed file's time is kept for people.
_.collect  # stream/metrics.py
_.processed_at  # stream/models.py
_.do_POST  # tests/stream/factories.py
_.on_connect  # tests/stream/test_sinks.py
_.on_subscribe
_.on_message

# storage/s3.py: read by s3transfer, which queues this many parts of an upload from a stream in memory.
max_in_memory_upload_chunks

# tests/storage/test_transfers.py: read by uvicorn's serving loop, which then stops.
_.should_exit

# training/detr.py: transformers reads a backbone config's `out_features` (the stages the encoder takes) and a
# model's `loss_type` (which loss its forward computes).
_.out_features
_.loss_type
