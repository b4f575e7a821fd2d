"""Cold start of the command line: `modelyard --help` and subcommand helps against `mlflow --help`.

Every run is a new process, as a user's shell starts it, so the figures include the interpreter's start-up and
every import the command makes. The runs of all commands are interleaved, so a burst of load from other
processes falls on each command alike.

    PYTHONPATH=src python bench/cli.py --runs 15 --mlflow /work/mlflow-venv/bin/mlflow --baseline-src /work/main/src

`python -c pass` (the same interpreter) is printed as the floor no command can go under. `--baseline-src` adds
`modelyard --help` from another checkout's `src/` (an earlier commit, say) to the same interleaved runs, so a
before/after comparison sees the same machine load.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
AIM_SECONDS = 0.5
DEFAULT_MLFLOW = Path("/work/mlflow-venv/bin/mlflow")


@dataclass
class Command:
    name: str
    argv: list[str]
    source: Path = REPO_ROOT / "src"
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p90(self) -> float:
        return nearest_rank(self.seconds, 90)


def nearest_rank(values: list[float], percent: float) -> float:
    """The nearest-rank percentile: a value that was measured, never an interpolation between two."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def time_once(command: Command) -> float:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(command.source), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    completed = subprocess.run(command.argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{command.name} failed ({completed.returncode}): {completed.stderr.decode()[-500:]}")
    return seconds


def commands(mlflow: Path | None, baseline_source: Path | None) -> list[Command]:
    modelyard = [sys.executable, "-m", "modelyard"]
    measured = [
        Command("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        Command("modelyard --help", [*modelyard, "--help"]),
        Command("modelyard registry --help", [*modelyard, "registry", "--help"]),
        Command("modelyard train --help", [*modelyard, "train", "--help"]),
        Command("modelyard --version", [*modelyard, "--version"]),
    ]
    if baseline_source is not None:
        measured.append(Command(f"modelyard --help ({baseline_source})", [*modelyard, "--help"], baseline_source))
    if mlflow is not None:
        measured += [
            Command("mlflow --help (anchor)", [str(mlflow), "--help"]),
            Command("mlflow models --help (anchor)", [str(mlflow), "models", "--help"]),
        ]
    return measured


def print_table(measured: list[Command]) -> None:
    anchor = next((command for command in measured if command.name.startswith("mlflow --help")), None)
    print(f"| {'command':<44} | {'median s':>8} | {'p90 s':>6} | {'min s':>6} | {'vs mlflow':>9} "
          f"| aim <= {AIM_SECONDS} s |")
    print(f"| {'-' * 44} | {'-' * 7}:| {'-' * 5}:| {'-' * 5}:| {'-' * 8}:| {'-' * 14} |")
    for command in measured:
        versus = f"{anchor.median / command.median:.1f}x" if anchor and command.name.startswith("modelyard") else "-"
        verdict = "-"
        if command.name.startswith("modelyard"):
            missed = command.median - AIM_SECONDS
            verdict = "met" if missed <= 0 else f"missed by {missed:.2f} s"
        print(f"| {command.name:<44} | {command.median:>8.3f} | {command.p90:>6.3f} | {min(command.seconds):>6.3f} | "
              f"{versus:>9} | {verdict:<14} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="cold runs of each command")
    parser.add_argument("--mlflow", type=Path, default=DEFAULT_MLFLOW, help="the `mlflow` executable (the anchor)")
    parser.add_argument("--baseline-src", type=Path, default=None, help="another checkout's src/ to time beside")
    arguments = parser.parse_args()
    mlflow: Path | None = arguments.mlflow
    if mlflow is not None and not os.access(mlflow, os.X_OK):
        print(f"{mlflow} is absent or not executable: the anchor is left out (pass --mlflow PATH)")
        mlflow = None
    baseline = arguments.baseline_src.resolve() if arguments.baseline_src else None
    measured = commands(mlflow, baseline)
    for command in measured:  # one warm-up each, so that compiling .pyc files is not counted as a cold start
        time_once(command)
    for _ in range(arguments.runs):
        for command in measured:
            command.seconds.append(time_once(command))
    print(f"{arguments.runs} cold runs each, interleaved; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print_table(measured)
    if any(command.name.startswith("modelyard") and command.median > AIM_SECONDS for command in measured):
        print(f"Where missed: every process here shares {os.cpu_count()} CPUs with a load average of "
              f"{os.getloadavg()[0]:.1f}, which stretches each start alike (see the floor and the anchor); "
              "`min s` is the least-disturbed run. The subcommand helps also import pydantic: Typer >= 0.29 "
              "coerces the root options' values through pydantic before dispatching to the subcommand.")


if __name__ == "__main__":
    main()
