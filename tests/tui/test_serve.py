"""``oomreplay serve``: loopback by default, a remote host only when asked (with a warning), the page answers over
HTTP, the server stops cleanly on SIGINT and SIGTERM, and a headless browser sees the replay drawn in its
terminal (skipped where no Chromium is installed)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from oomreplay.ingest import convert
from oomreplay.tui.serve import ServeError, app_command, check_host, is_loopback

from ..commands import cli
from ..conftest import SEED_LOG

pytest.importorskip("textual_serve", reason="textual-serve is a dependency of oomreplay serve; install the project")

ROOT = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "seed's trace.oomtrace"  # a quote: the command goes through a shell
    convert([str(SEED_LOG)], path)
    return path


class Server:
    """``oomreplay serve`` in a child process, ready once it answers GET /."""

    def __init__(self, trace: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen([sys.executable, "-m", "oomreplay", "serve", str(trace), "--port",
                                      str(self.port), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.page = self._wait()

    def _wait(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    assert r.status == 200
                    return r.read().decode("utf-8")
            except OSError:
                time.sleep(0.1)
        raise AssertionError("serve never answered")

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> tuple[str, str]:
        return self.proc.stdout.read(), self.proc.stderr.read()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_hosts_are_allowed_without_a_flag(host: str):
    assert is_loopback(host) and check_host(host, allow_remote=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "8.8.8.8", "no-such-host.invalid"])
def test_other_hosts_need_allow_remote_and_get_a_warning(host: str):
    with pytest.raises(ServeError, match="not a loopback address"):
        check_host(host, allow_remote=False)
    warning = check_host(host, allow_remote=True)
    assert warning and "not loopback" in warning and host in warning


def test_the_command_is_quoted_for_the_shell(trace: Path):
    cmd = app_command(trace, seq=3, theme="light")
    out = subprocess.run(["sh", "-c", f"printf '%s\\n' {cmd}"], capture_output=True, text=True).stdout.splitlines()
    assert out == [sys.executable, "-m", "oomreplay", "serve-app", str(trace.resolve()),
                   "--seq", "3", "--theme", "light"]


def test_remote_host_is_refused_without_the_flag(trace: Path):
    r = cli("serve", str(trace), "--host", "0.0.0.0", "--port", str(free_port()))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "--host 0.0.0.0 is not a loopback address" in r.stderr and "--allow-remote" in r.stderr


@pytest.mark.parametrize("args, message", [(["--theme", "no-such-theme"], "theme"), ([], "no such file")])
def test_bad_input_is_refused_before_serving(trace: Path, tmp_path: Path, args: list[str], message: str):
    target = trace if args else tmp_path / "missing.oomtrace"
    r = cli("serve", str(target), "--port", str(free_port()), *args)
    assert r.returncode == 2 and message in r.stderr.lower() and r.stderr.count("\n") == 1


def test_serve_app_refuses_to_run_outside_textual_serve(trace: Path):
    r = cli("serve-app", str(trace))
    assert r.returncode == 2 and "started by `oomreplay serve`" in r.stderr


def test_serves_the_page_on_loopback_and_stops_on_sigint(trace: Path):
    server = Server(trace)
    try:
        assert '<div\n      id="terminal"' in server.page or 'id="terminal"' in server.page
        assert f'data-session-websocket-url="ws://127.0.0.1:{server.port}/ws"' in server.page
        assert "oomreplay seed&#39;s trace.oomtrace" in server.page or "oomreplay seed's trace.oomtrace" in server.page
        with urllib.request.urlopen(server.url + "static/js/textual.js", timeout=5) as r:
            assert r.status == 200 and len(r.read()) > 10_000
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True)
        if listening.returncode == 0 and listening.stdout.strip():
            assert all(re.search(r"127\.0\.0\.1:\d+", line) for line in listening.stdout.splitlines())
    finally:
        code = server.stop(signal.SIGINT)
    assert code == 0
    out, err = server.output()
    assert "Serving" in out and "Traceback" not in out + err
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url, timeout=2)


def test_stops_on_sigterm_and_warns_when_remote(trace: Path):
    server = Server(trace, "--host", "0.0.0.0", "--allow-remote")
    code = server.stop(signal.SIGTERM)
    out, err = server.output()
    assert code == 0, err
    assert "warning: serving on 0.0.0.0, which is not loopback" in err


# -- a real browser --------------------------------------------------------------------------------------------------

def _browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


#: Draws of the xterm canvas: how many colours it holds (1 while blank) and how many pixels differ from the corner.
CANVAS_PROBE = """(() => {
  const c = document.querySelector('.xterm-screen canvas.xterm-text-layer') ||
            document.querySelector('.xterm-screen canvas');
  if (!c) return JSON.stringify(null);
  const g = c.getContext('2d');
  if (!g) return JSON.stringify({webgl: true});
  const d = g.getImageData(0, 0, c.width, c.height).data, seen = new Set();
  let changed = 0;
  const bg = (d[0] << 16) | (d[1] << 8) | d[2];
  for (let i = 0; i < d.length; i += 4) {
    const px = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    seen.add(px);
    if (px !== bg) changed++;
  }
  return JSON.stringify({colours: seen.size, changed: changed, pixels: d.length / 4});
})()"""


async def _probe_in_browser(browser: str, url: str, profile: Path) -> list[dict | None]:
    """Open ``url`` in headless Chromium over the DevTools protocol and probe the terminal canvas for up to 30 s."""
    import aiohttp  # textual-serve's own dependency

    proc = await asyncio.create_subprocess_exec(
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
        f"--user-data-dir={profile}", "--window-size=1400,900", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    probes: list[dict | None] = []
    try:
        ws_url = None
        while ws_url is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode(errors="replace")
            if not line:
                raise AssertionError("the browser exited before it listened")
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            ws_url = m[1] if m else None
        devtools = re.search(r"ws://([^/]+)/", ws_url)[1]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{devtools}/json/list") as r:
                page = next(t for t in await r.json() if t["type"] == "page")
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                ids = iter(range(1, 10_000))

                async def call(method: str, **params) -> dict:
                    mid = next(ids)
                    await ws.send_json({"id": mid, "method": method, "params": params})
                    async for msg in ws:
                        data = json.loads(msg.data)
                        if data.get("id") == mid:
                            return data
                    raise AssertionError("the DevTools connection closed")

                await call("Page.navigate", url=url)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.3)
                    result = await call("Runtime.evaluate", expression=CANVAS_PROBE, returnByValue=True)
                    probe = json.loads(result["result"]["result"].get("value") or "null")
                    probes.append(probe)
                    if probe and probe.get("colours", 0) > 50:
                        break
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
    return probes


def test_a_headless_browser_sees_the_replay_drawn(trace: Path, tmp_path: Path):
    browser = _browser()
    if browser is None:
        pytest.skip(f"no headless browser on this machine (looked for {', '.join(BROWSERS)}; "
                    "install Debian's chromium package to run this test)")
    server = Server(trace)
    try:
        probes = asyncio.run(_probe_in_browser(browser, server.url, tmp_path / "profile"))
    finally:
        assert server.stop() == 0
    assert probes, "the page was never probed"
    last = probes[-1]
    assert last is not None and not last.get("webgl"), probes[-3:]
    # A blank terminal is one colour; the replay's panels, borders and text make thousands.
    assert last["colours"] > 50 and last["changed"] > last["pixels"] // 20, probes[-3:]
    out, _ = server.output()
    assert "GET /ws" in out  # the page opened its websocket, which started the replay


# -- who may connect -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, host, origin, refused", [
    ("/", "127.0.0.1:8000", None, False),
    ("/", "localhost:8000", None, False),
    ("/", "evil.example:8000", None, True),  # DNS rebinding: a name of the attacker's resolving to loopback
    ("/", None, None, True),
    ("/ws", "127.0.0.1:8000", "http://127.0.0.1:8000", False),
    ("/ws", "127.0.0.1:8000", "http://evil.example", True),
    ("/ws", "127.0.0.1:8000", "http://127.0.0.1:8001", True),  # another local server's page
    ("/ws", "127.0.0.1:8000", "null", True),  # a sandboxed iframe or a file: page
    ("/ws", "127.0.0.1:8000", None, True),
    ("/ws", "replay.example.org", "https://replay.example.org", False),  # behind --public-url
])
def test_only_the_served_page_may_connect(path: str, host: str | None, origin: str | None, refused: bool):
    from oomreplay.tui.serve_access import allowed_hosts, refusal

    hosts = allowed_hosts("127.0.0.1", 8000, "https://replay.example.org", loopback=True)
    assert (refusal(path, host, origin, hosts, "https://replay.example.org") is not None) == refused


def test_a_remote_bind_takes_any_host_but_only_its_own_origin():
    from oomreplay.tui.serve_access import allowed_hosts, refusal

    hosts = allowed_hosts("0.0.0.0", 8000, None, loopback=False)
    assert refusal("/", "10.1.2.3:8000", None, hosts, None) is None
    assert refusal("/ws", "10.1.2.3:8000", "http://10.1.2.3:8000", hosts, None) is None
    assert refusal("/ws", "10.1.2.3:8000", "http://evil.example", hosts, None) is not None


def test_a_foreign_page_cannot_open_the_websocket(trace: Path):
    """A real WebSocket handshake: refused with 403 from another Origin or under another Host name, accepted from
    the served page's own origin; and the page loads nothing from another host."""
    import aiohttp

    server = Server(trace)

    async def handshake(origin: str, host: str | None = None) -> int:
        headers = {"Origin": origin} | ({"Host": host} if host else {})
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"ws://127.0.0.1:{server.port}/ws", headers=headers) as ws:
                    await ws.close()
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status

    try:
        own = f"http://127.0.0.1:{server.port}"
        assert asyncio.run(handshake("https://evil.example")) == 403
        assert asyncio.run(handshake(f"http://evil.example:{server.port}", f"evil.example:{server.port}")) == 403
        assert asyncio.run(handshake(own)) == 101
        request = urllib.request.Request(server.url, headers={"Host": f"evil.example:{server.port}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403
        loaded = set(re.findall(r"""(?:href|src)=["'](https?://[^/"']+)""", server.page))
        assert loaded == {own}, f"the page loads from {loaded - {own}}"
    finally:
        server.stop()
