"""The edge every HTTP request passes before routing: who may reach the server, from which page, with how much JSON.

- Without API tokens the server serves loopback callers only (`serve --insecure` / MODELYARD_INSECURE lifts it),
  and `serve` refuses to listen anywhere else (`serve_refusal`). The rule is enforced per request, on the peer's
  address, rather than by refusing to start in the app's lifespan: under another ASGI server (`uvicorn --host`,
  gunicorn, a container's port mapping) the app never learns the address it is bound to, but every request
  carries its peer; and the same app runs in-process for the SDK and CLI, which must keep working when `.env`
  holds a server's MODELYARD_HOST.
- The Host header must name this server (MODELYARD_ALLOWED_HOSTS): a page on a DNS name that an attacker has
  rebound to 127.0.0.1 sends its own name as Host and is refused, so it cannot read or change anything.
- A state-changing request sent by a browser from another page (CSRF) is refused; CORS (MODELYARD_CORS_ORIGINS)
  names the pages that may.
- JSON bodies are limited (MODELYARD_MAX_JSON_BODY_BYTES) before anything parses them.

Pure ASGI, like `RequestContext`: a request that passes costs a header scan and a few set lookups.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.api.problems import mlflow_error, problem
from modelyard.auth import service as auth_service
from modelyard.mlflow.errors import is_mlflow_path

if TYPE_CHECKING:
    from fastapi import FastAPI

    from modelyard.config import Settings
    from modelyard.context import AppContext

log = structlog.get_logger("modelyard.api")

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::"})
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Set by the SDK's in-process transport, which no network peer can reach: the scope is built in this process.
IN_PROCESS_SCOPE_KEY = "modelyard.in_process"
# How a caller makes authentication required; the wording follows the way tokens are created.
TOKEN_HINT = "create an API token first (`modelyard token create NAME --scope admin`)"
# The MLflow error code of each refusal, by status (the guard's own code stays in the document's `code`).
GUARD_ERROR_CODES = {403: "PERMISSION_DENIED", 413: "RESOURCE_EXHAUSTED", 421: "BAD_REQUEST"}
# Routes that stream a body into the artifact store as a file and never parse it: a JSON file is a file there.
FILE_UPLOAD_PREFIXES = ("/api/2.0/mlflow-artifacts/",)
# Approved Host header values remembered so the common case skips parsing; bounded, as callers choose the values.
HOST_CACHE_SIZE = 64


def authentication_enabled(context: AppContext) -> bool:
    """Whether callers must present a token: the one place the guard and `serve` ask it. The token store answers
    (configured tokens, or any token ever stored; from memory, asking the database every few seconds)."""
    return auth_service.authentication_enabled(context)


def is_loopback(host: str) -> bool:
    """`localhost`, `::1`, `[::1]` or any address in 127.0.0.0/8."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def serve_refusal(settings: Settings, authenticated: bool) -> str | None:
    """Why `serve` must not listen on `settings.host`, in one line; None when it may."""
    if authenticated or settings.insecure or is_loopback(settings.host):
        return None
    return (
        f"refusing to serve on {settings.host or 'every address'} without API tokens: anyone who reaches it could "
        f"change or delete everything; {TOKEN_HINT}, or pass --insecure to serve without authentication anyway"
    )


def install_guard(app: FastAPI, context: AppContext, health_path: str) -> None:
    """The guard, and CORS outside it when origins are configured (so a refusal still carries CORS headers)."""
    app.add_middleware(RequestGuard, context=context, health_path=health_path)
    origins = context.settings.cors_origins
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["x-request-id"],
        )


def host_name(header: str) -> str | None:
    """The name in a Host header (`name[:port]`, `[v6]:port`) without port or brackets, lower-case; None when
    the header is not of that form."""
    if header.startswith("["):
        end = header.find("]")
        name, rest = (header[1:end], header[end + 1 :]) if end > 0 else ("", "")
    else:
        name, colon, port = header.partition(":")
        rest = colon + port
    if not name or (rest and not (rest[0] == ":" and rest[1:].isdigit())):
        return None
    return name.lower()


def _configured_name(name: str) -> str:
    """A name from the settings as a Host header's name compares with it: `::1`, `[::1]:8000`, `Models.Example`."""
    bare = name.strip().lower()
    try:
        return ipaddress.ip_address(bare.strip("[]")).compressed
    except ValueError:
        return host_name(bare) or bare


class RequestGuard:
    """Refuses, as problem documents, what must not reach the routes; see the module docstring."""

    def __init__(self, app: ASGIApp, context: AppContext, health_path: str) -> None:
        self.app = app
        self.context = context
        # Health answers any Host (probes and load balancers use addresses) and shows nothing worth rebinding for.
        self.health_path = health_path
        settings = context.settings
        names = set(LOOPBACK_NAMES)
        if settings.host not in WILDCARD_ADDRESSES:
            names.add(_configured_name(settings.host))
        names.update(_configured_name(name) for name in settings.allowed_hosts if name != "*")
        self.host_names = frozenset(names)
        self.any_host_configured = "*" in settings.allowed_hosts
        self.cors_origins = frozenset(settings.cors_origins)
        self.json_limit = settings.max_json_body_bytes
        self.approved_hosts: set[bytes] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _EdgeHeaders(scope["headers"])
        refusal = None if scope.get(IN_PROCESS_SCOPE_KEY) else self._reach_refusal(scope, headers)
        if refusal is None and scope["method"] in STATE_CHANGING_METHODS:
            refusal = self._cross_origin_refusal(scope, headers)
        if (
            refusal is None
            and headers.content_type is not None
            and _is_json(headers.content_type)
            and not scope["path"].startswith(FILE_UPLOAD_PREFIXES)
        ):
            declared = _declared_length(headers.content_length)
            if declared is None:  # chunked (or a length that does not parse): count the bytes as they come
                await _JsonBodyLimit(self.app, self.json_limit)(scope, receive, send)
                return
            # A declared length binds the body: the server hands the app no byte past it (HTTP/1.1 framing;
            # HTTP/2 refuses a stream whose data and length differ), so nothing needs counting.
            if declared > self.json_limit:
                refusal = _json_too_large(scope, self.json_limit)
        if refusal is not None:
            await _refuse(scope, receive, send, refusal)
            return
        await self.app(scope, receive, send)

    # -- who reaches the server ----------------------------------------------------------------------------
    def _reach_refusal(self, scope: Scope, headers: _EdgeHeaders) -> _Refusal | None:
        host = headers.host or b""
        if host not in self.approved_hosts and not self._host_allowed(host) and scope["path"] != self.health_path:
            log.warning("api.guard.host_refused", host=host.decode("latin-1"), client=_client(scope))
            return (
                421,
                "host_not_allowed",
                "Host not allowed",
                f"this server does not answer to the host {host.decode('latin-1')!r}; add its name to "
                "MODELYARD_ALLOWED_HOSTS",
                {},
            )
        client = scope.get("client")
        # No client address: a Unix socket or a server that does not say, both local to the machine.
        if client and not _loopback_peer(client[0]) and not self._open_to_network():
            log.warning("api.guard.remote_refused", client=_client(scope))
            return (
                403,
                "loopback_only",
                "Loopback only",
                f"without API tokens this server serves only its own machine; {TOKEN_HINT}, or start it with "
                "--insecure (MODELYARD_INSECURE)",
                {},
            )
        return None

    def _host_allowed(self, host: bytes) -> bool:
        name = host_name(host.decode("latin-1"))
        if name is None:
            return False
        allowed = name in self.host_names or is_loopback(name)
        if not allowed and self.any_host_configured:
            # `*` only with authentication: without it, a rebound DNS name would reach an open API.
            allowed = self._open_to_network()
        if allowed and len(self.approved_hosts) < HOST_CACHE_SIZE and not self.any_host_configured:
            self.approved_hosts.add(host)
        return allowed

    def _open_to_network(self) -> bool:
        return self.context.settings.insecure or authentication_enabled(self.context)

    # -- CSRF ---------------------------------------------------------------------------------------------
    def _cross_origin_refusal(self, scope: Scope, headers: _EdgeHeaders) -> _Refusal | None:
        """A browser sends `Origin` with every cross-origin POST/PUT/PATCH/DELETE; the SDK, the CLI and curl
        send none and pass. A page elsewhere can send a form (urlencoded, multipart, text/plain) without asking;
        a JSON or bearer request from it needs a CORS preflight, which only MODELYARD_CORS_ORIGINS answer. So
        refusing every state change whose Origin is neither ours nor a CORS origin stops CSRF whatever the body.
        """
        origin = headers.origin
        if origin is not None:
            origin_text = origin.decode("latin-1").lower()
            if origin_text in self.cors_origins or _same_authority(origin_text, headers.host):
                return None
        elif headers.fetch_site not in (b"cross-site", b"same-site"):
            return None
        log.warning(
            "api.guard.cross_origin_refused",
            origin=origin.decode("latin-1") if origin is not None else None,
            method=scope["method"],
            path=scope["path"],
        )
        return (
            403,
            "cross_origin_refused",
            "Cross-origin request refused",
            "a page from another origin may not change anything here; list its origin in MODELYARD_CORS_ORIGINS "
            "to allow it",
            {},
        )


# status, code, title, detail, extra members of the problem document
_Refusal = tuple[int, str, str, str, dict[str, Any]]


class _EdgeHeaders:
    """The headers the guard reads, found in one pass over the request's headers."""

    __slots__ = ("content_length", "content_type", "fetch_site", "host", "origin")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.host: bytes | None = None
        self.origin: bytes | None = None
        self.fetch_site: bytes | None = None
        self.content_type: bytes | None = None
        self.content_length: bytes | None = None
        for name, value in raw:
            if name == b"host":
                self.host = value
            elif name == b"origin":
                self.origin = value
            elif name == b"sec-fetch-site":
                self.fetch_site = value
            elif name == b"content-type":
                self.content_type = value
            elif name == b"content-length":
                self.content_length = value


class _JsonBodyLimit:
    """Counts the JSON body as it streams in (chunked bodies declare no length) without holding it.

    Past the limit, `receive` raises; whatever the app then answers (FastAPI turns a failed body read into a
    400) is replaced by the 413, and nothing ran: a JSON endpoint starts only after its whole body is read.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.answered = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise _BodyTooLarge
            return message

        async def replacing_send(message: Message) -> None:
            if not self.exceeded:
                await send(message)
            elif not self.answered:
                self.answered = True
                await _refuse(scope, receive, send, _json_too_large(scope, self.limit))

        try:
            await self.app(scope, counting_receive, replacing_send)
        except _BodyTooLarge:
            if not self.answered:
                self.answered = True
                await _refuse(scope, receive, send, _json_too_large(scope, self.limit))


class _BodyTooLarge(Exception):
    pass


def _json_too_large(scope: Scope, limit: int) -> _Refusal:
    log.warning("api.guard.body_too_large", path=scope["path"], limit=limit, client=_client(scope))
    return (
        413,
        "payload_too_large",
        "Payload too large",
        f"the JSON body is larger than the limit of {limit} bytes (MODELYARD_MAX_JSON_BODY_BYTES); send files as "
        "uploads",
        {"limit_bytes": limit, "setting": "MODELYARD_MAX_JSON_BODY_BYTES"},
    )


async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: _Refusal) -> None:
    status, code, title, detail, extra = refusal
    request = Request(scope, receive)
    if is_mlflow_path(scope["path"]):  # MLflow's client reads its own error document
        response = mlflow_error(request, status, GUARD_ERROR_CODES.get(status, "BAD_REQUEST"), detail, code, **extra)
    else:
        response = problem(request, status, code, title, detail, **extra)
    await response(scope, receive, send)


def _declared_length(content_length: bytes | None) -> int | None:
    if content_length is None:
        return None
    try:
        return int(content_length)
    except ValueError:
        return None


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.partition(b";")[0].strip().lower()
    if media_type == b"application/json":
        return True
    return media_type.startswith(b"application/") and media_type.endswith(b"+json")


def _same_authority(origin: str, host: bytes | None) -> bool:
    """Origin `scheme://host[:port]` against the Host header. The scheme is not compared: no one but this server
    (or the TLS proxy in front of it, whose scheme the app may not see) serves pages on its host and port."""
    if host is None:
        return False
    _scheme, separator, authority = origin.partition("://")
    return bool(separator) and authority == host.decode("latin-1").lower()


def _loopback_peer(address: str) -> bool:
    return address.startswith("127.") or address == "::1" or address.startswith("::ffff:127.")


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None
