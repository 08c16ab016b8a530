"""Debian's headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages ended by a NUL byte on file descriptors 3 and 4), so a test sees what a reader's browser does
with a page: console messages, uncaught errors, every network request, each figure's rendered size, the
text as laid out, and a screenshot. No port, no websocket, no browser download: only the `chromium`
package that scripts/install-system-deps.sh installs.

The browser runs in its own process group with a throw-away profile; `launch` kills the whole group when
the block ends, also when a test fails or the browser hangs (every call has a timeout).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

BINARY = "chromium"
INSTALL = ("Debian's chromium package is needed for the report's browser tests: run "
           "scripts/install-system-deps.sh as root (scripts/test does it on every run)")
TIMEOUT = 20.0  # seconds for any one reply; a cold start under load takes about 2
FLAGS = ["--headless", "--no-sandbox", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
         "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-default-apps", "--mute-audio", "--hide-scrollbars"]
CONSOLE_ERRORS = ("error", "assert")

FIGURES_JS = """JSON.stringify([...document.querySelectorAll('svg, img')]
  .filter(e => !(e.parentElement && e.parentElement.closest('svg')))
  .map(e => { const box = e.getBoundingClientRect();
              const inner = e.tagName.toLowerCase() === 'svg' ? e.getBBox() : {width: e.naturalWidth, height: e.naturalHeight};
              return {tag: e.tagName.toLowerCase(), width: box.width, height: box.height,
                      content_width: inner.width, content_height: inner.height,
                      loaded: e.tagName.toLowerCase() !== 'img' || e.complete,
                      caption: (e.closest('figure') && e.closest('figure').querySelector('figcaption')
                                ? e.closest('figure').querySelector('figcaption').textContent : '').slice(0, 80)}; }))"""


def missing() -> str:
    """Why no browser can be started here ('' when it can)."""
    return "" if shutil.which(BINARY) else f"{BINARY} not found on PATH. {INSTALL}"


class Chromium:
    """One browser process and its protocol pipe: `call` a method and get its result; events are kept."""

    def __init__(self, profile: Path, log: Path):
        commands, replies = os.pipe(), os.pipe()  # (read, write) each; Chromium reads fd 3, writes fd 4
        self.log = log
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen(
                [shutil.which(BINARY) or BINARY, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, start_new_session=True, close_fds=False,
                preexec_fn=lambda: _as_fds_3_and_4(commands[0], replies[1]))
        os.close(commands[0])
        os.close(replies[1])
        self._out = os.fdopen(commands[1], "wb", buffering=0)
        self._in = os.fdopen(replies[0], "rb", buffering=0)
        self._inbox: queue.Queue = queue.Queue()
        self.events: list[dict] = []
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        pending = b""
        while chunk := self._in.read(1 << 16):
            pending += chunk
            *messages, pending = pending.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))
        self._inbox.put(None)  # the browser closed its end (it exited)

    def _take(self, timeout: float) -> dict:
        try:
            message = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"chromium did not answer within {timeout:g} s; {self.tail()}") from None
        if message is None:
            self._inbox.put(None)
            raise RuntimeError(f"chromium exited (code {self.process.poll()}); {self.tail()}")
        return message

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = TIMEOUT) -> dict:
        self._next += 1
        message: dict = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._take(timeout)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = TIMEOUT) -> dict:
        """The first event `method` of `session`, kept or still to come."""
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event["params"]
            seen = len(self.events)
            self.events.append(self._take(timeout))

    def tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"its log ({self.log}) ends: " + " | ".join(lines[-5:])

    def kill(self) -> None:
        """Kill the browser's whole process group (renderers, GPU and zygote processes too) and reap it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self._out.close()
        deadline = time.monotonic() + 10
        while (left := live_in_group(self.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)  # children killed, not yet reaped by init
        assert not left, f"chromium processes outlived the kill of their group: {left}"


def live_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies excluded)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended while we looked
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _as_fds_3_and_4(read_end: int, write_end: int) -> None:
    """In the child: the pipe ends as fds 3 and 4, inheritable (copy first: an end may already be 3 or 4)."""
    read_copy, write_copy = os.dup(read_end), os.dup(write_end)
    os.dup2(read_copy, 3)
    os.dup2(write_copy, 4)


@contextmanager
def launch(folder: Path) -> Iterator[Chromium]:
    """A headless Chromium with its profile and log in `folder`; killed (with its children) on leaving."""
    if why := missing():
        raise AssertionError(why)
    browser = Chromium(folder / "profile", folder / "chromium.log")
    try:
        browser.call("Browser.getVersion")
        yield browser
    finally:
        browser.kill()


@dataclass(frozen=True)
class Probe:
    """An element to read back: the first matching `selector` whose attributes (its own or its nearest
    ancestor's that has one) equal `attributes`; names in them stay data, never CSS syntax."""

    selector: str
    attributes: dict[str, str] = field(default_factory=dict)

    def script(self) -> str:
        return (f"(() => {{ const want = {json.dumps(self.attributes)};"
                f" const e = [...document.querySelectorAll({json.dumps(self.selector)})].find(e =>"
                " Object.entries(want).every(([k, v]) => { const o = e.closest('[' + k + ']');"
                " return o !== null && o.getAttribute(k) === v; }));"
                " return e ? e.innerText : null; })()")


@dataclass
class Visit:
    """What a page did when it was opened at a given width."""

    url: str
    console_errors: list[str]
    requests: list[str]
    figures: list[dict]
    text: str
    page_width: float
    screenshot: bytes
    probed: list[str | None]

    def foreign_requests(self) -> list[str]:
        """Requests for anything but the page itself and data: URIs."""
        return [url for url in self.requests if url != self.url and not url.startswith("data:")]


def visit(browser: Chromium, page: Path, probes: Sequence[Probe] = (), width: int = 1280, height: int = 800) -> Visit:
    """Open `page` in a new tab `width` CSS pixels wide, wait for its load event, and read it back: `probes`
    are read as the rendered text of the first element each finds (None when none matches)."""
    url = page.resolve().as_uri()
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", session=session)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
    navigation = browser.call("Page.navigate", {"url": url}, session=session)
    if navigation.get("errorText"):
        raise AssertionError(f"{url} did not load: {navigation['errorText']}")
    browser.wait_for("Page.loadEventFired", session)
    figures = json.loads(_evaluate(browser, session, FIGURES_JS))
    text = _evaluate(browser, session, "document.body.innerText")
    page_width = _evaluate(browser, session, "document.documentElement.scrollWidth")
    probed = [_evaluate(browser, session, probe.script()) for probe in probes]
    size = browser.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
    shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                  "clip": {"x": 0, "y": 0, "width": width,
                                                           "height": size["height"], "scale": 1}}, session=session)
    own = [e for e in browser.events if e.get("sessionId") == session]
    return Visit(url=url, console_errors=_console_errors(own), figures=figures, text=text, page_width=page_width,
                 requests=[e["params"]["request"]["url"] for e in own if e["method"] == "Network.requestWillBeSent"],
                 screenshot=base64.b64decode(shot["data"]), probed=probed)


def _evaluate(browser: Chromium, session: str, expression: str):
    result = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
    if "exceptionDetails" in result:
        raise AssertionError(f"evaluating in the page failed: {result['exceptionDetails']}")
    return result["result"]["value"]


def _console_errors(events: list[dict]) -> list[str]:
    """Console errors and assertions, uncaught exceptions, and the browser's own error log (failed loads,
    blocked content), each as one line of text."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in CONSOLE_ERRORS:
            found.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(f"exception: {details.get('exception', {}).get('description') or details.get('text', '')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log: {params['entry'].get('text', '')} {params['entry'].get('url', '')}".strip())
    return found
