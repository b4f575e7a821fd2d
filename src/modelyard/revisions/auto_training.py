"""`train --auto` inside the training job: measure what this machine has not measured yet, choose the
configuration from the dataset revision's analysis (`training.auto_config`), log every choice with its reason,
and hand the training job ordinary parameters."""

from __future__ import annotations

from collections.abc import Callable

from modelyard.architectures.manifest import ArchitectureManifest, resolve_hyperparameters
from modelyard.architectures.service import ArchitectureCatalog
from modelyard.architectures.weights import ensure_weights, weights_path
from modelyard.config import Settings
from modelyard.datasets.analysis import DatasetAnalysis
from modelyard.revisions.hyperparameter_sources import OVERRIDE, flatten
from modelyard.revisions.job_params import AutoParams, TrainParams
from modelyard.training.auto_config import (
    AutoConfiguration,
    Candidate,
    MachineProfile,
    auto_configure,
)

AUTO_SOURCE = "auto-configuration"
WEIGHTS_DOWNLOAD_SECONDS = 20.0


def candidate_manifests(
    catalog: ArchitectureCatalog, task: str, architecture: str | None
) -> list[ArchitectureManifest]:
    """The architectures auto-configuration picks from: the given one, else every stable one for the task
    (experimental ones are trained only when named, and are not measured for every automatic run)."""
    if architecture is not None:
        return [catalog.for_task(architecture, task)]
    return [m for m in catalog.list(task) if m.support_status == "stable"]


def candidates(
    manifests: list[ArchitectureManifest], settings: Settings, profile: MachineProfile
) -> list[Candidate]:
    """The manifests with this profile's speed (measured or estimated) and whether their weights are cached."""
    from modelyard.training.speed import speed_cache_path, speed_models

    speeds = speed_models(manifests, speed_cache_path(settings.data_dir), profile)
    return [
        Candidate(m, speeds[m.id], m.pretrained_weights is not None and weights_path(m, settings.data_dir).is_file())
        for m in manifests
    ]


def configure(
    settings: Settings,
    params: TrainParams,
    analysis: DatasetAnalysis,
    emit: Callable[[str], None],
    progress: Callable[[str], None],
) -> TrainParams:
    """`params` with the architecture, base and hyperparameters chosen, and the choice recorded."""
    from modelyard.training.speed import ensure_measured, machine_profile, speed_cache_path

    auto = params.auto
    assert auto is not None  # only called for auto-configured trainings
    catalog = ArchitectureCatalog(settings)
    manifests = candidate_manifests(catalog, analysis.task, auto.architecture)
    profile = machine_profile()
    progress("measuring training speed")
    ensure_measured(manifests, analysis.task, speed_cache_path(settings.data_dir), profile, log=emit)
    found = candidates(manifests, settings, profile)
    chosen = _choose(analysis, found, profile, auto)
    manifest = catalog.get(chosen.architecture)
    if chosen.base == "scratch" and auto.base is None and manifest.pretrained_weights is not None:
        if _fetched(manifest, settings, emit):  # not cached: a download may still work
            found = [c if c.manifest.id != manifest.id else Candidate(c.manifest, c.speed, True) for c in found]
            chosen = _choose(analysis, found, profile, auto)
            manifest = catalog.get(chosen.architecture)
    for line in chosen.log_lines():
        emit(line)
    hyperparameters = resolve_hyperparameters(manifest, chosen.hyperparameters)
    explicit_names = set(flatten(auto.explicit))
    sources = {name: OVERRIDE if name in explicit_names else AUTO_SOURCE for name in flatten(hyperparameters)}
    return params.model_copy(
        update={
            "architecture": manifest.id,
            "base": chosen.base,
            "hyperparameters": hyperparameters,
            "hyperparameter_sources": sources,
            "auto_configuration": chosen.to_dict(),
        }
    )


def _choose(
    analysis: DatasetAnalysis, found: list[Candidate], profile: MachineProfile, auto: AutoParams
) -> AutoConfiguration:
    return auto_configure(
        analysis, found, profile, auto.budget_seconds, auto.goal, auto.explicit, auto.architecture, auto.base
    )


def _fetched(manifest: ArchitectureManifest, settings: Settings, emit: Callable[[str], None]) -> bool:
    from modelyard.architectures.weights import WeightsUnavailableError

    try:
        ensure_weights(manifest, settings.data_dir, timeout_seconds=WEIGHTS_DOWNLOAD_SECONDS)
    except (WeightsUnavailableError, ValueError) as error:
        first_line = str(error).splitlines()[0]
        emit(f"pretrained weights of {manifest.id} are unavailable ({first_line}): training from scratch")
        return False
    emit(f"pretrained weights of {manifest.id} downloaded")
    return True
