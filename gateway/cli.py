"""The ``ledger`` command: the library's commands plus those that need the gateway.

    ledger up [--rpc URL] [--bootstrap FILE]
                                  node (unless --rpc) + deploy + demo data + gateway, until Ctrl-C
    ledger serve                  the gateway alone, on an existing deployment
    ledger apikey issue --org-id ID --kind KIND --country CC [--scope S ...] [--expires WHEN]
    ledger apikey list [--org-id ID]
    ledger apikey revoke KEY_ID

``--expires`` takes a duration from now (``90d``, ``12h``, ``30m``, ``2w``, ``3600s``) or a
timestamp (ISO 8601, ``2027-01-31`` or ``2027-01-31T12:00:00Z``; no offset means UTC); it must
lie in the future. A key past its expiry is refused (401 ``expired_api_key``).

``apikey issue`` first checks, on the chain of the data directory's deployment, that the
organisation is an active member of that kind and country (otherwise it says which, and exits
1), and gives the key its kind's scopes (:func:`gateway.auth.scopes_for_kind`) unless
``--scope`` names some; a scope the kind cannot use is refused.

Exit codes are those of :mod:`ledger.cli` (0 done, 1 an error, 2 usage, 3/4 a suspicious or
failed ``verify``); ``up`` and ``serve`` exit 1 at once when the gateway cannot start.

The library's own commands (``compile``, ``node``, ``deploy``) are defined in
:mod:`ledger.cli`; this module adds to that parser, so that ``ledger`` never imports the
gateway.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from gateway.auth import KIND_BY_CODE, OrgKind, Scope, allowed_scopes, issue_key, scopes_for_kind
from gateway.config import GatewaySettings
from ledger import cli as base
from ledger.chain import SUITE, Ledger, TxManager
from ledger.errors import ConfigurationError
from ledger.index import epcis_store
from ledger.stack import (
    DEMO_FILE,
    DEMO_PARTIES,
    confirmations,
    connect,
    demo_governed,
    deploy,
    embedded_node,
    is_dev_chain,
    relayer_key,
    seed_if_new,
)

__all__ = ["main"]

log = logging.getLogger("gateway.cli")

KIND_NAMES = {
    1: OrgKind.CUSTOMS,
    2: OrgKind.CARRIER,
    3: OrgKind.TRADER,
    4: OrgKind.ISSUING_BODY,
    5: OrgKind.POSTAL_OPERATOR,
}
DEMO_KEYS_FILE = "demo-api-keys.json"

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_expiry(value: str, *, now: datetime | None = None) -> datetime:
    """When a key given ``--expires VALUE`` expires: ``now`` + a duration (``90d``, ``12h``,
    ``30m``, ``2w``, ``3600s``) or an ISO 8601 date or timestamp (no offset: UTC).

    Raises :class:`argparse.ArgumentTypeError` for anything else, a zero duration or a time
    that is not in the future (a key that is born expired is a mistake, not a request).
    """
    now = now if now is not None else datetime.now(UTC)
    text = value.strip()
    duration = _DURATION.match(text.lower())
    if duration is not None:
        amount, unit = int(duration.group(1)), duration.group(2)
        if amount == 0:
            raise argparse.ArgumentTypeError(f"{value!r}: a duration must be more than zero")
        try:
            return now + timedelta(seconds=amount * _UNIT_SECONDS[unit])
        except OverflowError:
            raise argparse.ArgumentTypeError(f"{value!r}: duration too long") from None
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected a duration (90d, 12h, 30m, 2w, 3600s) or an ISO 8601 "
            "date or timestamp (2027-01-31, 2027-01-31T12:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when <= now:
        raise argparse.ArgumentTypeError(
            f"{value!r}: the expiry must be in the future (now {now.isoformat()})"
        )
    return when


def _settings(args: argparse.Namespace) -> GatewaySettings:
    settings = base.settings_from_args(args)
    assert isinstance(settings, GatewaySettings)
    return settings


def _demo_api_keys(settings: GatewaySettings) -> Path:
    """Issue one API key per demo organisation (once) and keep them in the data directory."""
    path = settings.data_dir / DEMO_KEYS_FILE
    if path.is_file():
        return path
    keys: dict[str, Any] = {}
    for party in DEMO_PARTIES:
        issued = issue_key(
            settings,
            org_id="0x" + party.org_id.hex(),
            org_kind=KIND_NAMES[party.kind],
            country=party.country,
            scopes=sorted(scopes_for_kind(KIND_NAMES[party.kind])),
            label=f"demo key of {party.name}",
        )
        keys[party.name] = {"org_id": "0x" + party.org_id.hex(), "api_key": issued.token}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _demo_custodial_keys(settings: GatewaySettings) -> None:
    """Put the demo organisations' keys in the custodial key store (once), so that the demo
    API keys can submit records for the gateway to sign."""
    from gateway.writes.custodial_keys import SigningKeyStore

    store = SigningKeyStore.from_settings(settings)
    for party in DEMO_PARTIES:
        org = "0x" + party.org_id.hex()
        if store.get(org) is None:
            store.add(org, party.private_key)


def _build_app(settings: GatewaySettings, ledger: Ledger) -> Any:
    from gateway.main import create_app
    from gateway.stack import build_services

    return create_app(settings, services=build_services(settings, ledger=ledger))


def _serve(settings: GatewaySettings, app: Any, *, json_logs: bool) -> int:
    """Serve until SIGINT or SIGTERM, then shut the gateway down cleanly; the exit code.

    uvicorn runs in a thread so that this process, not uvicorn, owns the signals: the node
    and everything else started here are stopped in order after the gateway. When the server
    cannot start (port taken, the app's startup failed) or stops on its own, the command
    returns 1 at once (after stopping the rest), so that a supervisor sees it and restarts
    it, rather than a process that lives on with its port closed.
    """
    import threading

    import uvicorn

    from gateway.logs import configure_logging

    if json_logs:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        configure_logging()
    config = uvicorn.Config(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        access_log=False,
        log_config=None,
    )
    server = uvicorn.Server(config)
    failed = threading.Event()

    def run() -> None:
        try:
            server.run()
        except SystemExit:  # uvicorn could not start (it logged why: port taken, ...)
            pass
        except Exception:
            log.exception("the gateway server stopped")
        finally:
            failed.set()

    stop = base.stop_signals()
    thread = threading.Thread(target=run, name="gateway", daemon=True)
    thread.start()
    while not stop.wait(0.2):
        if failed.is_set():
            break
    if failed.is_set() and not stop.is_set():
        log.error(
            "the gateway is not serving on %s:%d; exiting with status 1",
            settings.gateway_host,
            settings.gateway_port,
        )
        return 1
    server.should_exit = True
    thread.join(timeout=30)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with ExitStack() as stack:
        if settings.embedded:
            node = embedded_node(settings)
            node.start()
            stack.callback(node.stop)
        w3 = connect(settings)
        tx = TxManager(w3, relayer_key(settings, w3), confirmations=confirmations(settings, w3))
        deployment, created = deploy(settings, w3, tx, bootstrap_file=args.bootstrap)
        ledger = Ledger(w3, deployment, tx=tx)
        demo_file = settings.data_dir / DEMO_FILE
        demo = is_dev_chain(w3) and demo_governed(ledger)
        if demo:
            epcis = epcis_store(create_engine(settings.index_url))
            seed_if_new(ledger, data_dir=settings.data_dir, epcis=epcis)
            epcis.engine.dispose()
        keys_file = None
        if demo:
            keys_file = _demo_api_keys(settings)
            _demo_custodial_keys(settings)
        base_url = f"http://{settings.gateway_host}:{settings.gateway_port}"
        lines = [
            "",
            "Customs ledger is up.",
            f"  chain       {settings.effective_rpc_url} (chain id {deployment.chain_id})",
            f"  contracts   {'deployed now' if created else 're-used'} at block {deployment.block}",
        ]
        lines += [f"    {name:<13} {deployment.address(name)}" for name, _ in SUITE]
        lines += [
            f"  gateway     {base_url}  (API docs {base_url}/docs, health {base_url}/healthz)",
            f"  verifier    {base_url}/verify",
            f"  data        {settings.data_dir.resolve()}",
        ]
        if keys_file is not None:
            lines.append(f"  API keys    {keys_file.resolve()} (demo organisations)")
        if demo and demo_file.is_file():
            summary = json.loads(demo_file.read_text(encoding="utf-8"))
            lines.append(
                f"  demo        consignment {summary['consignment']['ref']}, "
                f"certificate {summary['certificate']['number']} ({demo_file.resolve()})"
            )
        lines.append("Ctrl-C stops everything.")
        base.out("\n".join(lines))
        return _serve(settings, _build_app(settings, ledger), json_logs=False)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    w3 = connect(settings)
    from ledger.chain import Deployment, manifest_path

    deployment = Deployment.load(manifest_path(settings.data_dir, settings.chain_id))
    tx = TxManager(w3, relayer_key(settings, w3), confirmations=confirmations(settings, w3))
    return _serve(settings, _build_app(settings, Ledger(w3, deployment, tx=tx)), json_logs=True)


def cmd_apikey(args: argparse.Namespace) -> int:
    from gateway.auth import KeyStore

    settings = _settings(args)
    if args.action == "issue":
        kind = OrgKind(args.kind)
        scopes = _scopes_to_issue(kind, args.scope)
        _check_organisation_on_chain(settings, args.org_id, kind, args.country)
        issued = issue_key(
            settings,
            org_id=args.org_id,
            org_kind=kind,
            country=args.country,
            scopes=sorted(scopes),
            label=args.label,
            expires_at=args.expires,
        )
        base.out(issued.token)
        return 0
    with KeyStore.open(settings.gateway_db_url) as store:
        if args.action == "list":
            for record in store.list_keys(org_id=args.org_id):
                base.out(json.dumps(_key_json(record), sort_keys=True))
            return 0
        store.revoke(args.key_id)
        base.out(f"revoked {args.key_id}")
    return 0


def _scopes_to_issue(kind: OrgKind, asked: Sequence[str] | None) -> set[Scope]:
    """The kind's scopes by default; asked-for scopes must be the kind's (or ``admin``)."""
    if not asked:
        return set(scopes_for_kind(kind))
    wanted = {Scope(s) for s in asked}
    extra = wanted - allowed_scopes(kind)
    if extra:
        raise ConfigurationError(
            f"--scope {', '.join(sorted(extra))}: not for a {kind.value} key (a {kind.value} "
            f"may have {', '.join(sorted(allowed_scopes(kind)))})"
        )
    return wanted


def _check_organisation_on_chain(
    settings: GatewaySettings, org_id: str, kind: OrgKind, country: str
) -> None:
    """Refuse a key for an organisation that is not an active member of this kind and
    country on the chain the gateway serves (the chain would refuse its records anyway)."""
    from ledger.chain import Deployment, manifest_path

    try:
        org = bytes.fromhex(org_id.removeprefix("0x"))
    except ValueError:
        org = b""
    if len(org) != 32:
        raise ConfigurationError(f"--org-id {org_id!r}: must be 0x and 64 hex digits")
    path = manifest_path(settings.data_dir, settings.chain_id)
    if not path.is_file():
        raise ConfigurationError(
            f"no deployment manifest at {path}: run `ledger deploy` (or `ledger up`) first, or "
            "give the gateway's --data-dir and --chain-id, so the organisation can be checked"
        )
    ledger = Ledger(connect(settings), Deployment.load(path))
    found = ledger.membership.organisation(org)
    where = f"on chain {settings.chain_id}"
    if not found.registered:
        raise ConfigurationError(
            f"organisation {org_id} is not a member {where}: admit it by governance first"
        )
    if found.status != 1:
        raise ConfigurationError(f"organisation {org_id} is suspended {where}")
    actual = KIND_BY_CODE.get(found.kind)
    if actual is not kind:
        shown = actual.value if actual is not None else f"kind {found.kind}"
        raise ConfigurationError(f"--kind {kind.value}: organisation {org_id} is a {shown} {where}")
    if found.country.upper() != country.strip().upper():
        raise ConfigurationError(
            f"--country {country}: organisation {org_id} is registered in {found.country} {where}"
        )


def _key_json(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in (
        "key_id",
        "org_id",
        "org_kind",
        "country",
        "label",
        "created_at",
        "revoked_at",
        "expires_at",
    ):
        value = getattr(record, name, None)
        if isinstance(value, datetime):
            value = value.isoformat()
        out[name] = value if value is None or isinstance(value, int | str) else str(value)
    out["scopes"] = sorted(str(s) for s in getattr(record, "scopes", ()))
    return out


def _add_common_after_action(parser: argparse.ArgumentParser) -> None:
    """The common options also after the action (``ledger apikey issue --data-dir D``).

    Their default is "not given", so that a value given before the action is kept.
    """
    unset = argparse.SUPPRESS
    parser.add_argument("--config", type=Path, default=unset, help="TOML settings file")
    parser.add_argument("--data-dir", dest="data_dir", type=Path, default=unset)
    parser.add_argument("--chain-id", dest="chain_id", type=int, default=unset)
    parser.add_argument("--node-port", dest="node_port", type=int, default=unset)


def _inspected_declarations(args: argparse.Namespace) -> Any:
    """``ledger risk train --administration``: that administration's inspected declarations
    from this gateway's store, labelled with their inspection results."""
    from gateway.api.risk_selection import training_frame
    from gateway.db import create_gateway_engine
    from gateway.writes.declaration_store import DeclarationStore, load_or_create_key

    settings = _settings(args)
    admin = str(args.administration).lower()
    engine = create_gateway_engine(settings.gateway_db_url)
    try:
        secret = settings.declarations_key
        store = DeclarationStore(
            engine,
            load_or_create_key(
                configured=secret.get_secret_value() if secret is not None else None,
                data_dir=settings.data_dir,
            ),
        )
        return training_frame(store.lodged_with(admin), store.inspections(admin))
    finally:
        engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser, sub = base.build_parser(risk_store=_inspected_declarations)

    p = sub.add_parser("up", help="node + deploy + demo data + gateway, until Ctrl-C")
    base.add_common(p)
    p.add_argument("--rpc", dest="rpc_url", help="use this chain instead of the embedded node")
    p.add_argument(
        "--bootstrap",
        type=Path,
        help="TOML file with the first administrations (needed to deploy to a network)",
    )
    p.add_argument("--gateway-port", dest="gateway_port", type=int, help="gateway port")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("serve", help="serve the gateway on an existing deployment")
    base.add_common(p)
    p.add_argument("--rpc", dest="rpc_url", help="JSON-RPC URL of the chain")
    p.add_argument("--gateway-port", dest="gateway_port", type=int, help="gateway port")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("apikey", help="issue, list or revoke gateway API keys")
    base.add_common(p)
    keys = p.add_subparsers(dest="action", required=True)
    issue = keys.add_parser("issue", help="issue a key; prints it once")
    issue.add_argument("--org-id", required=True, help="organisation id (0x + 64 hex)")
    issue.add_argument("--kind", required=True, choices=[k.value for k in OrgKind])
    issue.add_argument("--country", required=True, help="ISO 3166-1 alpha-2")
    issue.add_argument("--scope", action="append", choices=[s.value for s in Scope])
    issue.add_argument("--label", help="a note for the operator")
    issue.add_argument(
        "--expires",
        type=parse_expiry,
        metavar="WHEN",
        help="expiry: a duration from now (90d, 12h, 30m, 2w, 3600s) or an ISO 8601 date or "
        "timestamp (2027-01-31T12:00:00Z; no offset = UTC); default: never",
    )
    listing = keys.add_parser("list", help="list keys (no secrets)")
    listing.add_argument("--org-id", help="only this organisation's keys")
    revoke = keys.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id", help="the key id (the part after clk_)")
    for action in (issue, listing, revoke):
        _add_common_after_action(action)
    p.set_defaults(func=cmd_apikey)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return base.main(argv, parser=build_parser(), settings_cls=GatewaySettings)


if __name__ == "__main__":
    sys.exit(main())
