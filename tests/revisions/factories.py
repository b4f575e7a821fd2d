"""Tiny projects with annotated, generated images, ready to train."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

from modelyard.sdk import Client

COLORS = {"red": (220, 40, 40), "blue": (40, 40, 220), "green": (40, 200, 40)}


def color_image(path: Path, color: str, seed: int, size: int = 32) -> Path:
    rng = random.Random(seed)
    base = COLORS[color]
    image = Image.new("RGB", (size, size), tuple(min(255, max(0, c + rng.randint(-30, 30))) for c in base))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randint(0, size - 4), rng.randint(0, size - 4)
        draw.point((x, y), fill=(rng.randint(0, 255),) * 3)
    image.save(path, format="PNG")
    return path


def classification_project(client: Client, folder: Path, name: str = "colors", per_label: int = 6,
                           labels: tuple[str, ...] = ("red", "blue")) -> str:  # fmt: skip
    client.projects.create(name, "multiclass_classification", labels=list(labels))
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for label in labels:
        for index in range(per_label):
            paths[color_image(folder / f"{label}-{index}.png", label, seed=hash((label, index)) % 10_000)] = label
    result = client.datasets.upload(name, list(paths))
    for item in result.created:
        client.datasets.annotate(name, item.id, labels=[item.name.split("-")[0]])
    return name


def shapes_image(rng: random.Random, size: int = 64) -> tuple[bytes, list[dict]]:
    image = Image.new("RGB", (size, size), (235, 235, 235))
    draw = ImageDraw.Draw(image)
    boxes = []
    for label in ("square", "circle"):
        width = rng.randint(14, 22)
        x, y = rng.randint(0, size - width - 1), rng.randint(0, size - width - 1)
        if label == "square":
            draw.rectangle((x, y, x + width, y + width), fill=(200, 30, 30))
        else:
            draw.ellipse((x, y, x + width, y + width), fill=(30, 30, 200))
        boxes.append({"x": x, "y": y, "width": width + 1, "height": width + 1, "label": label})
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), boxes


def detection_project(client: Client, folder: Path, name: str = "shapes", count: int = 10) -> str:
    client.projects.create(name, "detection", labels=["square", "circle"])
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    annotations = {}
    for index in range(count):
        content, boxes = shapes_image(rng)
        path = folder / f"shape-{index}.png"
        path.write_bytes(content)
        annotations[path.name] = boxes
    result = client.datasets.upload(name, sorted(folder.glob("shape-*.png")))
    for item in result.created:
        client.datasets.annotate(name, item.id, boxes=annotations[item.name])
    return name
