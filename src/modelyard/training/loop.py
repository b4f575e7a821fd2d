"""The one training loop, shared by every task; the task-specific parts come from a ``TaskAdapter``.

``train_model`` is what a training job calls: it builds data, model and adapter from paths and dataclasses, runs
``fit`` and returns the best epoch's weights with a record per epoch.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from modelyard.architectures.manifest import ArchitectureManifest
from modelyard.training.config import TrainingConfig
from modelyard.training.data import TrainingDataset, TrainingSample, make_loader
from modelyard.training.networks import create_model
from modelyard.training.tasks import TaskAdapter, adapter_for


class TrainingCancelled(Exception):
    """``should_stop`` asked the run to end; nothing is returned."""

    code = "training_cancelled"


class TrainingDiverged(RuntimeError):
    """The loss stopped being a finite number."""

    code = "training_diverged"


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    metric_name: str
    metric_value: float
    seconds: float
    learning_rate: float
    details: dict[str, float] = field(default_factory=dict)
    """Further validation figures the task reports (detection: map_50, map_75)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainingProgress:
    epoch: int
    epochs: int
    step: int
    steps_per_epoch: int
    train_loss: float
    """Mean loss of the current epoch so far."""

    @property
    def fraction(self) -> float:
        """Share of the planned steps done, in [0, 1] (early stopping may end the run before 1)."""
        return ((self.epoch - 1) * self.steps_per_epoch + self.step) / (self.epochs * self.steps_per_epoch)


@dataclass
class TrainingResult:
    model: nn.Module
    """The best epoch's weights, on the CPU, in eval mode."""
    records: list[EpochRecord]
    best_epoch: int
    metric_name: str
    best_metric: float
    stopped_early: bool
    seconds: float
    images_per_second: float
    """Training throughput, validation excluded."""
    stopped_by_time_limit: bool = False
    """Another epoch would have passed ``config.time_limit_seconds``."""


ProgressCallback = Callable[[TrainingProgress], None]
StopCallback = Callable[[], bool]
EpochCallback = Callable[[EpochRecord], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train_model(
    manifest: ArchitectureManifest,
    config: TrainingConfig,
    label_names: Sequence[str],
    training_samples: Sequence[TrainingSample],
    validation_samples: Sequence[TrainingSample] = (),
    pretrained_weights: Path | None = None,
    keep_head: bool = False,
    cache_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainingResult:
    """Fine-tune ``manifest``'s network on the samples; the best epoch is chosen on the validation samples.

    ``manifest`` is used at its input size: give ``manifest.at_input_size(hyperparameters)``."""
    from modelyard.training.balancing import loss_weights, sampling_weights

    started = time.perf_counter()
    seed_everything(config.seed)
    num_labels = len(label_names)
    spec = manifest.input
    training = TrainingDataset(training_samples, config.task, num_labels, spec, config, cache_dir=cache_dir)
    validation = TrainingDataset(validation_samples, config.task, num_labels, spec, None, cache_dir=cache_dir)
    model = create_model(manifest, num_labels, config.task, pretrained_weights, keep_head=keep_head)
    by_sampling = config.class_balancing == "sampling"
    by_loss = config.class_balancing == "loss"
    return fit(
        model,
        adapter_for(config.task, spec, label_names, loss_weights(training_samples, num_labels) if by_loss else None),
        make_loader(training, config, shuffle=True, seed=config.seed,
                    sample_weights=sampling_weights(training_samples, num_labels) if by_sampling else None),
        make_loader(validation, config, shuffle=False, seed=config.seed) if len(validation) else None,
        config,
        progress=progress,
        should_stop=should_stop,
        on_epoch=on_epoch,
        started=started,
    )  # fmt: skip


def fit(
    model: nn.Module,
    adapter: TaskAdapter,
    training: DataLoader[Any],
    validation: DataLoader[Any] | None,
    config: TrainingConfig,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    on_epoch: EpochCallback | None = None,
    started: float | None = None,
) -> TrainingResult:
    """Train for up to ``config.epochs``, keeping the weights of the epoch with the best monitored value.

    ``config.time_limit_seconds`` counts from ``started`` (a ``time.perf_counter()`` value; default: now)."""
    if len(training) == 0:
        raise ValueError("there are no training batches; add training images or lower the batch size")
    device = resolve_device(config.device)
    model.to(device)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, steps_per_epoch=len(training))
    monitor = _Monitor(adapter.metric_name if validation is not None else "train_loss", validation is not None)
    records: list[EpochRecord] = []
    started = time.perf_counter() if started is None else started
    images_seen, training_seconds, first_epoch_at, validation_seconds = 0, 0.0, time.perf_counter(), 0.0
    stopped_by_time_limit = False
    for epoch in range(1, config.epochs + 1):
        epoch_started = time.perf_counter()
        # Within an epoch, the run stops once the time limit less the last validation's time has passed.
        deadline = None
        if config.time_limit_seconds is not None:
            deadline = started + config.time_limit_seconds - validation_seconds
        loss, images, cut_short = _train_one_epoch(
            model, adapter, training, optimizer, scheduler, config, device, epoch, progress, should_stop, deadline
        )
        training_seconds += time.perf_counter() - epoch_started
        images_seen += images
        validation_started = time.perf_counter()
        value = loss if validation is None else _validate(model, adapter, validation, device)
        validation_seconds = time.perf_counter() - validation_started
        details = dict(getattr(adapter, "details", {})) if validation is not None else {}
        records.append(
            EpochRecord(
                epoch,
                loss,
                monitor.name,
                value,
                time.perf_counter() - epoch_started,
                optimizer.param_groups[0]["lr"],
                details,
            )
        )
        monitor.update(epoch, value, model)
        if on_epoch is not None:
            on_epoch(records[-1])
        if 0 < config.early_stopping_patience <= epoch - monitor.best_epoch:
            break
        overruns = epoch < config.epochs and _next_epoch_overruns(config, started, first_epoch_at, epoch, records[-1])
        if cut_short or overruns:
            stopped_by_time_limit = True
            break
    model.load_state_dict(monitor.best_state)
    model.to("cpu").eval()
    return TrainingResult(
        model=model,
        records=records,
        best_epoch=monitor.best_epoch,
        metric_name=monitor.name,
        best_metric=monitor.best_value,
        stopped_early=len(records) < config.epochs,
        seconds=time.perf_counter() - started,
        images_per_second=images_seen / max(training_seconds, 1e-9),
        stopped_by_time_limit=stopped_by_time_limit,
    )


def _next_epoch_overruns(
    config: TrainingConfig, started: float, first_epoch_at: float, epochs_done: int, last: EpochRecord
) -> bool:
    """Whether one more epoch, as long as the mean one or the last one (on a shared machine the pace changes
    from epoch to epoch), would end past the time limit."""
    if config.time_limit_seconds is None:
        return False
    now = time.perf_counter()
    next_epoch = max((now - first_epoch_at) / epochs_done, last.seconds)
    return now - started + next_epoch > config.time_limit_seconds


def _train_one_epoch(
    model: nn.Module,
    adapter: TaskAdapter,
    loader: DataLoader[Any],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    config: TrainingConfig,
    device: torch.device,
    epoch: int,
    progress: ProgressCallback | None,
    should_stop: StopCallback | None,
    deadline: float | None = None,
) -> tuple[float, int, bool]:
    """(mean loss, images seen, whether `deadline` ended the epoch before its last step)."""
    model.train()
    total_loss, images, step = 0.0, 0, 0
    for step, batch in enumerate(loader, start=1):
        if should_stop is not None and should_stop():
            raise TrainingCancelled(f"training was cancelled in epoch {epoch}, step {step}")
        loss = adapter.training_loss(model, batch, device)
        # One read of the loss per step serves the divergence check and the running mean (on a GPU each read
        # waits for the device, so reading it twice would wait twice).
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise TrainingDiverged(
                f"the loss became {loss_value} in epoch {epoch}, step {step}; "
                "lower the learning rate or enable gradient clipping"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves Tensor.backward unannotated
        if config.gradient_clip_norm > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.gradient_clip_norm)
        optimizer.step()
        scheduler.step()
        total_loss += loss_value
        images += len(batch[0])
        if progress is not None:
            progress(TrainingProgress(epoch, config.epochs, step, len(loader), total_loss / step))
        if deadline is not None and step < len(loader) and time.perf_counter() >= deadline:
            return total_loss / step, images, True
    return total_loss / max(step, 1), images, False


def _validate(model: nn.Module, adapter: TaskAdapter, loader: DataLoader[Any], device: torch.device) -> float:
    model.eval()
    return adapter.validation_metric(model, loader, device)


class _Monitor:
    """Tracks the best epoch: highest validation metric, or lowest training loss when there is no validation."""

    def __init__(self, name: str, higher_is_better: bool) -> None:
        self.name = name
        self.higher_is_better = higher_is_better
        self.best_value = -math.inf if higher_is_better else math.inf
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] = {}

    def update(self, epoch: int, value: float, model: nn.Module) -> bool:
        better = value > self.best_value if self.higher_is_better else value < self.best_value
        if better or not self.best_state:
            self.best_value, self.best_epoch = value, epoch
            # A CPU copy: later epochs update the live tensors in place.
            self.best_state = {key: tensor.detach().to("cpu", copy=True) for key, tensor in model.state_dict().items()}
        return better


def build_optimizer(model: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    decayed: list[nn.Parameter] = []
    not_decayed: list[nn.Parameter] = []
    for parameter in model.parameters():
        if parameter.requires_grad:
            # Decaying biases and normalisation scales only fights the normalisation; decay true weights only.
            (not_decayed if parameter.ndim <= 1 else decayed).append(parameter)
    groups = [{"params": decayed, "weight_decay": config.weight_decay}, {"params": not_decayed, "weight_decay": 0.0}]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.learning_rate, momentum=0.9, nesterov=True)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.learning_rate)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.learning_rate)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; use sgd, adam or adamw")


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainingConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step schedule: linear warm-up to the peak rate, then the configured decay."""
    if config.scheduler not in ("cosine", "step", "constant"):
        raise ValueError(f"unknown scheduler {config.scheduler!r}; use cosine, step or constant")
    total = max(1, config.epochs * steps_per_epoch)
    warmup = min(config.warmup_epochs * steps_per_epoch, total - 1)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        done = (step - warmup) / max(1, total - warmup)
        if config.scheduler == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * done))
        if config.scheduler == "step":
            return 0.1 ** ((done >= 0.5) + (done >= 0.75))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
