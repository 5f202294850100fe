"""``oomreplay serve``: the replay TUI in a browser, through textual-serve, for a remote audience.

textual-serve runs a shell command per browser tab with Textual's web driver and relays it over a websocket. The
command is ``python -m oomreplay serve-app TRACE``, not ``replay``: ``replay`` refuses to start without a terminal
(its stdin and stdout are pipes under textual-serve), and ``serve-app`` is the same app for that driver only.

Anyone who can reach the port can drive the replay (and read the trace), so the server listens on loopback unless
told otherwise: a non-loopback host is refused without ``--allow-remote``, and with it a warning is printed.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path

from .serve_access import allowed_hosts

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: textual-serve's web driver; ``serve-app`` runs only under it.
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"


class ServeError(ValueError):
    """A refused ``serve``: one line for the user."""


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback one (``localhost``, 127.0.0.0/8, ::1). A name that does
    not resolve is not loopback: better refused than exposed."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def check_host(host: str, allow_remote: bool) -> str | None:
    """None for a loopback host; the warning to print for another one when allowed; ``ServeError`` otherwise."""
    if is_loopback(host):
        return None
    if not allow_remote:
        raise ServeError(f"--host {host} is not a loopback address: anyone who reaches it can drive the replay; "
                         f"add --allow-remote to serve it anyway")
    return (f"serving on {host}, which is not loopback: anyone who can reach it can drive the replay and read the "
            f"trace, unencrypted")


def app_command(trace_path: str | os.PathLike, seq: int | None = None, theme: str | None = None) -> str:
    """The shell command textual-serve runs for each browser tab (it uses a shell, so every part is quoted)."""
    args = [sys.executable, "-m", "oomreplay", "serve-app", str(Path(trace_path).resolve())]
    if seq is not None:
        args += ["--seq", str(seq)]
    if theme is not None:
        args += ["--theme", theme]
    return shlex.join(args)


def serve(trace_path: str | os.PathLike, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          seq: int | None = None, theme: str | None = None, public_url: str | None = None) -> None:
    """Serve until SIGINT or SIGTERM (textual-serve stops on both). Imported here: textual-serve pulls in aiohttp."""
    from .serve_server import GuardedServer

    url_host = f"[{host.strip('[]')}]" if ":" in host else host
    server = GuardedServer(app_command(trace_path, seq, theme), host=host, port=port,
                           title=f"oomreplay {Path(trace_path).name}",
                           public_url=public_url or f"http://{url_host}:{port}",
                           hosts=allowed_hosts(host, port, public_url, is_loopback(host)), asked_public_url=public_url)
    server.serve()


def under_web_driver() -> bool:
    """Whether this process was started by textual-serve (which sets the driver in the environment)."""
    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER
