"""Signers: every record of the consignment (registration, events, drawdowns, attestations)
signed by a key of the organisation it is attributed to, valid and unrevoked at the time, by
an organisation of a kind that may sign it, in good standing.

A key revocation or a member suspension *after* a record cannot be told apart from a routine
rotation: it is reported as a warning. The contracts refuse records after a revocation, so a
critical signer finding means the index disagrees with the contracts' rules.

============================= ======== ======================================================
code                          severity meaning
============================= ======== ======================================================
``SIGNER_KEY_INVALID``        critical key unknown, not valid or revoked at record time
``SIGNER_KEY_REVOKED``        warning  key revoked after it signed (compromise?)
``SIGNER_NOT_AUTHORISED``     critical the key is not the organisation's, or its kind may not
``SIGNER_MEMBER_SUSPENDED``   warning  the signer's organisation is suspended since (critical
                                       when it was suspended at the record's time)
============================= ======== ======================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial

from ledger.records import CARRIER, CUSTOMS, ISSUING_BODY, POSTAL_OPERATOR, TRADER
from ledger.verify.evidence import (
    KIND_NAMES,
    ZERO32,
    date,
    ev_attestation,
    ev_drawdown,
    ev_event,
    ev_registration,
    h,
)
from ledger.verify.findings import Evidence, FindingSpec, Severity
from ledger.verify.run import END, ClaimCheck, Context, Run

__all__ = ["CHECKS", "FINDINGS"]

SIGNER_KEY_INVALID = FindingSpec(
    "SIGNER_KEY_INVALID", Severity.CRITICAL, "Signed with a key not valid at the time"
)
SIGNER_KEY_REVOKED = FindingSpec(
    "SIGNER_KEY_REVOKED", Severity.WARNING, "Signing key since revoked"
)
SIGNER_NOT_AUTHORISED = FindingSpec(
    "SIGNER_NOT_AUTHORISED", Severity.CRITICAL, "Signer not authorised for the record"
)
SIGNER_MEMBER_SUSPENDED = FindingSpec(
    "SIGNER_MEMBER_SUSPENDED", Severity.WARNING, "Signing organisation suspended"
)
FINDINGS = (SIGNER_KEY_INVALID, SIGNER_KEY_REVOKED, SIGNER_NOT_AUTHORISED, SIGNER_MEMBER_SUSPENDED)


def check_signers(ctx: Context, run: Run) -> None:
    assert run.consignment is not None
    before = len(run.findings)
    cons = run.consignment
    parties = {cons.registrant, cons.consignor, cons.consignee} - {ZERO32}
    # (what, signer, org, record time, block time, kinds that may sign it, a party of the
    # consignment, its log position, its evidence: built only for a finding)
    records: list[
        tuple[
            str,
            str,
            bytes,
            int,
            int,
            frozenset[int],
            bool,
            tuple[int, int],
            Callable[[], Evidence],
        ]
    ] = [
        (
            "registration",
            cons.signer,
            cons.registrant,
            cons.registered_at,
            cons.registered_at,
            frozenset({CUSTOMS, CARRIER, TRADER, POSTAL_OPERATOR}),
            False,
            (cons.block_number, cons.log_index),
            partial(ev_registration, cons),
        )
    ]
    for e in run.timeline:
        records.append(
            (
                f"event #{e.seq}",
                e.signer,
                e.org_id,
                e.event_time,
                e.block_time,
                frozenset({CUSTOMS, CARRIER, POSTAL_OPERATOR}),
                e.org_id in parties,
                (e.block_number, e.log_index),
                partial(ev_event, e),
            )
        )
    for d in run.drawdowns:
        records.append(
            (
                "drawdown",
                d.signer,
                d.org_id,
                d.drawn_at,
                d.drawn_at,
                frozenset({CUSTOMS, TRADER}),
                False,
                (d.block_number, d.log_index),
                partial(ev_drawdown, d),
            )
        )
    for a in run.attestations:
        records.append(
            (
                "attestation",
                a.signer,
                a.attester,
                a.attested_at,
                a.attested_at,
                frozenset({CUSTOMS, CARRIER, TRADER, ISSUING_BODY, POSTAL_OPERATOR}),
                False,
                (a.block_number, a.log_index),
                partial(ev_attestation, a),
            )
        )
    revoked_later: dict[str, list[Evidence]] = defaultdict(list)
    suspended_later: dict[bytes, list[Evidence]] = defaultdict(list)
    for what, signer, org, t, block_time, kinds, party, position, evidence in records:
        key = ctx.key(signer)
        if key.org_id != org:
            run.add(
                SIGNER_NOT_AUTHORISED.finding(
                    f"The {what} is attributed to {ctx.org_name(org)} but was signed "
                    f"with key {signer}, which is not one of its keys.",
                    [evidence()],
                )
            )
            continue
        member = ctx.orgs.get(org)
        if member is not None and member.kind not in kinds and not party:
            run.add(
                SIGNER_NOT_AUTHORISED.finding(
                    f"The {what} was signed by a {KIND_NAMES.get(member.kind)}, which may "
                    "not sign such records for this consignment.",
                    [evidence()],
                )
            )
        revoked_before = bool(key.revoked_at) and (
            t > key.revoked_at or ctx.revoked_before(key.key, position)
        )
        window = all(key.valid_from <= x < key.valid_until for x in (t, block_time))
        if not window or revoked_before:
            if revoked_before:
                why = f"it was revoked on {date(key.revoked_at)}"
            elif t < key.valid_from:
                why = f"it became valid only on {date(key.valid_from)}"
            else:
                why = f"it expired on {date(key.valid_until)}"
            run.add(
                SIGNER_KEY_INVALID.finding(
                    f"The {what} ({date(t)}) was signed with key {signer}, but {why}.",
                    [evidence()],
                )
            )
        elif key.revoked_at:
            revoked_later[key.key].append(evidence())
        status, change = ctx.status_at(org, position)
        if status != 1:
            run.add(
                SIGNER_MEMBER_SUSPENDED.finding(
                    f"The {what} was recorded while {ctx.org_name(org)} was suspended.",
                    [evidence()],
                    severity=Severity.CRITICAL,
                )
            )
        else:
            now_status, _ = ctx.status_at(org, END)
            if now_status != 1:
                suspended_later[org].append(evidence())
    for key_address, evidence_list in revoked_later.items():
        info = ctx.keys[key_address]
        run.add(
            SIGNER_KEY_REVOKED.finding(
                f"Key {key_address} of {ctx.org_name(info.org_id)} signed "
                f"{len(evidence_list)} record(s) of this consignment and was revoked on "
                f"{date(info.revoked_at)}. Keys are revoked when compromised or when staff "
                "leave: confirm these records with the organisation.",
                evidence_list,
            )
        )
    for org, evidence_list in suspended_later.items():
        _, change = ctx.status_at(org, END)
        since = "" if change is None else f" since {date(change[0])}"
        ev_change = (
            []
            if change is None
            else [Evidence("suspension", h(org), change[3], change[2], change[4])]
        )
        run.add(
            SIGNER_MEMBER_SUSPENDED.finding(
                f"{ctx.org_name(org)} signed {len(evidence_list)} record(s) of this "
                f"consignment and is suspended{since} by the customs administrations. "
                "Its records were accepted while it was a member in good standing; "
                "treat them with caution.",
                [*evidence_list, *ev_change],
            )
        )
    run.check("signers", before)


CHECKS = (ClaimCheck("signers", check_signers),)
