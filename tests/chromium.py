"""Headless Chromium for the report tests: Debian's ``chromium`` driven through the DevTools protocol on a pipe, and
what a test reads off a report page in it (shared by the 1.x and the 3.x report tests)."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path


def chromium_executable() -> str | None:
    candidates = [os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"]
    return next((shutil.which(name) for name in candidates if name and shutil.which(name)), None)


class Chromium:
    """Headless Chromium driven through the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
    messages ending in NUL on file descriptors 3 and 4), so a test needs neither Playwright nor a websocket client.
    ``events`` keeps every event the page sent: requests, console messages, exceptions."""

    def __init__(self, executable: str, profile: Path, timeout: float = 60):
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()
        # Bash puts the pipe ends on 3 and 4 (dash cannot name descriptors above 9): a preexec_fn could deadlock
        # the fork of this process, whose training threads are still alive. Ends numbered 10 and up stay intact.
        child_read, child_write = (fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, 10) for end in (to_browser, from_browser))
        for end in (to_browser, from_browser):
            os.close(end)
        arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
        self.process = subprocess.Popen(
            [
                "bash",
                "-c",
                f'exec "$@" 3<&{child_read} 4>&{child_write} {child_read}<&- {child_write}>&-',
                "chromium",
                executable,
                *arguments,
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(child_read, child_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_read)
        os.close(child_write)
        self.timeout, self.events, self._buffer, self._id, self.session = timeout, [], b"", 0, None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if not select.select([self._from_browser], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError(f"Chromium did not answer within {self.timeout} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def load(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + self.timeout
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            self.events.append(self._message(deadline))

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError, TimeoutError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def of(self, method: str) -> list:
        return [event["params"] for event in self.events if event.get("method") == method]

    def events_by_method(self) -> dict:
        """{method: [params, ...]} of every event the page sent."""
        return {method: self.of(method) for method in {event.get("method") for event in self.events}}


def console_errors(events: dict) -> list:
    """The console errors and failed assertions, error log entries and uncaught exceptions among a page's events."""
    errors = [m for m in events.get("Runtime.consoleAPICalled", []) if m["type"] in ("error", "assert")]
    errors += [e["entry"] for e in events.get("Log.entryAdded", []) if e["entry"]["level"] == "error"]
    return errors + events.get("Runtime.exceptionThrown", [])


def requested_urls(events: dict) -> list:
    """Every URL the page requested, in order."""
    return [event["request"]["url"] for event in events["Network.requestWillBeSent"]]


def outside(urls: list, page: Path) -> list:
    """The URLs neither in the page's folder nor inline data."""
    return [url for url in urls if not url.startswith((page.parent.as_uri() + "/", "data:"))]


#: run in the page once everything is loaded: every charted line and every image, as the browser lays them out
LOOK_AT_THE_PAGE = """
(async () => {
  const images = [...document.querySelectorAll(".gallery img")];
  images.forEach(image => { image.loading = "eager"; });
  await Promise.all(images.map(image => image.decode().catch(() => null)));
  const shown = element => element.getBoundingClientRect().width > 0 && element.getBoundingClientRect().height > 0;
  return {
    lines: [...document.querySelectorAll("figure.chart g.series")].map(line => ({
      field: line.dataset.series,
      run: line.dataset.run,
      points: (line.querySelector("path").getAttribute("d").match(/[ML]/g) || []).length,
      shown: shown(line),
    })),
    images: images.map(image => ({field: image.dataset.field, width: image.naturalWidth, shown: shown(image)})),
  };
})()
"""
CLICK_THE_FIRST_VALIDATION_IMAGE = """
(async () => {
  const image = document.querySelector('.gallery img[data-field^="Validation/"]');
  image.closest("a").click();
  const big = document.querySelector("#viewer img");
  await big.decode();
  const result = {
    open: !document.getElementById("viewer").hidden,
    natural: image.naturalWidth,
    shown: big.getBoundingClientRect().width,
  };
  document.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape"}));
  result.closed = document.getElementById("viewer").hidden;
  return result;
})()
"""
