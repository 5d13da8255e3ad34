"""The web app at ``/``: hashed assets, the widget, the SPA fallback and ``/docs``.

- ``/assets/*`` are content-hashed by the build: cached for a year, immutable.
- ``index.html`` (the console and, later, the messenger) answers every client
  route, ``no-cache`` so a deployment is seen at once, and may not be framed.
- ``/widget/`` is the customer widget's page, framed by the pages of
  ``GOFTOGU_WIDGET_ORIGINS`` only (``Content-Security-Policy: frame-ancestors``);
  ``/widget.js`` is the loader those pages include.
- ``/docs`` is Swagger UI from the build's own copy: nothing loads from another host.

An unknown path under ``/api``, ``/socket.io``, the health endpoints or
``/assets``, or any path that looks like a file, keeps the JSON 404 error shape.
"""

from __future__ import annotations

import html
import json
import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from goftogu.errors import NotFound
from goftogu.text import Line
from goftogu.webapp import PACKAGED_DIST

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# First path segments that never fall back to the app.
RESERVED = frozenset(
    {"api", "socket.io", "healthz", "readyz", "metrics", "docs", "openapi.json", "assets"}
)
CONFIG_PLACEHOLDER = "__GOFTOGU_CONFIG__"


class WebAppNotBuilt(NotFound):
    code = "web_app_not_built"
    default_message = "The web app is not built: run `make run` (or `npm run build` in web/)."


class WebApp:
    """Serves one build directory (``dist``) for one gateway."""

    def __init__(
        self,
        dist: Path | None,
        widget_origins: list[str],
        max_message_length: int,
        *,
        max_attachment_bytes: int = 20 * 1024 * 1024,
        push_configured: bool = False,
    ) -> None:
        self.dist = dist or PACKAGED_DIST
        self.widget_origins = widget_origins
        # What the pages learn of the server (<meta name="goftogu-config">).
        config = {
            "maxMessageLength": max_message_length,
            "widgetOrigins": widget_origins,
            "maxAttachmentBytes": max_attachment_bytes,
            "pushConfigured": push_configured,
        }
        self._config = html.escape(json.dumps(config), quote=True)

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    def install(self, api: FastAPI) -> None:
        for path, endpoint in (
            ("/docs", self.docs),
            ("/assets/{name:path}", self.asset),
            ("/widget.js", self.loader),
            ("/widget/", self.widget_page),
            ("/widget", self.widget_redirect),
        ):
            api.add_api_route(path, endpoint, methods=["GET", "HEAD"], include_in_schema=False)
        not_found = api.router.not_found

        async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
            """No route matched: a client route of the app gets ``index.html``, a
            file at the build's root itself; anything else the JSON 404."""
            response = self._fallback(scope) if scope["type"] == "http" else None
            if response is None:
                await not_found(scope, receive, send)
            else:
                await response(scope, receive, send)

        api.router.default = fallback

    # --- routes -------------------------------------------------------------------

    async def asset(self, name: Line, request: Request) -> FileResponse:
        return _static(self._file("assets", name), IMMUTABLE, request)

    async def loader(self, request: Request) -> FileResponse:
        return _static(self._file("widget.js"), REVALIDATE, request)

    async def widget_page(self) -> HTMLResponse:
        """The widget's own page, on our origin (its tokens stay here), framed only by
        the allowed host pages; it learns them to check their postMessages."""
        page = self._page(self._file("widget", "index.html"))
        ancestors = " ".join(["'self'", *self.widget_origins])
        return HTMLResponse(
            page,
            headers={
                "Cache-Control": REVALIDATE,
                "Content-Security-Policy": f"frame-ancestors {ancestors}",
            },
        )

    async def widget_redirect(self, request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/widget/{query}", status_code=308)

    async def docs(self) -> HTMLResponse:
        """Swagger UI from the build's copy (``docs.json`` names its hashed files)."""
        manifest = self.dist / "docs.json"
        if not manifest.is_file():
            return HTMLResponse(
                "<!doctype html><title>goftogu API</title><p>The API explorer comes with the "
                "web build (<code>make run</code> builds it). The OpenAPI document is at "
                '<a href="/openapi.json">/openapi.json</a>.</p>'
            )
        files = json.loads(manifest.read_text(encoding="utf-8"))
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="goftogu API",
            swagger_js_url=files["js"],
            swagger_css_url=files["css"],
            swagger_favicon_url=files.get("favicon", "/favicon.svg"),
        )

    # --- helpers ------------------------------------------------------------------

    def _index(self) -> HTMLResponse:
        if not self.built:
            raise WebAppNotBuilt()
        return HTMLResponse(
            self._page(self.dist / "index.html"),
            headers={
                "Cache-Control": REVALIDATE,
                "Content-Security-Policy": "frame-ancestors 'none'",
            },
        )

    def _page(self, file: Path) -> str:
        return file.read_text(encoding="utf-8").replace(CONFIG_PLACEHOLDER, self._config)

    def _fallback(self, scope: Scope) -> Response | None:
        if scope["method"] not in ("GET", "HEAD"):
            return None
        segments = [part for part in scope["path"].split("/") if part]
        if segments and segments[0] in RESERVED:
            return None
        if segments and "." in segments[-1]:
            # favicon.svg, robots.txt: files at the build's root; other paths that
            # look like files are not client routes.
            if len(segments) != 1 or segments[0] == "index.html":
                return None
            file = self.dist / segments[0]
            return (
                FileResponse(file, headers={"Cache-Control": REVALIDATE})
                if file.is_file()
                else None
            )
        return self._index()

    def _file(self, *parts: str) -> Path:
        """A file of the build inside the folder its first parts name (``assets/``),
        never outside it; 404 ``not_found`` otherwise."""
        root = self.dist.resolve()
        folder = root.joinpath(*parts[:-1])
        candidate = root.joinpath(*parts).resolve()
        if folder not in candidate.parents or not candidate.is_file():
            raise NotFound("No such resource.")
        return candidate


def _static(file: Path, cache: str, request: Request) -> FileResponse:
    """The file, or its gzip copy from the build when the browser takes gzip."""
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    packed = file.with_name(file.name + ".gz")
    if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
        media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        headers["Content-Encoding"] = "gzip"
        return FileResponse(packed, media_type=media_type, headers=headers)
    return FileResponse(file, headers=headers)
