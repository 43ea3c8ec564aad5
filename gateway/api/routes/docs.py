"""The API reference pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served from the
gateway's own assets.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on a closed network (customs
networks often are) they stay blank. Here the scripts, style sheet and icon come from the
``fastapi-offline`` package (installed with the gateway, a PyPI dependency) and are served
under ``/docs/assets/``: the pages reference no other origin (no web fonts, no validator
badge), their Content-Security-Policy lets the browser fetch nothing from one (ReDoc's
script would fetch its logo), and ``tests/gateway/api/test_docs_offline.py`` checks that
with the browser's requests to other origins blocked.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from gateway.errors import NotFound

__all__ = ["ASSETS", "router"]

router = APIRouter(tags=["documentation"], include_in_schema=False)

#: The files served under /docs/assets/, with their media types.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
TITLE = "Customs ledger gateway"
#: The pages may load nothing from another origin, even what a bundled script asks for
#: (ReDoc's "API docs by Redocly" logo comes from its CDN): the browser refuses it.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
# ReDoc's branding link would show a broken image once its CDN logo is refused.
_HIDE_REDOC_LOGO = '<style>a[href*="redocly.com"] { display: none; }</style>'


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CSP
    return page


@cache
def _asset_dir() -> Path:
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


def _assets(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/docs/assets"


def _openapi(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    assets = _assets(request)
    page = get_swagger_ui_html(
        openapi_url=_openapi(request),
        title=f"{TITLE} — API reference",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon.png",
        oauth2_redirect_url=f"{request.scope.get('root_path', '')}/docs/oauth2-redirect",
        # no validator badge: it would load an image from the validator's site
        swagger_ui_parameters={"validatorUrl": None},
    )
    return _offline(page)


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    assets = _assets(request)
    page = get_redoc_html(
        openapi_url=_openapi(request),
        title=f"{TITLE} — API reference",
        redoc_js_url=f"{assets}/redoc.standalone.js",
        redoc_favicon_url=f"{assets}/favicon.png",
        with_google_fonts=False,
    )
    html = bytes(page.body).decode("utf-8").replace("</head>", _HIDE_REDOC_LOGO + "</head>", 1)
    return _offline(HTMLResponse(html))


@router.get("/docs/assets/{name}")
def asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"no documentation asset {name!r}", field="name")
    return FileResponse(
        _asset_dir() / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )
