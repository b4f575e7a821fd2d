"""Experiments and runs created through MLflow's client (external runs), with their params, tags, metrics
and artifacts. modelyard projects and their training revisions are shown as experiments and runs too, but
they are read from their own tables (see `project_runs`), never copied here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelyard.db.base import Base, IdMixin, UTCDateTime, utcnow

KEY_LENGTH = 250
"""MLflow's own bound on param, tag and metric keys."""

# Integers of 64 bits on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64 bits and counts up itself.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class MlflowExperiment(Base):
    """An experiment created through MLflow. Its id is a number (MLflow's client shows and sends it as text);
    experiment 0 is MLflow's `Default`, where runs go when the client names no experiment."""

    __tablename__ = "mlflow_experiments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256), unique=True, nullable=False)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")


class MlflowExperimentTag(Base):
    __tablename__ = "mlflow_experiment_tags"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("mlflow_experiments.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class MlflowRun(Base):
    """A run logged through MLflow: times are MLflow's milliseconds since the epoch, as the client sent them."""

    __tablename__ = "mlflow_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("mlflow_experiments.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[str] = mapped_column(String(256), nullable=False)
    start_time: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (Index("ix_mlflow_runs_experiment_id_start_time", "experiment_id", "start_time"),)


class MlflowParam(Base):
    __tablename__ = "mlflow_params"

    run_id: Mapped[str] = mapped_column(ForeignKey("mlflow_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class MlflowRunTag(Base):
    __tablename__ = "mlflow_run_tags"

    run_id: Mapped[str] = mapped_column(ForeignKey("mlflow_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class MlflowMetric(Base):
    """Every logged value of a metric, kept for its history. NaN is kept as a flag: SQLite stores NaN as NULL."""

    __tablename__ = "mlflow_metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("mlflow_runs.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    is_nan: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)
    step: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_mlflow_metrics_run_id_key_step", "run_id", "key", "step"),)


class MlflowLatestMetric(Base):
    """A metric's latest value (highest step, then latest timestamp, then largest value, as MLflow orders them):
    what runs show and what searches filter and sort on."""

    __tablename__ = "mlflow_latest_metrics"

    run_id: Mapped[str] = mapped_column(ForeignKey("mlflow_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    is_nan: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)
    step: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_mlflow_latest_metrics_key_value", "key", "value"),)


class MlflowArtifact(IdMixin, Base):
    """A file logged to a run through the artifact proxy: its path in the run and the stored file holding it."""

    __tablename__ = "mlflow_artifacts"

    run_id: Mapped[str] = mapped_column(ForeignKey("mlflow_runs.id", ondelete="CASCADE"), nullable=False)
    path: Mapped[str] = mapped_column(String(1024), nullable=False)
    file_key: Mapped[str] = mapped_column(String(1024), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (UniqueConstraint("run_id", "path"),)
