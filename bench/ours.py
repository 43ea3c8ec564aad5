"""Our contracts' gas, measured on the bench node with real signed records.

The suite is deployed with the demo bootstrap and the demo world is seeded (real governance,
real signatures); then each figure is the ``gasUsed`` of real receipts: the whole
transaction as the relayer pays it (21,000 base, calldata, execution).

* ``gas_event_single``: one signed event on an existing consignment; the signer's nonce word
  is already in use (steady state: a key's sequential nonces share one storage word).
* ``gas_event_batch100``: 100 signed events in one transaction over 10 existing consignments
  (a carrier's batch), per event, with one ``EventBatch`` signature of the carrier's key
  covering all 100 (``postEventBatch``); ``gas_event_batch100_distinct`` the same over 100
  distinct consignments (every event pays a cold head update);
  ``gas_event_batch100_signed_each`` 100 events each with its own signature (``postEvents``,
  what a relayer batching records of different signers sends), over 10 consignments.
* ``gas_coo_issue``, ``gas_coo_drawdown``: a certificate of origin issued; a drawdown alone.
  ``gas_coo_drawdown_batch100``: per drawdown in a batch of 100 by the exporter on 100 distinct
  certificates (each pays its cold certificate update), with one ``DrawdownBatch`` signature of
  its key covering all 100 (``drawDownSignedBatch``); ``gas_coo_drawdown_batch100_signed_each``
  100 drawdowns on 100 distinct certificates each with its own signature (``drawDownBatch``).
* ``gas_attest_single``: an attestation alone. ``gas_attest_batch100``: per attestation in a
  batch of 100 by one customs administration with one ``AttestationBatch`` signature of its key
  covering all 100 (``attestSignedBatch``); ``gas_attest_batch100_signed_each`` 100
  attestations each with its own signature (``attestBatch``).
"""

from __future__ import annotations

import logging
import secrets
from statistics import median

from eth_utils.crypto import keccak

from bench.context import BenchContext, Figures
from ledger.chain import Ledger, TxManager, deploy_suite
from ledger.records import (
    Attestation,
    BusinessStep,
    CertificateIssue,
    ConsignmentEvent,
    ConsignmentRegistration,
    Disposition,
    Drawdown,
    Locode,
    SignedRecord,
    SubjectType,
    certificate_id,
    consignment_id,
    fixed_ascii,
    hs_codes_digest,
    reference_hash,
)
from ledger.stack import DEMO_PARTIES, DemoWorld, admit, bootstrap_for, demo_world, seed_demo

__all__ = ["OurSuite", "bench_our_gas", "our_suite"]

log = logging.getLogger("bench.ours")

SECTION = "ours_gas"


class OurSuite:
    """Our deployed suite on the bench node, with the seeded demo world."""

    def __init__(
        self, ctx: BenchContext, *, relayer: int = 1, gateway_relayer: int = 2, seed: bool = True
    ) -> None:
        self.tx = TxManager(ctx.w3, ctx.accounts[relayer].key, poll_interval=0.05)
        # A second allowed relayer, for a gateway started by a section: its nonces are its
        # own, so the two never compete for one account.
        self.gateway_relayer = ctx.accounts[gateway_relayer]
        now = int(ctx.w3.eth.get_block("latest")["timestamp"])
        bootstrap = bootstrap_for(
            DEMO_PARTIES, relayers=[self.tx.address, self.gateway_relayer.address], now=now
        )
        self.deployment = deploy_suite(ctx.w3, self.tx, bootstrap)
        self.ledger = Ledger(ctx.w3, self.deployment, tx=self.tx)
        if seed:
            self.world: DemoWorld = seed_demo(self.ledger)
        else:  # only the carrier and the exporter admitted: what a stream of events needs
            parties = demo_world()
            for name in ("carrier", "exporter"):
                admit(self.ledger, parties[name], governors=[parties["au"], parties["cn"]], now=now)
            self.world = DemoWorld(parties, "", bytes(32), "", bytes(32))
        self._nonces: dict[str, int] = {}

    def now(self) -> int:
        return int(self.ledger.w3.eth.get_block("latest")["timestamp"])

    def next_nonce(self, signer: str) -> int:
        """Sequential nonces per key, starting in a fresh word, as a careful signer does."""
        if signer not in self._nonces:
            self._nonces[signer] = (secrets.randbits(22) + 1) << 8
        self._nonces[signer] += 1
        return self._nonces[signer]

    def register(self, count: int) -> list[bytes]:
        carrier = self.world.parties["carrier"]
        exporter = self.world.parties["exporter"]  # the consignor: drawdowns need a party
        refs = [reference_hash(f"BENCH-{secrets.token_hex(6)}") for _ in range(count)]
        ids = [consignment_id(ref, registrant=carrier.org_id) for ref in refs]
        deadline = self.now() + 3600
        records = [
            self.ledger.sign(
                ConsignmentRegistration(
                    reference_hash=ref,
                    origin=b"AU",
                    destination=b"CN",
                    consignor=exporter.org_id,
                    deadline=deadline,
                ),
                carrier.private_key,
            )
            for ref in refs
        ]
        for start in range(0, count, 100):
            self.ledger.consignments.register_batch(records[start : start + 100])
        return ids

    def events(self, consignments: list[bytes], count: int) -> list[SignedRecord[ConsignmentEvent]]:
        carrier = self.world.parties["carrier"]
        t = self.now()
        out = []
        for i in range(count):
            event = ConsignmentEvent(
                consignment_id=consignments[i % len(consignments)],
                biz_step=BusinessStep("departing").code,
                disposition=Disposition("in_transit").code,
                location=Locode("AUADL").to_bytes5(),
                event_time=t - 60,
                container=b"CSQU3054383",
                seal_digest=keccak(text=f"seal {i}"),
                documents_digest=keccak(text=f"docs {i}"),
                epcis_event_hash=keccak(text=f"epcis {i}"),
                nonce=self.next_nonce(carrier.address),
                deadline=t + 3600,
            )
            out.append(self.ledger.sign(event, carrier.private_key))
        return out


def our_suite(ctx: BenchContext) -> OurSuite:
    """The suite for this run (deployed and seeded once, shared by our sections)."""
    suite = ctx.shared.get("our_suite")
    if not isinstance(suite, OurSuite):
        suite = OurSuite(ctx)
        ctx.shared["our_suite"] = suite
    return suite


def _per_item(gas: int, items: int) -> float:
    return round(gas / items, 1)


def bench_our_gas(ctx: BenchContext) -> Figures:
    suite = our_suite(ctx)
    ledger, world = suite.ledger, suite.world
    samples = max(ctx.sizes.gas_samples, 1)

    # Events: warm the carrier's nonce word first, then measure single events.
    consignments = suite.register(10)
    ledger.consignments.post_event(suite.events(consignments, 1)[0])
    singles = [
        ledger.consignments.post_event(e).gas_used for e in suite.events(consignments, samples)
    ]
    ctx.note(SECTION, "gas_event_single_samples", singles)
    signed_each = ledger.consignments.post_events(suite.events(consignments, 100))
    carrier = world.parties["carrier"]
    batch = ledger.consignments.post_event_batch(
        ledger.sign_event_batch(
            [s.record for s in suite.events(consignments, 100)],
            carrier.private_key,
            nonce=suite.next_nonce(carrier.address),
            deadline=suite.now() + 3600,
        )
    )
    distinct = suite.register(100)
    batch_distinct = ledger.consignments.post_event_batch(
        ledger.sign_event_batch(
            [s.record for s in suite.events(distinct, 100)],
            carrier.private_key,
            nonce=suite.next_nonce(carrier.address),
            deadline=suite.now() + 3600,
        )
    )

    # Certificates: issue, then drawdowns (each on a new consignment).
    chamber, exporter = world.parties["chamber"], world.parties["exporter"]
    issues = []
    cert_ids = []

    def certificate() -> CertificateIssue:
        t = suite.now()
        number = keccak(text=f"BENCH-COO-{secrets.token_hex(6)}")
        return CertificateIssue(
            certificate_number=number,
            exporter=exporter.org_id,
            origin=b"AU",
            destination=b"CN",
            document_digest=keccak(number),
            hs_codes_digest=hs_codes_digest(["220421", "220422"]),
            quantity=1_000_000,
            unit=fixed_ascii("LTR", 8),
            valid_from=t - 60,
            valid_until=t + 86400,
            issued_at=t - 30,
        )

    for _ in range(samples):
        record = certificate()
        issues.append(ledger.certificates.issue(ledger.sign(record, chamber.private_key)).gas_used)
        cert_ids.append(certificate_id(chamber.org_id, record.certificate_number))
    ctx.note(SECTION, "gas_coo_issue_samples", issues)
    targets = suite.register(samples)
    drawdowns = [
        ledger.certificates.draw_down(
            ledger.sign(
                Drawdown(
                    certificate_id=cert_ids[0],
                    consignment_id=cid,
                    quantity=10,
                    deadline=suite.now() + 3600,
                ),
                exporter.private_key,
            )
        ).gas_used
        for cid in targets
    ]
    ctx.note(SECTION, "gas_coo_drawdown_samples", drawdowns)
    hundred = [certificate() for _ in range(100)]
    ledger.certificates.issue_batch([ledger.sign(r, chamber.private_key) for r in hundred])
    distinct_certs = [certificate_id(chamber.org_id, r.certificate_number) for r in hundred]
    deadline = suite.now() + 3600
    drawdown_signed_each = ledger.certificates.draw_down_batch(
        [
            ledger.sign(
                Drawdown(certificate_id=cert, consignment_id=cid, quantity=10, deadline=deadline),
                exporter.private_key,
            )
            for cert, cid in zip(distinct_certs, distinct, strict=True)
        ]
    )
    # the same certificates and consignments, paired anew: every pair is drawn for the first time
    drawdown_batch = ledger.certificates.draw_down_signed_batch(
        ledger.sign_drawdown_batch(
            [
                Drawdown(certificate_id=cert, consignment_id=cid, quantity=10, deadline=deadline)
                for cert, cid in zip(distinct_certs, [*distinct[1:], distinct[0]], strict=True)
            ],
            exporter.private_key,
            deadline=deadline,
        )
    )

    # Attestations by a customs administration.
    cn = world.parties["cn"]

    def attestation(i: int) -> SignedRecord[Attestation]:
        record = Attestation(
            schema_id=world.schema_ids["seal-check"],
            subject_type=SubjectType.CONSIGNMENT,
            subject_id=distinct[i % len(distinct)],
            data_digest=keccak(text=f"seal check {secrets.token_hex(8)}"),
            deadline=suite.now() + 3600,
        )
        return ledger.sign(record, cn.private_key)

    attests = [ledger.attestations.attest(attestation(i)).gas_used for i in range(samples)]
    ctx.note(SECTION, "gas_attest_single_samples", attests)
    attest_signed_each = ledger.attestations.attest_batch([attestation(i) for i in range(100)])
    attest_batch = ledger.attestations.attest_signed_batch(
        ledger.sign_attestation_batch(
            [attestation(i).record for i in range(100)],
            cn.private_key,
            deadline=suite.now() + 3600,
        )
    )

    return {
        "gas_event_single": int(median(singles)),
        "gas_event_batch100": _per_item(batch.gas_used, 100),
        "gas_event_batch100_distinct": _per_item(batch_distinct.gas_used, 100),
        "gas_event_batch100_signed_each": _per_item(signed_each.gas_used, 100),
        "gas_coo_issue": int(median(issues)),
        "gas_coo_drawdown": int(median(drawdowns)),
        "gas_coo_drawdown_batch100": _per_item(drawdown_batch.gas_used, 100),
        "gas_coo_drawdown_batch100_signed_each": _per_item(drawdown_signed_each.gas_used, 100),
        "gas_attest_single": int(median(attests)),
        "gas_attest_batch100": _per_item(attest_batch.gas_used, 100),
        "gas_attest_batch100_signed_each": _per_item(attest_signed_each.gas_used, 100),
    }
