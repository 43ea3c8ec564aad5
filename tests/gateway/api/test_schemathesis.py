"""Schemathesis over the whole OpenAPI of a live gateway (``ledger up``: anvil + SQLite).

Every check runs, with bounded examples per operation (``MAX_EXAMPLES``, fixed seed), and
the run must find nothing: no server error (5xx), no status code or header the document does
not declare, no response that breaks its schema, no invalid request accepted. The API key has
every scope (``admin`` too), so every route is reached past authentication.

Two checks are configured rather than run as they come, each for a stated reason:

* ``positive_data_acceptance`` expects a schema-valid request to be answered 2xx, 401, 403,
  404 or 409, never 422: the request models say their rules in the OpenAPI (patterns,
  lengths, enums, bounds, and the rules across fields: ``certify`` needs ``valid_from`` and
  ``valid_until``, a proposal's action the fields it needs, exactly one of ``schema`` and
  ``schema_id`` ...), so what schemathesis generates from it is what the gateway accepts.
  Only the operations of :data:`WITH_422` may also answer 422, each for the reason given
  there: a signature that must recover (no schema can say that), a document checked against
  a schema the OpenAPI does not inline, and rules of code lists and text the OpenAPI does not
  carry yet (those refusals are 422 with the field and the rule, checked by the route tests).
* ``max_response_time`` is 30 s: the slowest request schemathesis sends is a bulk of up to
  1,000 custodial events on consignments that are not on the ledger, which the gateway looks
  up once per request (about a second on a quiet machine); 30 s leaves room for a loaded
  two-core machine and still catches a route that does per-item chain round trips again.
  The check is for such regressions and hangs, not for throughput (``make bench``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.gateway.live import REPO, ledger_env, ledger_up

MAX_EXAMPLES = 6
SEED = 20261206

ACCEPTED = ["2xx", "401", "403", "404", "409"]

WITH_422: dict[str, tuple[str, str, list[str]]] = {
    # A message signed by the client: its signature must recover to a key (422
    # invalid_signature when it does not), which no schema can say; the message is the
    # record type's EIP-712 message, a free object in the OpenAPI.
    "signed": ("POST", "include-path-regex", ["/signed$"]),
    "records": ("POST", "include-path", ["/records"]),
    # The EPCIS 2.0 document is checked against GS1's EPCIS JSON Schema, not inlined.
    "epcis": ("POST", "include-path", ["/epcis/capture", "/epcis/capture/typed-data"]),
    # Custodial bodies and their typed data: country codes (ISO 3166-1), CBV words, UN/ECE
    # units, places and HS codes of the lists in force, text without control characters and
    # times from 1970-01-01T00:00:01Z are checked by the models but not yet carried in the
    # OpenAPI as enums or patterns (the UN/LOCODE and HS lists never will: too large).
    "codes": (
        "POST",
        "include-path",
        [
            "/aeo/mras",
            "/attestations",
            "/attestations/schemas",
            "/certificates",
            "/certificates/drawdowns",
            "/consignments",
            "/events",
            "/events/bulk",
            "/governance/proposals",
            "/organisations/keys",
        ],
    ),
    "typed-data": ("POST", "include-path-regex", ["^/typed-data/"]),
    # The proposal to execute is the Proposal message, a free object in the OpenAPI; a claim
    # to verify is a free object read by ledger.verify.
    "free objects": ("POST", "include-path", ["/governance/executions", "/verify"]),
    # Query and path values: a time before 1970-01-01T00:00:01Z, an empty EPCIS time bound,
    # and ids schemathesis takes from a response where they are null (a link it infers).
    "queries": (
        "GET",
        "include-path",
        [
            "/aeo/recognition",
            "/epcis/events",
            "/certificates/{certificate_id}",
            "/governance/proposals/{proposal_id}",
        ],
    ),
}


def _config() -> str:
    lines = ["[checks.positive_data_acceptance]", f"expected-statuses = {json.dumps(ACCEPTED)}"]
    for method, key, paths in WITH_422.values():
        value = json.dumps(paths[0]) if key.endswith("regex") else json.dumps(paths)
        lines += [
            "",
            "[[operations]]",
            f'include-method = "{method}"',
            f"{key} = {value}",
            "[operations.checks.positive_data_acceptance]",
            f"expected-statuses = {json.dumps([*ACCEPTED, 422])}",
        ]
    return "\n".join(lines) + "\n"


CONFIG = _config()


def _issue_admin_key(data_dir: Path, org_id: str) -> str:
    scopes = [
        "events:write",
        "certificates:write",
        "attestations:write",
        "aeo:write",
        "governance:write",
        "read",
        "admin",
    ]
    command = [sys.executable, "-m", "gateway.cli", "apikey", "issue", "--org-id", org_id]
    command += ["--kind", "customs", "--country", "AU"]
    for scope in scopes:
        command += ["--scope", scope]
    done = subprocess.run(
        command,
        cwd=REPO,
        env=ledger_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1]


def test_schemathesis_finds_nothing_on_a_live_gateway(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ledger_up(data_dir, log=tmp_path / "ledger.log") as gateway:
        keys = json.loads((data_dir / "demo-api-keys.json").read_text(encoding="utf-8"))
        customs = keys["Australian Border Force"]["org_id"]
        token = _issue_admin_key(data_dir, customs)
        (tmp_path / "schemathesis.toml").write_text(CONFIG, encoding="utf-8")
        report = tmp_path / "report.json"
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{gateway.url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "2",
            "--no-shrink",
            "--generation-database",
            "none",
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "120",
            "--max-response-time",
            "30",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        done = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False
        )
        server_log = gateway.log.read_text(errors="replace")
    traceback = server_log.find("Traceback")
    assert traceback < 0, server_log[max(0, traceback - 2000) : traceback + 6000]
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
