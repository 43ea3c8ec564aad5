"""The ledger side of the gateway: the deployed suite, validation, custodial keys, the index.

:class:`LedgerServices` is what the write and read routes need beyond the outbox; it is
``GatewayServices.ledger`` (``None`` in an app without a chain: those routes answer 503).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gateway.auth import Caller
from gateway.errors import Conflict, ServiceUnavailable
from gateway.models.record_fields import BuildContext, NonceSource
from gateway.writes.custodial_keys import SigningKeyStore
from gateway.writes.validation import CONSIGNMENTS_ON_CHAIN, ChainValidator
from ledger.chain import Ledger, finality_of
from ledger.records import consignment_id, reference_hash

if TYPE_CHECKING:
    from ledger.index import EpcisStore, Index

__all__ = ["LedgerServices", "require_ledger"]

logger = logging.getLogger("gateway.chain")

_NOW = "chain-time"
_REFS = "consignment-refs"


@dataclass
class LedgerServices:
    """The deployed suite and what the gateway builds on it."""

    ledger: Ledger
    signing_keys: SigningKeyStore | None = None
    index: Index | None = None
    validator: ChainValidator = field(init=False)
    nonces: NonceSource = field(default_factory=NonceSource)
    _units: dict[bytes, str] = field(default_factory=dict, init=False, repr=False)
    _epcis: EpcisStore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.validator = ChainValidator(self.ledger)
        if self.signing_keys is not None:
            self.signing_keys.registry = self

    @cached_property
    def confirmations(self) -> int:
        """Blocks on top of a block before it is final (the network's finality depth)."""
        return finality_of(self.ledger.w3).depth

    def registered(self, org_id: str, address: str) -> bool:
        """Whether ``address`` was ever registered as a key of ``org_id`` (latest block)."""
        info = self.ledger.membership.key_info(address)
        return info.org_id == bytes.fromhex(org_id[2:])

    def confirmed(self, org_id: str, address: str) -> bool:
        """Whether ``address`` is a key of ``org_id``, unrevoked and valid now, in the newest
        final block (custodial key rotation switches only then)."""
        final = max(0, int(self.ledger.w3.eth.block_number) - self.confirmations)
        info = self.ledger.membership.key_info(address, block=final)
        now = self.now()
        return (
            info.org_id == bytes.fromhex(org_id[2:])
            and info.revoked_at == 0
            and info.valid_from <= now < info.valid_until
        )

    def epcis_store(self) -> EpcisStore:
        """The captured EPCIS documents and events, on the index database (503 without one)."""
        if self.index is None:
            raise ServiceUnavailable("this gateway has no index", code="no_index")
        if self._epcis is None:
            from ledger.index import EpcisStore

            self._epcis = EpcisStore(self.index.engine)
        return self._epcis

    def now(self) -> int:
        """The chain's time (latest block), never behind the wall clock by much."""
        latest = int(self.ledger.w3.eth.get_block("latest")["timestamp"])
        return max(latest, int(time.time()))

    def context(
        self, caller: Caller, *, signer: str | None = None, memo: dict[str, Any] | None = None
    ) -> BuildContext:
        """What request models need to become records for ``caller``.

        ``memo`` (one per request, e.g. a bulk request's): the chain's time is read once and
        each reference's consignment is looked up once (:meth:`resolve_consignments` fills it
        for many references at a time); a lookup that found nothing is kept too.
        """
        who = signer or caller.org_id

        def nonce() -> int:
            return self.nonces.next(who)

        org = bytes.fromhex(caller.org_id[2:])

        def consignment(ref: str, registrant: bytes | None, field: str) -> bytes:
            if memo is None or registrant is not None:
                return self.consignment_for(org, ref, registrant, field)
            known = memo.setdefault(_REFS, {}).get((org, ref))
            if known is None:
                self.resolve_consignments(org, [ref], memo=memo)
                known = memo[_REFS][(org, ref)]
            if isinstance(known, Conflict):
                raise Conflict(known.message, code=known.code, field=field, rule=known.rule)
            assert isinstance(known, bytes)
            return known

        if memo is None:
            now = self.now()
        else:
            now = memo[_NOW] if _NOW in memo else memo.setdefault(_NOW, self.now())
        return BuildContext(
            org_id=org,
            now=now,
            nonce=nonce,
            certificate_unit=self.certificate_unit,
            certificates=self.ledger.certificates.address,
            aeo=self.ledger.aeo.address,
            consignment=consignment,
        )

    def consignment_for(
        self, org: bytes, ref: str, registrant: bytes | None, field: str = "consignment_ref"
    ) -> bytes:
        """The consignment id that reference ``ref`` names for organisation ``org``.

        A consignment id is bound to its registrant (keccak256(abi.encode(registrant,
        keccak256(ref))), so a reference names one consignment per registering organisation:
        ``registrant``'s when given; else ``org``'s own when it registered the reference; else
        the reference's only registration (from the index, or the chain's registration logs on
        a gateway without one; an index's unprocessed blocks are read from the chain).
        Several registrations and none of them ``org``'s: ``Conflict``
        (409) naming ``field``. Not registered at all (or not indexed yet): ``org``'s own id,
        which the chain then rejects as unknown."""
        if registrant is not None:
            return consignment_id(ref, registrant=registrant)
        own = consignment_id(ref, registrant=org)
        if self.ledger.consignments.exists(own):
            return own
        ref_hash = reference_hash(ref)
        if self.index is None:
            found = self.registrations_on_chain(ref_hash)
        else:  # the index, and the blocks it has not processed yet
            found = self.index.consignments_by_reference(ref_hash)
            later = self.registrations_on_chain(ref_hash, after=self.index.cursor()[0])
            found += [r for r in later if r not in found]
        if len(found) == 1:
            return found[0][0]
        if len(found) > 1:
            raise _ambiguous(ref, found, field)
        return own

    def resolve_consignments(
        self, org: bytes, refs: Iterable[str], *, memo: dict[str, Any]
    ) -> None:
        """:meth:`consignment_for` (no registrant named) for many references at once, into
        ``memo`` (``context(memo=...)`` reads it): the registrations of every reference from
        the index (one query each) or the chain's registration logs (one log query for the
        caller's own registrations, by consignment id, and one for the references it did not
        register), never a call per reference. The answer for each: the consignment id, or
        the ``Conflict`` of a reference several organisations registered. Also notes in
        ``memo`` whether each id is on chain (key ``CONSIGNMENTS_ON_CHAIN``), so that the
        events of a bulk request on a consignment that is not there are refused without
        simulating each."""
        answers: dict[tuple[bytes, str], bytes | Conflict] = memo.setdefault(_REFS, {})
        on_chain: dict[bytes, bool] = memo.setdefault(CONSIGNMENTS_ON_CHAIN, {})
        wanted = {ref: reference_hash(ref) for ref in refs if (org, ref) not in answers}
        if self.index is None and wanted:
            # The caller's own registrations first: its own id wins, and they are found by
            # their (indexed) consignment id, not by scanning every registration.
            owns = {ref: consignment_id(ref, registrant=org) for ref in wanted}
            registered = self._registered(set(owns.values()))
            for ref, own in owns.items():
                if own in registered:
                    answers[(org, ref)] = own
                    on_chain[own] = True
            wanted = {ref: h for ref, h in wanted.items() if (org, ref) not in answers}
        if not wanted:
            return
        hashes = set(wanted.values())
        found: dict[bytes, list[tuple[bytes, bytes]]] = {h: [] for h in hashes}
        if self.index is None:
            chain_found = self._registrations(hashes)
        else:  # the index, and the blocks it has not processed yet
            for ref_hash in hashes:
                found[ref_hash] = self.index.consignments_by_reference(ref_hash)
            chain_found = self._registrations(hashes, after=self.index.cursor()[0])
        for ref_hash, later in chain_found.items():
            found[ref_hash] += [r for r in later if r not in found[ref_hash]]
        for ref, ref_hash in wanted.items():
            registrations = found[ref_hash]
            for cid, _ in registrations:
                on_chain[cid] = True
            own = consignment_id(ref, registrant=org)
            if any(cid == own for cid, _ in registrations):
                answers[(org, ref)] = own
            elif len(registrations) == 1:
                answers[(org, ref)] = registrations[0][0]
            elif registrations:
                answers[(org, ref)] = _ambiguous(ref, registrations, "consignment_ref")
            else:
                answers[(org, ref)] = own
                on_chain[own] = False

    def _registered(self, ids: set[bytes]) -> set[bytes]:
        """The consignment ids among ``ids`` with a registration log (a query per 500 ids,
        filtered by the node on the indexed ``consignmentId``)."""
        client = self.ledger.consignments
        topic = "0x" + bytes(client.abi.event("ConsignmentRegistered").topic0).hex()
        wanted = sorted(ids)
        out: set[bytes] = set()
        for start in range(0, len(wanted), 500):
            chunk = ["0x" + cid.hex() for cid in wanted[start : start + 500]]
            logs: list[Any] = list(
                self.ledger.w3.eth.get_logs(
                    {
                        "address": client.address,
                        "fromBlock": self.ledger.deployment.block,
                        "toBlock": "latest",
                        "topics": [topic, chunk],
                    }
                )
            )
            out |= {
                bytes(d.args["consignmentId"])
                for d in client.decode_logs(logs)
                if d.event == "ConsignmentRegistered"
            }
        return out

    def registrations_on_chain(
        self, ref_hash: bytes, *, after: int | None = None
    ) -> list[tuple[bytes, bytes]]:
        """(consignment id, registrant) of every registration of reference hash ``ref_hash``
        in the Consignments logs after block ``after`` (default: all of them), oldest first;
        one log query."""
        return self._registrations({ref_hash}, after=after).get(ref_hash, [])

    def _registrations(
        self, ref_hashes: set[bytes], *, after: int | None = None
    ) -> dict[bytes, list[tuple[bytes, bytes]]]:
        """:meth:`registrations_on_chain` for several reference hashes, one log query."""
        if after is not None and after >= int(self.ledger.w3.eth.block_number):
            return {}  # the index has every block
        client = self.ledger.consignments
        topic = "0x" + bytes(client.abi.event("ConsignmentRegistered").topic0).hex()
        logs: list[Any] = list(
            self.ledger.w3.eth.get_logs(
                {
                    "address": client.address,
                    "fromBlock": self.ledger.deployment.block if after is None else after + 1,
                    "toBlock": "latest",
                    "topics": [topic],
                }
            )
        )
        out: dict[bytes, list[tuple[bytes, bytes]]] = {}
        for d in client.decode_logs(logs):
            ref_hash = bytes(d.args["referenceHash"])
            if d.event == "ConsignmentRegistered" and ref_hash in ref_hashes:
                out.setdefault(ref_hash, []).append(
                    (bytes(d.args["consignmentId"]), bytes(d.args["registrant"]))
                )
        return out

    def certificate_unit(self, certificate_id: bytes) -> str | None:
        """The unit a certificate's quantity is in (from its CertificateIssued log)."""
        cached = self._units.get(certificate_id)
        if cached is not None:
            return cached
        client = self.ledger.certificates
        logs: list[Any] = list(
            self.ledger.w3.eth.get_logs(
                {
                    "address": client.address,
                    "fromBlock": self.ledger.deployment.block,
                    "toBlock": "latest",
                    "topics": [None, "0x" + certificate_id.hex()],
                }
            )
        )
        for decoded in client.decode_logs(logs):
            if decoded.event == "CertificateIssued":
                record = decoded.args["record"]
                raw = record["unit"] if isinstance(record, dict) else record[7]
                unit = bytes(raw).rstrip(b"\0").decode("ascii")
                self._units[certificate_id] = unit
                return unit
        return None


def _ambiguous(ref: str, found: Sequence[tuple[bytes, bytes]], field: str) -> Conflict:
    registrants = ", ".join("0x" + r.hex() for _, r in found)
    return Conflict(
        f"consignment reference {ref!r} is registered by {len(found)} organisations "
        f"({registrants}), each with its own consignment: give consignment_registrant "
        "or consignment_id",
        code="ambiguous_consignment_ref",
        field=field,
        rule="one registrant",
    )


def require_ledger(chain: LedgerServices | None) -> LedgerServices:
    if chain is None:
        raise ServiceUnavailable("this gateway is not connected to a ledger", code="no_ledger")
    return chain
