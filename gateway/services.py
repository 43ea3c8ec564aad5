"""What the app is given from outside: the relayer, readiness checks, record validation.

The ledger side plugs in here without the gateway importing contract code::

    services = GatewayServices(
        relayer=ContractRelayer(...),              # gateway.writes.outbox.Relayer
        readiness_checks={"rpc": node_reachable, "deployment": deployment_found},
        index_lag=indexer.lag_blocks,
        record_validator=typed_record_validator,    # EIP-712 checks, record id = struct hash
    )
    app = create_app(settings, services=services)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.auth import Caller
from gateway.errors import PermissionDenied

if TYPE_CHECKING:
    from gateway.models.record_views import RecordSubmission
    from gateway.writes.ledger_services import LedgerServices
    from gateway.writes.outbox import Relayer

__all__ = [
    "GatewayServices",
    "ReadinessCheck",
    "RecordValidator",
    "default_record_validator",
]

ReadinessCheck = Callable[[], object]
"""A readiness check: raises (or returns ``False``) when not ready; the message is the detail."""

RecordValidator = Callable[[Caller, "RecordSubmission"], str]
"""Validates a submission for a caller and returns its record id (raises ``LedgerError``)."""

_ORG_FIELDS = ("orgId", "org_id", "organisation", "organization")


def default_record_validator(caller: Caller, submission: RecordSubmission) -> str:
    """Checks that do not need the contract types; returns the record id.

    * A payload that names an organisation (``orgId``, ``org_id``, ``organisation``) must name
      the caller's: a key of one organisation never acts for another.
    * The record id is the one given, else SHA-256 of the canonical JSON of kind and payload.
      The ledger's validator replaces this with the EIP-712 struct hash and checks the
      signature against the organisation's registered keys.
    """
    for name in _ORG_FIELDS:
        value = submission.payload.get(name)
        if isinstance(value, str) and value.lower() != caller.org_id:
            raise PermissionDenied(
                "the record names another organisation than the API key's",
                code="wrong_organisation",
                field=f"payload.{name}",
            )
    if submission.record_id is not None:
        return submission.record_id.lower()
    canonical = json.dumps(
        {"kind": submission.kind.value, "payload": submission.payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class GatewayServices:
    """Collaborators of the app that are not configuration (all optional)."""

    relayer: Relayer | None = None
    readiness_checks: Mapping[str, ReadinessCheck] = field(default_factory=dict)
    index_lag: Callable[[], int] | None = None
    record_validator: RecordValidator = default_record_validator
    chain: LedgerServices | None = None
    """The deployed suite (typed write routes, reads, signature checks); None: no chain."""
