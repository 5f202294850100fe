"""Who may talk to ``oomreplay serve``: a browser tab of the page it served, nobody else.

Binding to loopback keeps other machines out, not other web pages: a page on any site, open in the user's browser
while ``serve`` runs, could open ``ws://127.0.0.1:PORT/ws`` (cross-site WebSocket hijacking), drive the replay
and read the trace; a name of the attacker's that resolves to 127.0.0.1 could fetch the page itself (DNS
rebinding). So every request must name, in ``Host``, an address the server is served at (on loopback: the
loopback names and ``--public-url``), and the WebSocket's ``Origin`` must be the page's own origin. Browsers
always send ``Origin`` on a WebSocket handshake and scripts cannot forge it; both refusals are a 403.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(host: str, port: int, public_url: str | None, loopback: bool) -> frozenset[str] | None:
    """The ``Host`` headers accepted (lowercase ``name:port``), or None for any (a remote bind is reached by
    names the server cannot know; the Origin check still holds there)."""
    if not loopback:
        return None
    bracketed = f"[{host.strip('[]')}]" if ":" in host else host
    names = {f"{name}:{port}" for name in (*LOOPBACK_NAMES, bracketed)}
    if port == 80:
        names |= set(LOOPBACK_NAMES) | {bracketed}
    if public_url:
        names.add(urlsplit(public_url).netloc)
    return frozenset(n.lower() for n in names)


def refusal(path: str, host: str | None, origin: str | None, hosts: frozenset[str] | None,
            public_url: str | None) -> str | None:
    """Why a request is refused, or None to serve it. ``path`` is the request's, ``host`` and ``origin`` its
    headers."""
    if host is None or (hosts is not None and host.lower() not in hosts):
        return f"Host {host!r} is not an address this server is served at"
    if path != "/ws":
        return None
    if origin is None:
        return "a WebSocket without an Origin: only the served page may connect"
    parts = urlsplit(origin)
    same = parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()
    public = public_url is not None and origin.lower().rstrip("/") == _origin_of(public_url)
    return None if same or public else f"Origin {origin!r} is not the served page's"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
