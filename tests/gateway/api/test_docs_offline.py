"""``/docs`` and ``/redoc`` work with the network unplugged: the pages reference only the
gateway's own origin, their assets are served from the gateway, and Swagger UI and ReDoc
render in Chromium with every request to another origin blocked."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from gateway.api.routes.docs import ASSETS
from gateway.config import GatewaySettings
from gateway.main import create_app
from tests.conftest import free_port
from tests.gateway.api.browser import chromium, shot
from tests.gateway.conftest import serve

URL = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


@pytest.fixture
def docs_client(settings: GatewaySettings) -> Iterator[httpx.Client]:
    with serve(create_app(settings)) as http:
        yield http


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_pages_reference_only_the_gateway(docs_client: httpx.Client, path: str) -> None:
    page = docs_client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    urls = [a or b for a, b in URL.findall(page.text)]
    assert len(urls) >= 3, urls  # script, style or icon, and the OpenAPI document
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme, f"{path} references {url}"
        assert not parts.netloc, f"{path} references {url}"
        assert url.startswith("/")
        answer = docs_client.get(url)
        assert answer.status_code == 200, url
    assert "cdn" not in page.text.lower()
    assert "fonts.googleapis" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_assets_are_served_and_others_are_not(docs_client: httpx.Client) -> None:
    for name, media_type in ASSETS.items():
        answer = docs_client.get(f"/docs/assets/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"].startswith(media_type)
        assert len(answer.content) > 1000
    missing = docs_client.get("/docs/assets/..%2Fcore.py")
    assert missing.status_code == 404
    assert docs_client.get("/docs/assets/unknown.js").status_code == 404


@pytest.fixture
def base_url(settings: GatewaySettings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="docs-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _offline_page(browser: Any, base_url: str, blocked: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def only_the_gateway(route: Any) -> None:
        if route.request.url.startswith(base_url + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_gateway)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def test_swagger_ui_and_redoc_render_offline(base_url: str) -> None:
    blocked: list[str] = []
    with chromium() as browser:
        page = _offline_page(browser, base_url, blocked)
        page.goto(f"{base_url}/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "Customs ledger gateway" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock-tag-section")
        assert page.locator(".opblock").count() > 20
        shot(page, "docs-offline", full_page=False)
        page.goto(f"{base_url}/redoc")
        page.wait_for_selector("h1")
        assert "Customs ledger gateway" in page.inner_text("h1")
        page.wait_for_selector("[data-section-id^='tag/']")
        shot(page, "redoc-offline", full_page=False)
    assert blocked == []
