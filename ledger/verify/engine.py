"""The verifier: runs the checks on a claim and assembles the verdict.

    verifier = Verifier(ledger, index, scorer=score_risk)  # ledger.risk.score_risk, optional
    verdict = verifier.verify(Claim(consignment_ref="AU-UCR-...", origin="AU",
                                    certificate=CertificateClaim(number="CHAFTA-...",
                                                                 issuer=chamber_org_id),
                                    administration=cn_customs_org_id))
    verdict.status        # "verified" | "suspicious" | "failed"
    render_report(verdict)

The :class:`Verifier` reads the log index (:class:`ledger.index.Index`) for the history and
the chain (typed clients) for everything the index could hide: consignment heads at the
indexed block, certificate state and record hash, attestation revocation, key state,
organisation status, AEO recognition. Those chain reads go to the node as raw JSON-RPC, in one
batch request per verification where they can be known in advance (:func:`plan_reads`,
:class:`~ledger.verify.reads.ChainReads`).

A verification locates the claim's consignment and certificate, reads the chain, confirms the
index's attestations against the contract, then runs :data:`ledger.verify.checks.CLAIM_CHECKS`
in order, each where what it needs is there. It returns a :class:`~ledger.verify.Verdict`:
**failed** when any finding is critical, **suspicious** when any is a warning, **verified** when
there is none. Every check that ran or was skipped is listed in ``verdict.checks``; a check that
cannot run (no locode coordinates, no serial registry, nothing claimed) is *skipped*, never
silently passed. The finding codes, and when each is raised, are in the check modules
(:mod:`ledger.verify.checks`); all of them in :data:`ledger.verify.CATALOGUE`.

Risk is not verification's business: a caller that wants a risk score passes a ``scorer``
(:func:`ledger.risk.score_risk`; the CLI and the gateway do), called with the findings, the
number of recognised AEOs and the consignor's history; its result is ``verdict.risk``.

For the CLI and the gateway
---------------------------
* ``ledger verify``: :func:`~ledger.verify.claim_from_json` (a JSON claim file or request
  body) then :func:`verify_claim` (``ledger``, ``index``, optional ``locodes``, ``serials``,
  ``policy``, ``scorer``), then :func:`~ledger.verify.render_report` (text) or
  :func:`~ledger.verify.verdict_json` (``--json``). Exit status (``ledger.cli``): 0 verified,
  3 suspicious, 4 failed, 1 an error (an :class:`~ledger.errors.InvalidClaim` too: HTTP 422).
* ``ledger verify-bundle``: :func:`ledger.verify.bundle.load_bundle` then
  :func:`ledger.verify.bundle.verify_bundle` (``bundle``, ``w3``) and the same rendering;
  :func:`~ledger.verify.export_bundle` + :func:`~ledger.verify.write_bundle` to produce one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Protocol

from ledger.chain import Ledger
from ledger.errors import InvalidClaim
from ledger.index import Index
from ledger.records import LocodeDirectory, packaged_unlocode
from ledger.verify.checks import CLAIM_CHECKS, certificate, consignment, integrity
from ledger.verify.claim import Claim, VerificationPolicy
from ledger.verify.dossier import dossier, organisations
from ledger.verify.evidence import ZERO32, h
from ledger.verify.findings import Finding, Verdict, status_of
from ledger.verify.reads import checksummed, log_ranges
from ledger.verify.registry import SerialRegistry
from ledger.verify.run import Context, Directory, Run

__all__ = ["RiskScorer", "Verifier", "plan_reads", "verify_claim"]

log = logging.getLogger("ledger.verify.engine")


class RiskScorer(Protocol):
    """What makes ``verdict.risk`` of a claim's findings (:func:`ledger.risk.score_risk`)."""

    def __call__(
        self,
        findings: Iterable[Finding],
        *,
        recognised_aeos: int,
        history: tuple[int, bool],
        on_ledger: bool,
    ) -> object: ...


class Verifier:
    """Checks claims against the index and the chain (see the module docstring).

    ``locodes``: the :class:`~ledger.records.LocodeDirectory` whose coordinates the travel
    time check uses (default: the packaged UN/LOCODE list, so the check always runs);
    ``serials``: a :class:`~ledger.verify.SerialRegistry` enables the cloned-serial
    checks; ``scorer``: a risk scorer for ``verdict.risk`` (none: ``verdict.risk`` is None);
    ``names``: organisation names (org id -> name, :class:`ledger.stack.OrganisationNames`)
    for the findings' words and ``verdict.organisations``. ``verdict.record`` is the positive
    evidence (:mod:`ledger.verify.dossier`).

    Kept between verifications: only the index's organisation directory and members' status
    history, while the index cursor (block number and hash) stays where it was read. Every
    verification reads the chain afresh (keys, heads, logs, attestations, certificates).
    """

    def __init__(
        self,
        ledger: Ledger,
        index: Index,
        *,
        locodes: LocodeDirectory | None = None,
        serials: SerialRegistry | None = None,
        policy: VerificationPolicy | None = None,
        scorer: RiskScorer | None = None,
        names: Mapping[bytes, str] | None = None,
    ) -> None:
        self.ledger = ledger
        self.names = names
        self.index = index
        self.locodes = locodes if locodes is not None else packaged_unlocode()
        self.serials = serials
        self.policy = policy or VerificationPolicy()
        self.scorer = scorer
        self._directory: Directory | None = None

    def verify(
        self, claim: Claim, *, sync: bool = True, names: Mapping[bytes, str] | None = None
    ) -> Verdict:
        """Verify ``claim``; with ``sync`` the index first catches up with the chain.
        ``names`` (org id -> name) adds to the verifier's for this verification."""
        if (
            claim.consignment_ref is None
            and claim.consignment_id is None
            and claim.container is None
            and claim.certificate is None
        ):
            raise InvalidClaim("a claim must name a consignment, a container or a certificate")
        started = time.perf_counter()
        if sync:
            self.index.sync()
        cursor = self.index.cursor()
        block = cursor[0]
        directory = self._directory
        if directory is None or directory.at != cursor:
            directory = self._directory = Directory.read(self.index, cursor)
        ctx = Context(
            ledger=self.ledger,
            index=self.index,
            directory=directory,
            policy=self.policy,
            locodes=self.locodes,
            serials=self.serials,
            names={**(self.names or {}), **(names or {})},
        )
        run = Run(claim=claim, at=0 if claim.at is None else claim.at, block=block)

        consignment.locate(ctx, run)
        run.found_certificate = certificate.find(ctx, run)
        plan_reads(ctx, run)
        at = claim.at
        if at is None:
            at = run.at = ctx.chain.block_time(block)
        if run.consignment is not None:
            run.attestations = integrity.confirmed_attestations(ctx, run, run.attestations)
        for check in CLAIM_CHECKS:
            if check.applies(ctx, run):
                check.run(ctx, run)

        risk = None
        if self.scorer is not None:
            risk = self.scorer(
                run.findings,
                recognised_aeos=len(run.recognised_aeos),
                history=_history(ctx, run),
                on_ledger=run.consignment is not None,
            )
        status = status_of(run.findings)
        subject = _subject(run)
        record = dossier(ctx, run)
        log.info(
            "verified %s: %s (%d findings) in %.3f s",
            subject,
            status,
            len(run.findings),
            time.perf_counter() - started,
        )
        return Verdict(
            status=status,
            subject=subject,
            findings=tuple(run.findings),
            checks=tuple(run.checks),
            at=at,
            block_number=block,
            consignment_id=None if run.consignment is None else run.consignment.consignment_id,
            certificate_id=None if run.certificate is None else run.certificate.certificate_id,
            risk=risk,
            record=record,
            organisations=organisations(ctx, run, record),
        )


def plan_reads(ctx: Context, run: Run) -> None:
    """Ask the node, in one batch, for what the checks will read from the chain: the head at
    the indexed block, the consignment's logs (with ``check_attribution``), its attestations'
    and every signer's state on chain, the certificate's state, the block time."""
    chain, ledger = ctx.chain, ctx.ledger
    if run.claim.at is None:
        chain.want_block(run.block)
    signers: list[str] = []
    cons = run.consignment
    if cons is not None:
        cid = cons.consignment_id
        chain.want_call(ledger.consignments, "head", cid, block=run.block)
        if ctx.policy.check_attribution:
            address = ledger.consignments.address
            topics = integrity.attribution_filter(ctx, cons)
            records = integrity.attributed(ctx, run)
            for start, end in log_ranges(i.block_number for i in records):
                chain.want_logs(address, topics, start, end)
        for a in run.attestations:
            chain.want_call(ledger.attestations, "attestation", a.uid)
        signers += [cons.signer, *(e.signer for e in run.timeline)]
        signers += [d.signer for d in run.drawdowns] + [a.signer for a in run.attestations]
    cert = run.found_certificate
    if cert is not None:
        chain.want_call(ledger.certificates, "certificate", cert.certificate_id)
        if cons is not None:
            chain.want_call(
                ledger.certificates, "drawnFor", cert.certificate_id, cons.consignment_id
            )
        signers.append(cert.signer)
    for signer in dict.fromkeys(signers):
        chain.want_call(ledger.membership, "keyInfo", checksummed(signer))
    chain.flush()


def _subject(run: Run) -> str:
    c = run.claim
    if c.consignment_ref:
        return f"consignment {c.consignment_ref}"
    if run.consignment is not None:
        return f"consignment {h(run.consignment.consignment_id)}"
    if c.container:
        return f"container {c.container}"
    if c.certificate is not None and c.certificate.number:
        return f"certificate {c.certificate.number}"
    return "certificate"


def _history(ctx: Context, run: Run) -> tuple[int, bool]:
    """(earlier consignments of the same consignor, whether its record is clean)."""
    if run.consignment is None or run.consignment.consignor == ZERO32:
        return 0, False
    cons = run.consignment
    return ctx.index.consignor_history(
        cons.consignor, before_block=cons.block_number, earlier=run.consignor_earlier
    )


def verify_claim(
    claim: Claim,
    *,
    ledger: Ledger,
    index: Index,
    locodes: LocodeDirectory | None = None,
    serials: SerialRegistry | None = None,
    policy: VerificationPolicy | None = None,
    scorer: RiskScorer | None = None,
    names: Mapping[bytes, str] | None = None,
    sync: bool = True,
) -> Verdict:
    """One-call form of :meth:`Verifier.verify` (what ``ledger verify`` calls)."""
    verifier = Verifier(
        ledger,
        index,
        locodes=locodes,
        serials=serials,
        policy=policy,
        scorer=scorer,
        names=names,
    )
    return verifier.verify(claim, sync=sync)
