"""Headless Chromium for the page tests: Debian's package (``scripts/system-deps``) driven by
Playwright, and where the screenshots go.

Playwright's own browser build is not used: ``playwright install`` fetches it from a CDN, not
from a package registry, so a fresh clone could not count on it. Outside CI a test is skipped
with the reason when Chromium or Playwright is missing; in CI (CI=true) that is a failure.
Screenshots go to ``test-artifacts/browser/`` at the root of the repository (git-ignored);
pytest's summary names the directory.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.system_services import unavailable

__all__ = ["ARTIFACTS", "chromium", "shot"]

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "browser"

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright ``Browser``)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("the browser tests", "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the browser tests", "Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """A screenshot (of the whole page, or of the window) in the artifact directory."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
