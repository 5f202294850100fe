"""textual-serve's server with ``serve_access``'s checks in front of every request, and the page's one
third-party resource (a web font from Google's servers) left out: the replay's page loads nothing from elsewhere.

Imported only by ``serve.serve``: textual-serve pulls in aiohttp, which nothing else needs."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from .serve_access import refusal

#: ``<link … href="https://…">`` elements of textual-serve's page template: the page is served without them
_REMOTE_LINK = re.compile(r'<link\b[^>]*\bhref="https?://[^"]*"[^>]*/?>\s*', re.S)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class GuardedServer(Server):
    def __init__(self, *args: Any, hosts: frozenset[str] | None, asked_public_url: str | None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hosts = hosts
        self._asked_public_url = asked_public_url

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        env = app[aiohttp_jinja2.APP_KEY]
        env.loader = _local_only(env.loader)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        why = refusal(request.path, request.headers.get("Host"), request.headers.get("Origin"), self._hosts,
                      self._asked_public_url)
        if why is not None:
            self.console.print(f"refused {request.method} {request.path}: {why}", markup=False, highlight=False)
            raise web.HTTPForbidden(text=f"{why}\n")
        return await handler(request)


def _local_only(loader: jinja2.BaseLoader) -> jinja2.BaseLoader:
    """The same templates without links to other hosts."""
    def load(name: str) -> tuple[str, str | None, Callable[[], bool]]:
        source, filename, uptodate = loader.get_source(jinja2.Environment(), name)
        return _REMOTE_LINK.sub("", source), filename, uptodate or (lambda: True)
    return jinja2.FunctionLoader(load)
