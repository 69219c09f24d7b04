"""The app's protections, as ASGI middleware and one check for forms.

- :class:`AccessToken`: off loopback, every request needs the token printed at start-up
  (``?token=`` once, which sets a cookie; or the cookie; or ``Authorization: Bearer``);
- :class:`BodyLimit`: a request body over the limit is refused (413) by its declared
  length or as it streams in;
- :class:`Headers`: a content security policy that allows only the app's own scripts,
  styles and connections (nothing from a network), no framing, no referrer to other
  sites;
- :func:`check_csrf`: every form post carries the page's CSRF token (form field or
  header), and a post from another origin is refused.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers as RequestHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "ceasefire_token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, without port or brackets) is this machine's
    loopback: ``localhost``, 127.0.0.0/8 or ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


class AccessToken:
    """Refuse (401) any request without ``token``; ``?token=`` sets it as a cookie."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    def _matches(self, given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = RequestHeaders(scope=scope)
        cookie = SimpleCookie()
        cookie.load(headers.get("cookie", ""))
        bearer = headers.get("authorization", "")
        if self._matches(cookie[COOKIE].value if COOKIE in cookie else None) or (
            bearer.startswith("Bearer ") and self._matches(bearer[7:])
        ):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        if self._matches(dict(query).get("token")):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), 303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        refusal = PlainTextResponse(
            "This server needs its access token: open the address `ceasefire serve` printed "
            "when it started (it ends in ?token=...).\n",
            status_code=401,
        )
        await refusal(scope, receive, send)


class LoopbackHosts:
    """On loopback, answer only requests for a loopback host name (400 otherwise): a page
    elsewhere cannot reach the app through a DNS name rebound to 127.0.0.1."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = RequestHeaders(scope=scope).get("host", "")
            name = host[1 : host.find("]")] if host.startswith("[") else host.split(":")[0]
            if not is_loopback(name):
                refusal = PlainTextResponse(
                    "Refused: this app answers only to 127.0.0.1 or localhost.\n", 400
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse (413) a request whose body is over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _refusal(self) -> PlainTextResponse:
        return PlainTextResponse(
            f"Request refused: its body is over {self.limit} bytes.\n", status_code=413
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = RequestHeaders(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refusal()(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except _TooLarge:
            if not started:
                await self._refusal()(scope, receive, send)


class _TooLarge(Exception):
    pass


class Headers:
    """Add the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def check_csrf(request: Request, form: Mapping[str, object], token: str) -> None:
    """Refuse (403) a post without the page's CSRF token, or from another origin."""
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise HTTPException(403, "Refused: the form was sent from another site.")
    given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    if not isinstance(given, str) or not secrets.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            403, "Refused: the form's security token is missing or stale; reload the page."
        )
