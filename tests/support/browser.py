"""Open a static HTML page in headless Chromium (Debian's `chromium`, driven by Playwright) and
report what a reader would see go wrong: console errors, failed requests, images that did not
decode, videos that cannot play. `scripts/browser.sh` installs the browser (the test command
runs it); a machine without it fails here with the command that installs it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

# every <img> decoded, every <video> with a first frame (readyState >= 2 = HAVE_CURRENT_DATA)
_MEDIA_STATE = """() => ({
  images: [...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
  videos: [...document.querySelectorAll('video')].map(v => [v.getAttribute('src'),
           v.readyState >= 2 && !v.error && v.videoWidth > 0]),
})"""
_ALL_VIDEOS_READY = """() => [...document.querySelectorAll('video')].every(
  v => v.error || v.readyState >= 2)"""


class BrowserMissing(RuntimeError):
    pass


@dataclass
class PageReport:
    url: str
    screenshot: Path
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    broken_videos: list[str] = field(default_factory=list)
    n_images: int = 0
    n_videos: int = 0

    def problems(self) -> list[str]:
        return [
            *(f"console: {m}" for m in self.console_errors),
            *(f"request failed: {m}" for m in self.failed_requests),
            *(f"image did not load: {m}" for m in self.broken_images),
            *(f"video cannot play: {m}" for m in self.broken_videos),
        ]

    def assert_clean(self) -> None:
        found = self.problems()
        assert not found, f"{self.url}:\n" + "\n".join(found)


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise BrowserMissing(
            "headless Chromium is needed for the HTML report tests: run "
            "`bash scripts/browser.sh` (Debian: apt-get install chromium)"
        )
    return found


def check_page(
    html: Path, screenshot: Path, width: int = 1280, height: int = 900, wait_s: float = 20.0
) -> PageReport:
    """Load `html` (a file), wait for its media, screenshot the whole page to `screenshot`."""
    from playwright.sync_api import sync_playwright

    url = html.resolve().as_uri()
    report = PageReport(url, screenshot)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            pg = browser.new_page(viewport={"width": width, "height": height})
            pg.on(
                "console",
                lambda m: report.console_errors.append(m.text) if m.type == "error" else None,
            )
            pg.on("pageerror", lambda e: report.console_errors.append(str(e)))
            pg.on(
                "requestfailed",
                lambda r: report.failed_requests.append(f"{r.url} ({r.failure})"),
            )
            pg.goto(url, wait_until="load")
            pg.wait_for_function(_ALL_VIDEOS_READY, timeout=wait_s * 1000)
            state = pg.evaluate(_MEDIA_STATE)
            pg.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    report.n_images, report.n_videos = len(state["images"]), len(state["videos"])
    report.broken_images = [src for src, ok in state["images"] if not ok]
    report.broken_videos = [src for src, ok in state["videos"] if not ok]
    return report
