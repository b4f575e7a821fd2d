"""What the request guard (api/guard.py) adds to a request that passes it, measured on the ASGI call alone.

    PYTHONPATH=src:. python bench/guard.py [--requests 200000] [--rounds 5]

Each request is a realistic scope sent through the guard to an app that answers at once, and, in the same round,
to that app directly; the difference is the guard's cost. The anchor is Starlette's TrustedHostMiddleware (a Host
check only) around the same app. Rounds alternate the three so that load from other work falls on all of them.
Cases: the registry's alias GET as the SDK sends it (5 headers), the same GET from a browser (14 headers), and a
small JSON POST (the body counter wraps `receive`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.api.guard import RequestGuard
from modelyard.config import Settings
from modelyard.context import AppContext

AIM_MICROSECONDS = 5.0

SDK_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
    (b"user-agent", b"python-httpx/0.28.1"),
]
BROWSER_HEADERS = [
    (b"host", b"localhost:8000"),
    (b"connection", b"keep-alive"),
    (b"sec-ch-ua", b'"Chromium";v="131", "Not_A Brand";v="24"'),
    (b"sec-ch-ua-mobile", b"?0"),
    (b"sec-ch-ua-platform", b'"Linux"'),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"),
    (b"accept", b"application/json"),
    (b"sec-fetch-site", b"same-origin"),
    (b"sec-fetch-mode", b"cors"),
    (b"sec-fetch-dest", b"empty"),
    (b"referer", b"http://localhost:8000/"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (b"cookie", b"session=abc"),
]
JSON_BODY = b'{"name": "shapes", "task_type": "detection", "labels": [{"name": "circle"}]}'
JSON_HEADERS = [
    *SDK_HEADERS,
    (b"content-type", b"application/json"),
    (b"content-length", str(len(JSON_BODY)).encode()),
]


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def answering_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the body the way an endpoint does, then answers: the app's cost is the same on every side."""
    if scope["method"] == "POST":
        while (await receive()).get("more_body"):
            pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def receive_body() -> Message:
    return {"type": "http.request", "body": JSON_BODY, "more_body": False}


async def send_nothing(message: Message) -> None:
    return None


async def per_request_microseconds(app: ASGIApp, request: Scope, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await app(dict(request), receive_body, send_nothing)
    return (time.perf_counter() - started) / count * 1e6


async def run(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        context = AppContext(Settings(data_dir=Path(folder) / "data", log_level="warning"))
        try:
            sides: dict[str, ASGIApp] = {
                "bare app": answering_app,
                "guard": RequestGuard(answering_app, context, "/api/v1/health"),
                "TrustedHostMiddleware": TrustedHostMiddleware(
                    answering_app, allowed_hosts=["localhost", "127.0.0.1", "::1"]
                ),
            }
            cases = {
                "alias GET, SDK": scope("GET", "/api/v1/registry/models/m@production", SDK_HEADERS),
                "alias GET, browser": scope("GET", "/api/v1/registry/models/m@production", BROWSER_HEADERS),
                "project POST, JSON": scope("POST", "/api/v1/projects", JSON_HEADERS),
            }
            print(f"{count} requests per side and round, {rounds} rounds; median over rounds, microseconds")
            print("| case | bare app | guard | guard adds | TrustedHostMiddleware adds | aim (adds) | verdict |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
            for case, request in cases.items():
                times: dict[str, list[float]] = {side: [] for side in sides}
                for _ in range(rounds):
                    for side, app in sides.items():
                        times[side].append(await per_request_microseconds(app, request, count))
                median = {side: statistics.median(values) for side, values in times.items()}
                added = median["guard"] - median["bare app"]
                anchor = median["TrustedHostMiddleware"] - median["bare app"]
                verdict = "met" if added <= AIM_MICROSECONDS else f"missed by {added - AIM_MICROSECONDS:.2f} us"
                print(
                    f"| {case} | {median['bare app']:.2f} | {median['guard']:.2f} | {added:.2f} | {anchor:.2f} "
                    f"| <= {AIM_MICROSECONDS:.0f} | {verdict} |"
                )
        finally:
            context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.rounds))


if __name__ == "__main__":
    main()
