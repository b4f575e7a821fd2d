"""Pillow's bilinear resize of an RGB array, bit for bit, in less time for the common size ratios.

Training, prediction requests, the stream and the deployment package all shrink images with Pillow's antialiased
bilinear filter, so that a model sees at prediction time the pixels it was trained on. For a frame that is already
an array (a video or camera frame OpenCV decoded, a region of interest), Pillow's way costs a copy into a Pillow
image, its resize, computed in C one output value at a time, and a copy back. This module computes the same
integers from the array with OpenCV's vectorised filters (for an image Pillow decoded, the copy out of Pillow
costs about what this saves, so those keep Pillow's resize):

- The weights are Pillow's own (`Resample.c`): for output position ``i`` along an axis, the triangle filter
  stretched by the scale, centred on ``(i + 0.5) * scale``, cut at the image's edges and normalised, then rounded
  to integers of 22 fractional bits. `_axis_weights` repeats that arithmetic in the same double-precision order.
- Each output value is ``(2**21 + sum(pixel * weight)) >> 22``, clipped to 0-255, the horizontal pass first and
  its result rounded to 8 bits before the vertical pass, as Pillow does.
- When the input size over the output size is a fraction ``p / q`` with a small ``q``, positions ``i``,
  ``i + q``, ``i + 2q``, ... share the same weights, ``p`` input pixels apart: a phase. Columns: one OpenCV filter
  over the whole image per phase, of which every ``p``-th column is kept; only where the weights are multiples of
  a large power of two (halving: 1, 3, 3, 1 eighths), so that the sums are exact in 16-bit integers, otherwise a
  filter in doubles over the whole image would cost more than Pillow. Rows: the weighted sum of the phase's own
  rows, every ``p``-th one (views, no copies), in doubles, exact below 2**53.
- The rounding is exact as well: ``floor(s / 2**22 + 0.5)`` is ``round(s / 2**22 + 2**-23)``, which never falls
  on a tie (`_rounding`), computed by OpenCV calls that keep every bit of the sums.
- The positions near the edges, whose weights differ, and the odd one whose rounded weights differ from its
  phase's by a unit, are summed one by one with numpy.

Anything else (a ratio with many phases or columns needing doubles, OpenCV missing) goes to Pillow itself. The
tests compare the result with Pillow's on hundreds of sizes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from PIL import Image

PRECISION_BITS = 22
"""Pillow's fixed point for 8-bit images: 32 bits minus 8 for the value and 2 for overflow."""
MAX_COLUMN_PHASES = 4
"""Column ratios needing more phases than this go to Pillow: each phase filters the whole image once."""
MAX_ROW_PHASES = 32
"""Row phases read only their own rows, so many of them cost little more than one."""
MAX_EDGES = 24
"""At most this many outputs summed one by one (image edges, the odd position whose weights differ)."""
MIN_RUN = 4
"""Shorter runs of outputs with the same weights are summed one by one rather than as a phase."""
INT16_LIMIT = 32767
FLOAT32_BITS = 24
"""float32's significand: 16-bit sums with `bits` fractional bits round exactly in it while bits + 9 fit."""


@dataclass(frozen=True)
class _Phase:
    first_output: int
    """Outputs first_output, first_output + q, ... (count of them) share these weights."""
    count: int
    first_input: int
    """The first input row their weights start at; the next output's is p rows further."""
    weights: tuple[int, ...]
    """Pillow's integer weights (22 fractional bits)."""


@dataclass(frozen=True)
class _AxisPlan:
    in_size: int
    out_size: int
    step: int
    """p: input rows between an output and the next one of its phase."""
    stride: int
    """q: outputs between two of the same phase."""
    phases: tuple[_Phase, ...]
    edges: tuple[tuple[int, int, tuple[int, ...]], ...]
    """Outputs outside the phases: (output, first input, weights)."""


def resize_array(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An RGB uint8 array resized as Pillow's bilinear filter does, through the phases where both axes have few."""
    width, height = size
    result = np.ascontiguousarray(pixels, dtype=np.uint8)
    plans = _plans((result.shape[1], result.shape[0]), size)
    if plans is None:
        return _pillow(result, size)
    if width != result.shape[1]:
        result = _horizontal(result, plans[0])
    if height != result.shape[0]:
        result = _vertical(result, plans[1])
    return result


def _plans(image_size: tuple[int, int], size: tuple[int, int]) -> tuple[_AxisPlan, _AxisPlan] | None:
    """Both axes' phases, or None for Pillow: OpenCV missing, or an axis with too many phases (converting the
    image to Pillow and back for that axis alone costs more than the other axis's speed-up)."""
    if _opencv() is None:
        return None
    columns, rows = _column_plan(image_size[0], size[0]), _row_plan(image_size[1], size[1])
    return None if columns is None or rows is None else (columns, rows)


def _pillow(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(pixels, "RGB")
    return np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8)


def _horizontal(pixels: np.ndarray, plan: _AxisPlan) -> np.ndarray:
    """Along the columns: one filter over the whole image per phase, whose every p-th column is kept (the filtered
    columns regrouped p to a pixel, of which the first is the one wanted)."""
    cv2 = _opencv()
    rows = pixels.shape[0]
    out = np.empty((rows, plan.out_size, 3), dtype=np.uint8)
    for phase in plan.phases:
        kernel = _kernel(phase.weights)
        assert kernel is not None  # column plans are made only of phases that have one
        small, bits = kernel
        sums = cv2.filter2D(pixels, cv2.CV_16S, small.reshape(1, -1), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
        span = sums[:, phase.first_input: phase.first_input + plan.step * phase.count]
        grouped = span.reshape(rows, phase.count, 3 * plan.step)
        # float32 arithmetic, exact for these 16-bit sums (`_kernel` makes sure): see `_rounding` for the offset.
        rounded = cv2.convertScaleAbs(grouped, alpha=2.0**-bits, beta=_rounding(bits))
        end = phase.first_output + plan.stride * (phase.count - 1) + 1
        if plan.stride == 1:  # OpenCV copies the first pixel of each group straight into the output's columns
            cv2.mixChannels([rounded], [out[:, phase.first_output: end]], [0, 0, 1, 1, 2, 2])
        else:
            out[:, phase.first_output: end: plan.stride] = rounded[:, :, :3]
    for output, first, weights in plan.edges:
        out[:, output] = _exact(pixels[:, first: first + len(weights)], weights, axis=1)
    return out


def _vertical(pixels: np.ndarray, plan: _AxisPlan) -> np.ndarray:
    """Along the rows: per phase, the weighted sum of every p-th row (row views, no copies), in doubles."""
    cv2 = _opencv()
    out = np.empty((plan.out_size, *pixels.shape[1:]), dtype=np.uint8)
    for phase in plan.phases:
        views = [pixels[phase.first_input + tap:: plan.step][: phase.count] for tap in range(len(phase.weights))]
        second, second_weight = (views[1], phase.weights[1]) if len(views) > 1 else (views[0], 0)
        sums = cv2.addWeighted(views[0], phase.weights[0], second, second_weight, 0.0, dtype=cv2.CV_64F)
        for view, weight in zip(views[2:], phase.weights[2:], strict=True):
            sums = cv2.scaleAdd(view.astype(np.float64), float(weight), sums)
        # In doubles (`convertScaleAbs` would compute in float32 and lose the low bits of these sums).
        rounded = cv2.addWeighted(sums, 2.0**-PRECISION_BITS, sums, 0.0, _rounding(PRECISION_BITS), dtype=cv2.CV_8U)
        end = phase.first_output + plan.stride * (phase.count - 1) + 1
        out[phase.first_output: end: plan.stride] = rounded
    for output, first, weights in plan.edges:
        out[output] = _exact(pixels[first: first + len(weights)], weights, axis=0)
    return out


def _kernel(weights: tuple[int, ...]) -> tuple[np.ndarray, int] | None:
    """A columns filter exact in 16-bit integers: the weights divided by their largest common power of two, and
    the fractional bits left to round away; None when the sums would not fit (weights that need doubles)."""
    common = math.gcd(*weights)
    # At least one fractional bit is kept: with none, the half added before rounding would make ties.
    shift = min(PRECISION_BITS - 1, (common & -common).bit_length() - 1) if common else 0
    small = [weight >> shift for weight in weights]
    if sum(small) * 255 > INT16_LIMIT or PRECISION_BITS - shift + 9 > FLOAT32_BITS:
        return None
    return np.array(small, dtype=np.float32), PRECISION_BITS - shift


def _rounding(bits: int) -> float:
    """The offset that makes OpenCV's round-half-to-even give Pillow's ``floor(sum / 2**bits + 0.5)``:
    ``round(sum / 2**bits + 2**-(bits + 1))`` is the same integer and never falls on a tie."""
    return 2.0 ** -(bits + 1)


def _exact(taps: np.ndarray, weights: tuple[int, ...], axis: int) -> np.ndarray:
    """One output line from its input lines, in Pillow's integer arithmetic."""
    total = np.tensordot(np.array(weights, dtype=np.int64), taps.astype(np.int64), axes=([0], [axis]))
    line: np.ndarray = np.clip((total + (1 << (PRECISION_BITS - 1))) >> PRECISION_BITS, 0, 255).astype(np.uint8)
    return line


def _column_plan(in_size: int, out_size: int) -> _AxisPlan | None:
    return _axis_plan(in_size, out_size, MAX_COLUMN_PHASES, grouped=True)


def _row_plan(in_size: int, out_size: int) -> _AxisPlan | None:
    return _axis_plan(in_size, out_size, MAX_ROW_PHASES, grouped=False)


@functools.lru_cache(maxsize=128)
def _axis_plan(in_size: int, out_size: int, max_phases: int, grouped: bool) -> _AxisPlan | None:
    """The phases of one axis, or None when it needs more than `max_phases` (or nothing changes).

    Outputs q apart normally share their weights, but the double-precision arithmetic can round one period's
    weights a unit differently: each run of outputs with the same weights and offset is a phase of its own, and
    runs too short to be worth a pass are summed one by one with the image's edges."""
    ratio = Fraction(in_size, out_size)
    step, stride = ratio.numerator, ratio.denominator
    if stride > max_phases:
        return None
    if in_size == out_size:
        return _AxisPlan(in_size, out_size, step, stride, (), ())
    weights = _axis_weights(in_size, out_size)
    phases: list[_Phase] = []
    regular: set[int] = set()
    for phase in range(stride):
        by_shape: dict[tuple[int, tuple[int, ...]], list[int]] = {}
        for output in range(phase, out_size, stride):
            by_shape.setdefault((weights[output][0] - step * (output // stride), weights[output][1]), []).append(output)
        for (_, shape_weights), outputs in by_shape.items():
            for run in _runs(outputs, stride):
                # The columns pass regroups p inputs per output (`grouped`): the last group must be in the image.
                while grouped and run and weights[run[0]][0] + step * len(run) > in_size:
                    run.pop()
                if len(run) >= MIN_RUN:
                    phases.append(_Phase(run[0], len(run), weights[run[0]][0], shape_weights))
                    regular.update(run)
    edges = tuple((i, weights[i][0], weights[i][1]) for i in range(out_size) if i not in regular)
    if len(phases) > max_phases or len(edges) > MAX_EDGES:
        return None  # too irregular to be worth it: Pillow is faster then
    if grouped and any(_kernel(phase.weights) is None for phase in phases):
        return None  # a columns filter in doubles over the whole image costs more than Pillow's pass
    return _AxisPlan(in_size, out_size, step, stride, tuple(phases), edges)


def _runs(outputs: list[int], stride: int) -> list[list[int]]:
    """Consecutive stretches (stride apart) of a phase's outputs."""
    runs: list[list[int]] = []
    for output in outputs:
        if runs and output == runs[-1][-1] + stride:
            runs[-1].append(output)
        else:
            runs.append([output])
    return runs


def _axis_weights(in_size: int, out_size: int) -> list[tuple[int, tuple[int, ...]]]:
    """(first input, integer weights) for each output position: Pillow's `precompute_coeffs` for its bilinear
    filter and `normalize_coeffs_8bpc`, in the same double-precision operations and order."""
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = 1.0 * filter_scale
    inverse = 1.0 / filter_scale
    result = []
    for output in range(out_size):
        center = 0.0 + (output + 0.5) * scale
        first = max(int(center - support + 0.5), 0)
        count = min(int(center + support + 0.5), in_size) - first
        raw = [_triangle((tap + first - center + 0.5) * inverse) for tap in range(count)]
        total = 0.0
        for value in raw:  # summed in order, as C does (no compensated summation)
            total += value
        normalised = [value / total if total != 0.0 else value for value in raw]
        fixed = tuple(int(0.5 + value * (1 << PRECISION_BITS)) if value >= 0 else
                      int(-0.5 + value * (1 << PRECISION_BITS)) for value in normalised)  # fmt: skip
        result.append((first, fixed))
    return result


def _triangle(x: float) -> float:
    x = -x if x < 0.0 else x
    return 1.0 - x if x < 1.0 else 0.0


@functools.cache
def _opencv() -> Any:
    """The cv2 module, or None where OpenCV is not installed (it comes with the `ml` extra)."""
    try:
        import cv2
    except ImportError:
        return None
    # Resizes run in many threads at once (a stream's predicting threads, the server's requests, DataLoader
    # workers), each on one core: OpenCV's own thread pool would only add hand-offs and CPU time.
    cv2.setNumThreads(1)
    return cv2
