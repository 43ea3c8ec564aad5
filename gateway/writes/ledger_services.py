"""The ledger side of the gateway: the deployed suite, validation, custodial keys, the index.

:class:`LedgerServices` is what the write and read routes need beyond the outbox; it is
``GatewayServices.ledger`` (``None`` in an app without a chain: those routes answer 503).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gateway.auth import Caller
from gateway.errors import Conflict, ServiceUnavailable
from gateway.models.record_fields import BuildContext, NonceSource
from gateway.writes.custodial_keys import SigningKeyStore
from gateway.writes.validation import ChainValidator
from ledger.chain import Ledger, finality_of
from ledger.records import consignment_id, reference_hash

if TYPE_CHECKING:
    from ledger.index import EpcisStore, Index

__all__ = ["LedgerServices", "require_ledger"]

logger = logging.getLogger("gateway.chain")


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

    def context(self, caller: Caller, *, signer: str | None = None) -> BuildContext:
        """What request models need to become records for ``caller``."""
        who = signer or caller.org_id

        def nonce() -> int:
            return self.nonces.next(who)

        org = bytes.fromhex(caller.org_id[2:])

        def consignment(ref: str, registrant: bytes | None, field: str) -> bytes:
            return self.consignment_for(org, ref, registrant, field)

        return BuildContext(
            org_id=org,
            now=self.now(),
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
            registrants = ", ".join("0x" + r.hex() for _, r in found)
            raise Conflict(
                f"consignment reference {ref!r} is registered by {len(found)} organisations "
                f"({registrants}), each with its own consignment: give consignment_registrant "
                "or consignment_id",
                code="ambiguous_consignment_ref",
                field=field,
                rule="one registrant",
            )
        return own

    def registrations_on_chain(
        self, ref_hash: bytes, *, after: int | None = None
    ) -> list[tuple[bytes, bytes]]:
        """(consignment id, registrant) of every registration of reference hash ``ref_hash``
        in the Consignments logs after block ``after`` (default: all of them), oldest first;
        one log query."""
        if after is not None and after >= int(self.ledger.w3.eth.block_number):
            return []  # the index has every block
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
        return [
            (bytes(d.args["consignmentId"]), bytes(d.args["registrant"]))
            for d in client.decode_logs(logs)
            if d.event == "ConsignmentRegistered" and bytes(d.args["referenceHash"]) == ref_hash
        ]

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


def require_ledger(chain: LedgerServices | None) -> LedgerServices:
    if chain is None:
        raise ServiceUnavailable("this gateway is not connected to a ledger", code="no_ledger")
    return chain
