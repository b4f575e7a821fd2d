"""The built web application at `/`: its hashed assets cached for good, every other page path answered with
`index.html` (the application routes in the browser), and a page saying how to build it when it is not built.

API paths never fall back to the application: a missing `/api/...` route stays a 404 problem document.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Vite names every file under assets/ by a hash of its content: a new build means new names.
HASHED_ASSETS = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
# index.html and unhashed files (icons) are checked with the server on every load, so a new build shows at once.
REVALIDATE = "no-cache"
NOT_APPLICATION_PREFIXES = ("api/", "ajax-api/", "docs-assets/", "openapi.json", "metrics")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    # Scripts, styles and images from this server only; `blob:` and `data:` for images the page draws itself.
    "content-security-policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>modelyard</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>modelyard</h1>
<p>The API is running (<a href="/docs">/docs</a>), but the web application has not been built.</p>
<p>Build it with <code>make serve</code> from the repository, or by hand with
<code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code> (Node 20 and npm), then reload this page.</p>
</body></html>
"""


def install_ui(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    """Serve the application from the router's fallback, which runs only when no route matched: GET and HEAD of
    a path outside the API; anything else keeps the router's own 404 (or 405) answer.

    A fallback rather than a `/{path:path}` route, which would match every path and turn a POST to a missing
    API route into a 405. The application's files are public: signing in happens inside it.
    """
    not_found = app.router.default

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "/").lstrip("/")
        serves = scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
        if not serves or path.startswith(NOT_APPLICATION_PREFIXES):
            await not_found(scope, receive, send)
            return
        await application_response(static_dir, path)(scope, receive, send)

    app.router.default = application


def application_response(static_dir: Path, path: str) -> Response:
    """A built file, `index.html` for a page path, or a 404 for an asset of another build."""
    found = _static_file(static_dir, path)
    if found is not None:
        cache = IMMUTABLE if PurePosixPath(path).parts[0] == HASHED_ASSETS else REVALIDATE
        return FileResponse(found, headers={"cache-control": cache, **SECURITY_HEADERS})
    if path.startswith(HASHED_ASSETS + "/"):
        return PlainTextResponse("no such asset: the page was built by another version; reload it", status_code=404)
    return _index(static_dir)


def _index(static_dir: Path) -> Response:
    index = static_dir / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT_PAGE, headers={"cache-control": REVALIDATE})
    return FileResponse(index, media_type="text/html", headers={"cache-control": REVALIDATE, **SECURITY_HEADERS})


def _static_file(static_dir: Path, path: str) -> Path | None:
    """The built file at `path`, or None; never a file outside the build folder."""
    relative = PurePosixPath(path)
    if not path or relative.is_absolute() or ".." in relative.parts or "\\" in path or "\x00" in path:
        return None
    candidate = static_dir.joinpath(*relative.parts)
    return candidate if candidate.is_file() else None
