"""A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
JSON messages ended by NUL on file descriptors 3 and 4), with nothing but the standard library.

    with Browser.start() as b:                 # Browser.find() says why when there is no Chromium
        page = b.open("file:///tmp/report.html", wait_for="document.body.dataset.charts === 'drawn'")
        page.evaluate("document.querySelectorAll('svg.main-svg').length")
        page.console      # console messages, exceptions and browser log entries, in order
        page.requests     # every URL the page asked for (the page itself included)
        page.dialogs      # alert()/confirm() dialogs the page opened

Used by the report's test to check that the page draws, shows log text as text, and asks for
nothing outside itself.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserMissing(RuntimeError):
    """No usable Chromium here (the message says why, for pytest.skip)."""


def find() -> str:
    """The Chromium binary: $OLLALOG_CHROMIUM, else the first of CANDIDATES on PATH."""
    given = os.environ.get("OLLALOG_CHROMIUM")
    if given:
        if shutil.which(given):
            return shutil.which(given)
        raise BrowserMissing(f"OLLALOG_CHROMIUM={given} is not an executable")
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserMissing("no Chromium on PATH (Debian: apt-get install chromium; or set OLLALOG_CHROMIUM)")


@dataclass
class Page:
    browser: "Browser"
    session: str
    console: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        return self.browser.call(method, session=self.session, timeout=timeout, **params)

    def evaluate(self, expr: str, timeout: float = 30):
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails'].get('text')} "
                               f"{r['exceptionDetails'].get('exception', {}).get('description', '')}")
        return r["result"].get("value")

    def on_event(self, msg: dict) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append({"level": p.get("type"), "text": text})
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.console.append({"level": "error", "text": "uncaught: " + (d.get("exception", {}).get("description")
                                                                           or d.get("text", ""))})
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append({"level": e.get("level"), "text": f"[{e.get('source')}] {e.get('text')}"})
        elif method == "Network.requestWillBeSent":
            self.requests.append(p.get("request", {}).get("url"))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(p.get("message"))
            self.browser.send("Page.handleJavaScriptDialog", session=self.session, accept=True)


class Browser:
    def __init__(self, proc, profile: str):
        self.proc, self.profile = proc, profile
        self.ids = 0
        self.buf = b""
        self.pages: dict[str, Page] = {}

    @classmethod
    def start(cls, binary: Optional[str] = None) -> "Browser":
        binary = binary or find()
        profile = tempfile.mkdtemp(prefix="ollalog-chromium-")
        # fds 3 and 4 of the child: it reads commands from 3 and writes answers and events to 4
        cmd_r, cmd_w = os.pipe()
        out_r, out_w = os.pipe()
        args = [binary, "--headless", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--mute-audio", f"--user-data-dir={profile}", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")     # Chromium refuses to run its sandbox as root

        def fds():
            import fcntl
            a, b = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, preexec_fn=fds, close_fds=False)
        except OSError as e:
            raise BrowserMissing(f"{binary} does not start: {e}") from None
        finally:
            os.close(cmd_r)
            os.close(out_w)
        b = cls(proc, profile)
        b.w, b.r = cmd_w, out_r
        try:
            b.call("Browser.getVersion", timeout=30)
        except (TimeoutError, OSError, RuntimeError) as e:
            b.close()
            raise BrowserMissing(f"{binary} does not answer on the DevTools pipe: {e}") from None
        return b

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("Browser.close")
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)
        for fd in (getattr(self, "w", None), getattr(self, "r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        shutil.rmtree(self.profile, ignore_errors=True)

    # -- the protocol ---------------------------------------------------------------------------

    def send(self, method: str, session: Optional[str] = None, **params) -> int:
        self.ids += 1
        msg = {"id": self.ids, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.w, data)
            data = data[n:]
        return self.ids

    def _read(self, timeout: float) -> dict:
        import select
        end = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def _dispatch(self, msg: dict) -> None:
        page = self.pages.get(msg.get("sessionId"))
        if page is not None and "method" in msg:
            page.on_event(msg)

    def call(self, method: str, session: Optional[str] = None, timeout: float = 30, **params) -> dict:
        i = self.send(method, session, **params)
        end = time.monotonic() + timeout
        while True:
            msg = self._read(max(end - time.monotonic(), 0.001))
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            self._dispatch(msg)

    def pump(self, seconds: float) -> None:
        """Take the events that arrive within `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._dispatch(self._read(end - time.monotonic()))
            except TimeoutError:
                return

    def open(self, url: str, wait_for: Optional[str] = None, timeout: float = 60,
             before: Optional[str] = None) -> Page:
        """A new tab with `url` loaded, with its console, requests and dialogs recorded from the
        first byte. `before`: a script to run in the page before its own (CSP does not apply to
        it); `wait_for`: a JS expression to poll until it is true (TimeoutError otherwise)."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = self.pages[session] = Page(self, session)
        for domain in ("Runtime", "Log", "Network", "Page"):
            page.call(f"{domain}.enable")
        if before:
            page.call("Page.addScriptToEvaluateOnNewDocument", source=before)
        page.call("Page.navigate", url=url)
        end = time.monotonic() + timeout
        expr = "document.readyState === 'complete'" + (f" && Boolean({wait_for})" if wait_for else "")
        while not page.evaluate(expr):
            if time.monotonic() > end:
                raise TimeoutError(f"the page did not get to: {expr}; its console: {page.console}")
            self.pump(0.1)
        self.pump(0.3)           # late console messages
        return page
