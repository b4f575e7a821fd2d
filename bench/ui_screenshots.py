"""Screenshots of every page of the web application for docs/ui.md, from a real server with real data.

    cd ui && npm run build && cd .. && python bench/ui_screenshots.py      # writes docs/ui/*.png

A fresh data directory and `modelyard serve` on a free loopback port; the data goes in through the SDK: a
detection project of generated shapes, a tiny SSDlite trained on it for one epoch (its job exports and evaluates
it), the pipeline serving it, a registered model with three versions whose alias and stages moved, and a second,
classification project whose images are labelled in part, and an imported COCO dataset. Then Debian's Chromium
visits each page at 1280x800 and saves a PNG (palette-reduced when large, to keep the repository small).

    python bench/ui_screenshots.py --dataset-only      # the dataset pages alone: no training, a minute
    python bench/ui_screenshots.py --pages annotate,labels   # only these
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw
from servers import free_port, start_server

from modelyard.sdk import Client

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "ui"
PROJECT = "shapes"
REGISTERED = "shapes-detector"
MAX_PNG_BYTES = 150 * 1024
VIEWPORT = {"width": 1280, "height": 800}
SHOWN_BOXES = 6
DROP_FILE = """async ([name, encoded]) => {
  const bytes = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  return transfer;
}"""


def serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    return start_server(data_dir, port), f"http://127.0.0.1:{port}"


def shapes(folder: Path, count: int) -> dict[Path, list[dict[str, Any]]]:
    """Squares and circles on grey: images and their boxes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(3)
    made = {}
    for index in range(count):
        image = Image.new("RGB", (96, 96), (235, 235, 235))
        draw = ImageDraw.Draw(image)
        boxes = []
        for label in ("square", "circle"):
            size = rng.randint(20, 34)
            x, y = rng.randint(0, 95 - size), rng.randint(0, 95 - size)
            shape = draw.rectangle if label == "square" else draw.ellipse
            shape((x, y, x + size, y + size), fill=(200, 30, 30) if label == "square" else (30, 30, 200))
            boxes.append({"x": x, "y": y, "width": size + 1, "height": size + 1, "label": label})
        path = folder / f"shape-{index:02d}.png"
        image.save(path)
        made[path] = boxes
    return made


COLORS = {"red": (200, 40, 40), "green": (40, 160, 60), "blue": (40, 70, 200)}


def colours(folder: Path, count: int, seed: int = 5) -> dict[Path, str]:
    """Squares of a colour with a little noise: images and the colour each shows."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    made = {}
    for index in range(count):
        name = rng.choice(list(COLORS))
        base = COLORS[name]
        image = Image.new("RGB", (96, 96), tuple(min(255, channel + rng.randint(0, 40)) for channel in base))
        ImageDraw.Draw(image).ellipse((20, 20, 76, 76), fill=(240, 240, 240))
        path = folder / f"{name}-{index:03d}.png"
        image.save(path)
        made[path] = name
    return made


def seed_dataset(sdk: Client, folder: Path) -> dict[str, Any]:
    """The classification project `colors` (its images labelled in part) and a COCO import into `imported`."""
    sdk.projects.create("colors", "multiclass_classification", labels=list(COLORS))
    images = colours(folder / "colors", 60)
    created = sdk.datasets.upload("colors", list(images)).created
    for item in created[:36]:
        sdk.datasets.annotate("colors", item.id, labels=[item.name.split("-")[0]], user_reviewed=True)
    sdk.datasets.create_revision("colors")
    # A folder to upload by hand: two images, one of them twice, and a file that is not an image.
    upload = folder / "holiday"
    first = sorted(colours(upload, 3, seed=11))[0]
    shutil.copy(first, upload / "copy-of-the-first.png")
    (upload / "notes.jpg").write_bytes(b"not an image at all")
    coco = folder / "coco"
    shapes_made = shapes(coco / "images" / "train", 8)
    document: dict[str, Any] = {
        "images": [],
        "annotations": [],
        "categories": [{"id": 1, "name": "square"}, {"id": 2, "name": "circle"}, {"id": 3, "name": "star"}],
    }
    for image_id, (path, boxes) in enumerate(sorted(shapes_made.items()), start=1):
        document["images"].append({"id": image_id, "file_name": path.name, "width": 96, "height": 96})
        for box in boxes:
            document["annotations"].append({
                "id": len(document["annotations"]) + 1, "image_id": image_id, "iscrowd": 0, "segmentation": [],
                "category_id": 1 if box["label"] == "square" else 2, "area": box["width"] * box["height"],
                "bbox": [box["x"], box["y"], box["width"], box["height"]],
            })  # fmt: skip
    (coco / "annotations").mkdir(parents=True)
    (coco / "annotations" / "instances_train.json").write_text(json.dumps(document))
    sdk.projects.create("imported", "detection", labels=["square"])
    imported = sdk.jobs.wait(sdk.datasets.import_(coco, "coco", project="imported").id, timeout=600)
    if imported.status != "succeeded":
        raise RuntimeError(f"import failed: {imported.error}")
    return {"upload_folder": upload, "import_job": imported.id}


def seed(sdk: Client, folder: Path) -> dict[str, Any]:
    sdk.projects.create(PROJECT, "detection", labels=["square", "circle"])
    images = shapes(folder / "shapes", 16)
    by_name = {path.name: boxes for path, boxes in images.items()}
    for item in sdk.datasets.upload(PROJECT, list(images)).created:
        sdk.datasets.annotate(PROJECT, item.id, boxes=by_name[item.name])
    overrides = {"epochs": 2, "batch_size": 4, "warmup_epochs": 0, "early_stopping_patience": 0}
    job = sdk.models.train(PROJECT, "ssdlite320_mobilenet_v3_large", base="scratch", overrides=overrides,
                           name="first shapes")  # fmt: skip
    done = sdk.jobs.wait(job.id, timeout=1800)
    if done.status != "succeeded":
        raise RuntimeError(f"training failed: {done.error}")
    revision_id = str((done.result or {})["revision_id"])
    sdk.pipelines.enable(PROJECT, revision_id, variant="openvino-fp16", confidence_threshold=0.001)
    image = sorted(images)[0]
    scores = sorted((o.label.score for o in sdk.pipelines.predict(PROJECT, [image]).predictions[0].objects),
                    reverse=True)  # fmt: skip
    threshold = scores[min(SHOWN_BOXES, len(scores)) - 1] if scores else 0.0

    sdk.registry.register(REGISTERED, revision_id=revision_id, create_model=True, comment="first detector")
    sdk.registry.update(REGISTERED, description="Finds squares and circles on grey backgrounds.",
                        add_metadata={"owner": "vision team", "dataset": "generated shapes"},
                        set_tags={"team": "vision"}, add_labels=["square", "circle"])  # fmt: skip
    weights = folder / "model.onnx"
    weights.write_bytes(os.urandom(4096))
    for number, label_map in ((2, {"0": "square", "1": "circle"}), (3, {"0": "square", "1": "circle", "2": "star"})):
        sdk.registry.register(REGISTERED, files=[weights], framework="onnx", task_type="detection",
                              label_map=label_map, metrics={"map_50": 0.40 + number / 20},
                              runtime={"image": "modelyard/serve", "tag": "1.0"})  # fmt: skip
    sdk.registry.set_alias(REGISTERED, "production", 1, comment="first release")
    sdk.registry.stage(f"{REGISTERED}/1", "production", comment="approved")
    time.sleep(1.5)
    before_move = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.5)
    sdk.registry.set_alias(REGISTERED, "production", 2, expected_version=1, comment="onnx build")
    sdk.registry.stage(f"{REGISTERED}/2", "production", archive_existing=True, comment="faster")
    sdk.registry.set_alias(REGISTERED, "candidate", 3)
    sdk.registry.stage(f"{REGISTERED}/3", "staging")
    return {"revision_id": revision_id, "job_id": job.id, "image": image, "threshold": threshold,
            "before_move": before_move}  # fmt: skip


def save(page: Any, name: str) -> None:
    """A 1280x800 PNG; palette-reduced when the full-colour one is over the size limit."""
    png = page.screenshot()
    if len(png) > MAX_PNG_BYTES:
        reduced = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128).save(reduced, "PNG", optimize=True)
        png = reduced.getvalue()
    (OUT / f"{name}.png").write_bytes(png)
    print(f"docs/ui/{name}.png: {len(png) / 1024:.0f} KB")


def visitor(page: Any, pages: set[str] | None) -> Callable[..., None]:
    def visit(name: str, path: str, ready: Callable[[], None] | None = None) -> None:
        if pages is not None and name not in pages:
            return
        page.goto(path)
        page.get_by_role("heading", level=1).wait_for()
        page.wait_for_load_state("networkidle")
        if ready:
            ready()
        save(page, name)

    return visit


def shoot_dataset(browser: Any, url: str, data: dict[str, Any], pages: set[str] | None) -> None:
    context = browser.new_context(base_url=url, viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    page = context.new_page()
    visit = visitor(page, pages)

    def selected() -> None:
        tiles = page.get_by_test_id("gallery-item")
        tiles.nth(1).click()
        tiles.nth(4).click(modifiers=["Shift"])
        page.get_by_test_id("selected-count").filter(has_text="4 items selected").wait_for()
        page.mouse.move(0, 0)

    visit("dataset-gallery", "/projects/colors/dataset?annotated=yes&sort=name", selected)

    def uploaded() -> None:
        page.get_by_test_id("folder-input").set_input_files(data["upload_folder"])
        page.get_by_test_id("upload-summary").filter(has_text="Done.").wait_for()

    visit("dataset-upload", "/projects/colors/dataset/upload", uploaded)
    visit("dataset-transfer", f"/projects/imported/dataset/transfer?import={data['import_job']}",
          lambda: page.get_by_test_id("import-report").wait_for())  # fmt: skip
    context.close()


def shoot(browser: Any, url: str, data: dict[str, Any], pages: set[str] | None = None) -> None:
    context = browser.new_context(base_url=url, viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    page = context.new_page()
    revision, job = data["revision_id"], data["job_id"]
    at = data["before_move"].isoformat().replace("+00:00", "Z")

    visit = visitor(page, pages)

    def charted(test_id: str) -> Callable[[], None]:
        return lambda: page.wait_for_selector(f"[data-testid={test_id}][data-ready=true]")

    visit("projects", "/projects")
    visit("training", f"/projects/{PROJECT}/training?architecture=ssdlite320_mobilenet_v3_large")
    visit("training-job", f"/projects/{PROJECT}/training/{job}", charted("training-curves"))
    visit("models", f"/projects/{PROJECT}/models")
    visit("revision", f"/projects/{PROJECT}/models/{revision}", charted("revision-curves"))

    def predicted() -> None:
        image: Path = data["image"]
        transfer = page.evaluate_handle(DROP_FILE, [image.name, base64.b64encode(image.read_bytes()).decode()])
        page.get_by_test_id("drop-zone").dispatch_event("drop", {"dataTransfer": transfer})
        page.get_by_test_id("prediction").wait_for()
        page.get_by_test_id("prediction").scroll_into_view_if_needed()

    visit("pipeline", f"/projects/{PROJECT}/pipeline?threshold={data['threshold']}", predicted)

    def proposed() -> None:
        page.get_by_test_id("proposal-content").wait_for()
        page.get_by_test_id("proposed-box").first.wait_for()

    if pages is None or "annotate" in pages:
        # The editor's proposal shows what the pipeline serves: as many boxes as the pipeline page showed.
        serving = {"revision": revision, "variant": "openvino-fp16", "confidence_threshold": data["threshold"]}
        httpx.put(f"{url}/api/v1/projects/{PROJECT}/pipeline", json=serving, timeout=120).raise_for_status()
    visit("annotate", f"/projects/{PROJECT}/annotate", proposed)
    visit("labels", f"/projects/{PROJECT}/labels", lambda: page.get_by_test_id("label-usage").first.wait_for())
    visit("dataset-revisions", f"/projects/{PROJECT}/dataset-revisions")
    visit(
        "dataset-revision",
        f"/projects/{PROJECT}/dataset-revisions/1",
        lambda: page.get_by_test_id("items-training").wait_for(),
    )
    visit("registry", "/registry")
    visit("registry-model", f"/registry/{REGISTERED}")
    visit("registry-version", f"/registry/{REGISTERED}/versions/3")
    visit("registry-history", f"/registry/{REGISTERED}/history?at={at}")
    visit("jobs", "/jobs")
    visit("job", f"/jobs/{job}")
    visit("settings", "/settings")
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--dataset-only", action="store_true", help="Only the dataset pages (no training).")
    parser.add_argument("--pages", help="Comma-separated names of the screenshots to take (default: all).")
    args = parser.parse_args()
    pages = set(args.pages.split(",")) if args.pages else None
    if not (ROOT / "src" / "modelyard" / "ui" / "static" / "index.html").is_file():
        sys.exit("no UI build: run `cd ui && npm run build` first")
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ui-screenshots-") as folder:
        server, url = serve(Path(folder) / "data")
        try:
            with Client(url) as sdk:
                dataset = seed_dataset(sdk, Path(folder))
                data = {} if args.dataset_only else seed(sdk, Path(folder))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
                shoot_dataset(browser, url, dataset, pages)
                if not args.dataset_only:
                    shoot(browser, url, data, pages)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
