"""The web application's weight and speed, in a real Chromium against a real `modelyard serve`.

    python bench/ui.py

1. JavaScript of the first page: every script Chromium fetched while opening `/` (its network log), gzipped
   as a server would send it (level 9). Aim: at most 300 KB; each other page's code loads when it is visited.
2. First page interactive on loopback: from the navigation's start to a click on "New project" opening its
   dialog, in a fresh browser context (empty cache) each time; the median of five. Aim: under 1 s.
3. A registered model with 10,000 versions (bulk-inserted into the database): its page's versions table is
   scrolled to the end; the requests for pages of versions are counted at half way and at the end, and the
   rows in the document are counted. Aim: one request per page of 100 rows reached, and a few dozen rows in
   the document however far it scrolled.
4. A project with 100,000 dataset items (bulk-inserted): its gallery's first paint (from the navigation's start
   to the first thumbnail tile on screen, fresh context, median of the runs); then the gallery is scrolled to
   the middle and to the end at once, and the requests for pages of items are counted against the pages on
   screen. Aim: first paint under 1 s; no page fetched that was not on screen.
5. Saving an annotation as the editor does: a PUT of five boxes with If-Match (the version the draft was made
   from), 500 times in a row over one keep-alive connection to the server on loopback; each save names the version
   the previous one answered. Aim: p99 under 50 ms. (`--only-saves` measures this one alone, `--only-gallery` the
   gallery alone.)

Needs the built UI (`cd ui && npm run build`; `make serve` builds it) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gallery import fill_gallery
from registry import fill
from servers import free_port, start_server

from modelyard.config import Settings
from modelyard.percentiles import percentile

STATIC = Path(__file__).resolve().parents[1] / "src" / "modelyard" / "ui" / "static"
FIRST_PAGE_BUDGET_BYTES = 300 * 1024
INTERACTIVE_BUDGET_MS = 1000
VERSIONS = 10_000
PAGE_ROWS = 100  # the versions table's page size (ui/src/features/registry/api/registry.ts)
GALLERY_ITEMS = 100_000
GALLERY_PROJECT = "gallery"
GALLERY_PAGE = 100  # the gallery's page size (ui/src/features/datasets/api/gallery.ts)
SAVE_P99_BUDGET_MS = 50


def first_page_scripts(browser: Any, url: str) -> list[str]:
    """Paths of the scripts the first page fetched, from the network log."""
    context = browser.new_context()
    page = context.new_page()
    scripts: list[str] = []
    page.on(
        "response",
        lambda response: scripts.append(response.url) if response.request.resource_type == "script" else None,
    )
    page.goto(url + "/", wait_until="networkidle")
    page.get_by_role("heading", level=1, name="Projects").wait_for()
    context.close()
    return [script.removeprefix(url) for script in scripts]


def gzipped_size(path: str) -> tuple[int, int]:
    content = (STATIC / path.lstrip("/")).read_bytes()
    return len(content), len(gzip.compress(content, compresslevel=9))


def interactive_ms(browser: Any, url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url + "/projects", wait_until="commit")
    page.get_by_role("button", name="New project").click()
    page.get_by_role("dialog", name="New project").wait_for()
    elapsed = (time.perf_counter() - started) * 1000
    context.close()
    return elapsed


def scroll_versions(browser: Any, url: str, model: str) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    requests: list[str] = []
    listing = f"/api/v1/registry/models/{model}/versions"
    page.on("request", lambda request: requests.append(request.url) if listing in request.url else None)
    started = time.perf_counter()
    page.goto(f"{url}/registry/{model}")
    table = page.get_by_test_id("data-table")
    table.locator("tbody tr[data-index]").first.wait_for()
    first_requests = len(requests)
    rows = page.locator("tbody tr[data-index]")

    def loaded() -> int:
        return int(page.get_by_role("table", name="Versions").get_attribute("aria-rowcount") or 1) - 1

    def scroll_until(wanted: int) -> None:
        """Scroll to the bottom; the table asks for the next page as its last rows come into view."""
        while (count := loaded()) < wanted:
            table.evaluate("element => { element.scrollTop = element.scrollHeight; }")
            page.wait_for_function(
                "(count) => Number(document.querySelector('table[aria-label=Versions]')"
                ".getAttribute('aria-rowcount')) - 1 > count",
                arg=count,
            )

    scroll_until(VERSIONS // 2)
    half_requests = len(requests)
    scroll_until(VERSIONS)
    page.get_by_text(f"{VERSIONS} rows").wait_for()
    elapsed = time.perf_counter() - started
    in_document = rows.count()
    context.close()
    return {"first": first_requests, "half": half_requests, "end": len(requests), "rows_in_document": in_document,
            "seconds": elapsed}  # fmt: skip


def gallery_first_paint_ms(browser: Any, url: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{url}/projects/{GALLERY_PROJECT}/dataset", wait_until="commit")
    page.get_by_test_id("gallery-item").first.wait_for()
    elapsed = (time.perf_counter() - started) * 1000
    context.close()
    return elapsed


def _pages_on_screen(page: Any) -> set[int]:
    indexes = page.eval_on_selector_all(
        "[data-testid=gallery-item]", "tiles => tiles.map(tile => Number(tile.dataset.index))"
    )
    return {index // GALLERY_PAGE for index in indexes}


def scroll_gallery(browser: Any, url: str) -> dict[str, Any]:
    """Open the gallery, jump to its middle, then to its end; the page requests made at each step."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    listing = f"/api/v1/projects/{GALLERY_PROJECT}/dataset/items?"
    page.on("request", lambda request: requests.append(request.url) if listing in request.url else None)
    page.goto(f"{url}/projects/{GALLERY_PROJECT}/dataset")
    page.get_by_test_id("gallery-item").first.wait_for()
    page.get_by_text(f"{GALLERY_ITEMS} items match").wait_for()  # the cursors have come: the grid is full height
    seen = [_pages_on_screen(page)]
    opening = len(requests)
    scroller = page.get_by_test_id("gallery-scroller")
    for target, last_index in (("element.scrollHeight / 2", None), ("element.scrollHeight", GALLERY_ITEMS - 1)):
        scroller.evaluate(f"element => {{ element.scrollTop = {target}; }}")
        if last_index is None:
            page.wait_for_function("() => [...document.querySelectorAll('[data-testid=gallery-item]')]"
                                   ".some(t => Number(t.dataset.index) > 40000)")  # fmt: skip
        else:
            page.locator(f"[data-index='{last_index}']").wait_for()
        page.wait_for_load_state("networkidle")
        seen.append(_pages_on_screen(page))
    context.close()
    return {"opening": opening, "end": len(requests), "pages_seen": sorted(set().union(*seen))}


def annotation_saves(url: str, folder: Path, count: int, warm_up: int = 20) -> list[float]:
    """Milliseconds of each of `count` version-checked saves of a detection item's annotation (after `warm_up`
    untimed ones: the server's first requests import and compile)."""
    import httpx
    from PIL import Image

    image = folder / "save-bench.png"
    Image.new("RGB", (640, 480), (90, 120, 150)).save(image)
    with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as http:
        http.post("/projects", json={"name": "save-bench", "task_type": "detection", "labels": ["cat", "dog"]})
        with image.open("rb") as handle:
            created = http.post("/projects/save-bench/dataset/items", files=[("files", ("a.png", handle))]).json()
        item = created["created"][0]["id"]
        path, version, timings = f"/projects/save-bench/dataset/items/{item}/annotation", 0, []
        for index in range(warm_up + count):
            boxes = [{"x": 10 + box * 60 + index % 7, "y": 20 + box * 40, "width": 50, "height": 30,
                      "label": "cat" if box % 2 else "dog"} for box in range(5)]  # fmt: skip
            started = time.perf_counter()
            answer = http.put(path, json={"boxes": boxes, "user_reviewed": True}, headers={"if-match": f'"{version}"'})
            elapsed = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            version = answer.json()["annotation_version"]
            if index >= warm_up:
                timings.append(elapsed)
    return timings


def gallery_checks(browser: Any, runs: int, url: str) -> None:
    """Check 4, in Chromium."""
    gallery_first_paint_ms(browser, url)  # warms the server's caches, as above
    paints = [gallery_first_paint_ms(browser, url) for _ in range(runs)]
    paint = statistics.median(paints)
    print(f"gallery of {GALLERY_ITEMS} items, first paint: median {paint:.0f} ms of {runs} "
          f"(min {min(paints):.0f}, max {max(paints):.0f}; aim < {INTERACTIVE_BUDGET_MS} ms): "
          f"{'ok' if paint < INTERACTIVE_BUDGET_MS else 'OVER'}")  # fmt: skip
    gallery = scroll_gallery(browser, url)
    extra = gallery["end"] - len(gallery["pages_seen"])
    print(f"gallery scrolled to the middle and the end: {gallery['opening']} page request(s) on "
          f"opening, {gallery['end']} in all, for {len(gallery['pages_seen'])} page(s) on screen "
          f"{gallery['pages_seen']} of {GALLERY_ITEMS // GALLERY_PAGE}: "
          f"{'ok' if extra <= 0 else f'{extra} page(s) fetched off screen'}")  # fmt: skip


def browser_checks(chromium: str, runs: int, url: str, model: str | None) -> None:
    """Checks 1 to 4 in Chromium; only 4 (the gallery) without a model."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        if model is None:
            gallery_checks(browser, runs, url)
            browser.close()
            return
        scripts = first_page_scripts(browser, url)
        sizes = [gzipped_size(script) for script in scripts]
        total_raw, total_gzip = sum(raw for raw, _ in sizes), sum(packed for _, packed in sizes)
        all_scripts = sorted((STATIC / "assets").glob("*.js"))
        print(f"first page: {len(scripts)} of {len(all_scripts)} scripts, {total_raw / 1024:.1f} KB, "
              f"{total_gzip / 1024:.1f} KB gzipped (aim <= {FIRST_PAGE_BUDGET_BYTES // 1024} KB): "
              f"{'ok' if total_gzip <= FIRST_PAGE_BUDGET_BYTES else 'OVER'}")  # fmt: skip
        for script, (raw, packed) in zip(scripts, sizes, strict=True):
            print(f"  {script}: {raw / 1024:.1f} KB, {packed / 1024:.1f} KB gzipped")
        interactive_ms(browser, url)  # the server's first answers warm its caches
        timings = [interactive_ms(browser, url) for _ in range(runs)]
        median = statistics.median(timings)
        print(f"first page interactive: median {median:.0f} ms of {runs} "
              f"(min {min(timings):.0f}, max {max(timings):.0f}; aim < {INTERACTIVE_BUDGET_MS} ms): "
              f"{'ok' if median < INTERACTIVE_BUDGET_MS else 'OVER'}")  # fmt: skip
        scrolled = scroll_versions(browser, url, model)
        print(f"{VERSIONS} versions scrolled to the end in {scrolled['seconds']:.1f} s: "
              f"{scrolled['first']} request(s) on opening, {scrolled['half']} at half way, "
              f"{scrolled['end']} at the end ({VERSIONS // PAGE_ROWS} pages of {PAGE_ROWS}); "
              f"{scrolled['rows_in_document']} rows in the document at the end")  # fmt: skip
        gallery_checks(browser, runs, url)
        browser.close()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--saves", type=int, default=500)
    parser.add_argument("--only-saves", action="store_true", help="Measure the annotation saves only.")
    parser.add_argument("--only-gallery", action="store_true", help="Measure the gallery only (check 4).")
    args = parser.parse_args()
    if not (STATIC / "index.html").is_file():
        sys.exit(f"no UI build in {STATIC}: run `cd ui && npm run build` first")
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as folder:
        settings = Settings(data_dir=Path(folder))
        model: str | None = None
        if not args.only_saves and not args.only_gallery:
            model = str(fill(settings, models=1, versions=VERSIONS)["names"][0])  # type: ignore[index]
        if not args.only_saves:
            fill_gallery(settings, GALLERY_PROJECT, GALLERY_ITEMS)
        port = free_port()
        server = start_server(Path(folder), port)
        url = f"http://127.0.0.1:{port}"
        try:
            print(load())
            if not args.only_saves:
                browser_checks(args.chromium, args.runs, url, model)
            if not args.only_gallery:
                saves = annotation_saves(url, Path(folder), args.saves)
                p50, p99 = percentile(saves, 50) or 0.0, percentile(saves, 99) or 0.0
                print(f"saving an annotation (5 boxes, If-Match): {len(saves)} saves, p50 {p50:.1f} ms, "
                      f"p99 {p99:.1f} ms (aim p99 < {SAVE_P99_BUDGET_MS} ms): "
                      f"{'ok' if p99 < SAVE_P99_BUDGET_MS else 'OVER'}")  # fmt: skip
            print(load())
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
