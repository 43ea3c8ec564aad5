"""Gateway fixtures: settings in a temporary data dir, a fake chain and relayer, and a
synchronous httpx client on the ASGI app with its lifespan running.

``fastapi.testclient`` is not used: importing it warns (httpx with starlette's test client is
deprecated) and warnings are errors here. ``serve`` does what it does with an anyio portal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio.from_thread
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from gateway.auth import IssuedKey, KeyStore, Scope
from gateway.config import GatewaySettings
from gateway.main import create_app
from gateway.services import GatewayServices
from gateway.testing import FakeChain, FakeRelayer
from gateway.writes.custodial_keys import SigningKeyStore
from gateway.writes.ledger_services import LedgerServices
from gateway.writes.relayer import ContractRelayer
from ledger.chain import Ledger, TxManager
from ledger.stack import DemoWorld, Party
from tests.conftest import RELAYER_KEY

ADMIN_TOKEN = "operator-token-for-tests"
ORG_A = "0x" + "a1" * 32
ORG_B = "0x" + "b2" * 32
SIGNATURE = "0x" + "11" * 64 + "1b"


class _PortalTransport(httpx.BaseTransport):
    def __init__(self, app: FastAPI, portal: anyio.from_thread.BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()

        async def call() -> tuple[int, httpx.Headers, bytes]:
            response = await self._asgi.handle_async_request(request)
            body = await response.aread()
            await response.aclose()
            return response.status_code, response.headers, body

        status, headers, body = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)


@contextmanager
def serve(app: FastAPI) -> Iterator[httpx.Client]:
    """Run ``app``'s lifespan and yield a client that talks to it in process."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
        httpx.Client(
            transport=_PortalTransport(app, portal), base_url="http://testserver"
        ) as client,
    ):
        yield client


def make_settings(data_dir: Path, **overrides: object) -> GatewaySettings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "admin_token": ADMIN_TOKEN,
        "batch_max_size": 10,
        "batch_linger_seconds": 0.05,
        "relay_poll_seconds": 0.02,
        "relay_retry_seconds": 0.05,
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return make_settings(tmp_path)


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[FakeChain]:
    with FakeChain(tmp_path / "chain.sqlite3") as fake_chain:
        yield fake_chain


@pytest.fixture
def relayer(chain: FakeChain) -> FakeRelayer:
    return FakeRelayer(chain)


@pytest.fixture
def keys(settings: GatewaySettings) -> Iterator[KeyStore]:
    with KeyStore.open(settings.gateway_db_url) as store:
        yield store


KeyMaker = Callable[..., IssuedKey]


@pytest.fixture
def make_key(keys: KeyStore) -> KeyMaker:
    def make(
        org_id: str = ORG_A,
        *,
        scopes: tuple[Scope | str, ...] = (Scope.EVENTS_WRITE, Scope.READ),
        org_kind: str = "carrier",
        country: str = "NL",
    ) -> IssuedKey:
        return keys.issue(org_id=org_id, org_kind=org_kind, country=country, scopes=scopes)

    return make


@pytest.fixture
def app(settings: GatewaySettings, relayer: FakeRelayer) -> FastAPI:
    return create_app(settings, services=GatewayServices(relayer=relayer))


@pytest.fixture
def client(app: FastAPI) -> Iterator[httpx.Client]:
    with serve(app) as http:
        yield http


def auth(key: IssuedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.token}"}


def record_body(n: int = 0, *, kind: str = "event", **payload: object) -> dict[str, object]:
    return {
        "kind": kind,
        "record_id": f"0x{n:064x}",
        "payload": {"seq": n, **payload},
        "signature": SIGNATURE,
    }


# ------------------------------------------------------------------------------------------
# The gateway on the session chain: the real relayer and validator over the seeded demo world.
# ``ledger`` reverts the chain after each test; the app (and its submitter thread) is shut
# down before that, because ``chain_client`` depends on ``ledger``.
# ------------------------------------------------------------------------------------------

ALL_WRITE_SCOPES = (
    Scope.EVENTS_WRITE,
    Scope.CERTIFICATES_WRITE,
    Scope.ATTESTATIONS_WRITE,
    Scope.AEO_WRITE,
    Scope.GOVERNANCE_WRITE,
    Scope.DECLARATIONS_WRITE,
    Scope.READ,
)
KIND_NAMES = {1: "customs", 2: "carrier", 3: "trader", 4: "issuing_body", 5: "postal_operator"}


def org_hex(party: Party) -> str:
    return "0x" + party.org_id.hex()


def signing_key_store(path: Path) -> SigningKeyStore:
    return SigningKeyStore(path, SecretStr("keystore secret for tests"), scrypt_n=2**10)


@pytest.fixture
def chain_services(ledger: Ledger, relayer_tx: TxManager, tmp_path: Path) -> GatewayServices:
    relayer = ContractRelayer(ledger, relayer_tx, RELAYER_KEY)
    store = signing_key_store(tmp_path / "keystore")
    chain = LedgerServices(ledger=ledger, signing_keys=store)
    return GatewayServices(relayer=relayer, chain=chain)


@pytest.fixture
def custodial(chain_services: GatewayServices, world: DemoWorld) -> dict[str, str]:
    """Every demo party's key in the custodial store; role -> address."""
    assert chain_services.chain is not None
    assert chain_services.chain.signing_keys is not None
    store = chain_services.chain.signing_keys
    return {
        role: store.add(org_hex(party), party.private_key).address
        for role, party in world.parties.items()
    }


@pytest.fixture
def chain_app(settings: GatewaySettings, chain_services: GatewayServices) -> FastAPI:
    return create_app(settings, services=chain_services)


@pytest.fixture
def chain_client(chain_app: FastAPI, custodial: dict[str, str]) -> Iterator[httpx.Client]:
    with serve(chain_app) as http:
        yield http


@pytest.fixture
def party_keys(keys: KeyStore, world: DemoWorld) -> dict[str, IssuedKey]:
    """An API key with every write scope for each demo party, by role (au, cn, carrier, ...)."""
    return {
        role: keys.issue(
            org_id=org_hex(party),
            org_kind=KIND_NAMES[party.kind],
            country=party.country,
            scopes=ALL_WRITE_SCOPES,
        )
        for role, party in world.parties.items()
    }


@pytest.fixture
def unrelayed_client(
    settings: GatewaySettings, chain_services: GatewayServices, custodial: dict[str, str]
) -> Iterator[httpx.Client]:
    """The gateway on the session chain without a relayer: accepted records stay accepted,
    so every request is judged against the same chain state."""
    services = GatewayServices(chain=chain_services.chain)
    with serve(create_app(settings, services=services)) as http:
        yield http


@pytest.fixture(autouse=True)
def no_gateway_threads_left() -> Iterator[None]:
    """Every test leaves no submitter or index thread behind (the chain is reverted next)."""
    yield
    left = [
        t.name for t in threading.enumerate() if t.name in {"gateway-submitter", "gateway-index"}
    ]
    assert left == [], f"background threads still running: {left}"
