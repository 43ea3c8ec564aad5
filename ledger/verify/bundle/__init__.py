"""Proof bundles: a consignment's on-chain evidence in one JSON file, checkable against any node.

    bundle = export_bundle(index, consignment_id)      # from the index, anchored at its block
    write_bundle(bundle, path)
    verdict = verify_bundle(load_bundle(path), w3)      # any node: no gateway, no index

**What a bundle holds** (``format`` ``customs-ledger/proof-bundle``, ``version`` 1)::

    chain_id      the chain's id
    block         {number, hash}: the block at which the head is asserted
    contracts     {name: {address, code_hash}} for the five contracts (code_hash: keccak256 of the
                  runtime code at that block)
    consignment   {id, head, event_count}: Consignments.head(id) at ``block``
    logs          every log of the consignment's scope (below), in chain order, each
                  {contract, event, address, topics, data, block_number, block_hash, tx_hash,
                  tx_index, log_index, block_time, record}

**Scope**: the logs a bundle holds, defined by indexed topics alone (:func:`bundle_scope`), so
that the node can be asked for the same set:

1. ``Consignments`` logs with the consignment id (registration and events);
2. ``QuantityDrawn`` logs with the consignment id (its drawdowns), which name its certificates;
3. every ``CertificateIssued``, ``CertificateRevoked`` and ``QuantityDrawn`` log of those
   certificates (drawdowns by *other* consignments included);
4. ``Attested`` logs whose subject is the consignment, one of its certificates, or an
   attestation found so far (repeated until no new one), and the ``AttestationRevoked`` logs of
   all of them;
5. for every signed record above, the ``OrganisationAdmitted``, ``OrganisationSuspended`` and
   ``OrganisationReinstated`` logs of its organisation and the ``SigningKeyAdded`` and
   ``SigningKeyRevoked`` logs of its key.

``record`` is the log decoded with the contracts' ABI (ids and digests as 0x-hex, the signer's
key address included: the chain proves who signed through the contract's signature check and
the log carries the recovered signer; the 65-byte signatures of events are calldata, not logs,
so the bundle carries the signer address, not the signature). Consignment events also carry
``fields``: the packed ``meta`` word unpacked (CBV step and disposition words, UN/LOCODE, time,
container, nonce, deadline).

**What** :func:`verify_bundle` **checks**, each failure a finding declared by :mod:`.check`
(``BUNDLE_*``, see its table) or :mod:`.completeness` (``BUNDLE_INCOMPLETE``,
``BUNDLE_LOG_UNRELATED``):

* the bundle has exactly the fields above, well typed (``BUNDLE_MALFORMED``);
* the node's chain id is the bundle's (``BUNDLE_CHAIN_MISMATCH``) and its block at
  ``block.number`` has ``block.hash`` (``BUNDLE_BLOCK_MISMATCH``);
* the code at each contract address, at that block, hashes to ``code_hash`` and is the runtime
  code of the build artifacts, immutables aside (``BUNDLE_CODE_MISMATCH``, which ends the
  check: the logs and state of other code prove nothing);
* every log is in its transaction's receipt (``eth_getTransactionReceipt``) at its log index
  (``BUNDLE_LOG_NOT_FOUND``) with the same address, topics, data, block number, block hash and
  block time, from a suite contract, at or before the bundle's block (``BUNDLE_LOG_MISMATCH``);
* every ``record`` is exactly the decoding of its log (``BUNDLE_RECORD_MISMATCH``);
* every signed record's key is bound to the record's organisation by a verified
  ``SigningKeyAdded`` log in the bundle (``BUNDLE_SIGNER_UNPROVEN``);
* the hash chain recomputed from the registration and event logs matches each event's emitted
  head, the bundle's head and count, and ``Consignments.head(id)`` at the bundle's block
  (``BUNDLE_HEAD_MISMATCH``);
* **completeness**, in two legs:

  - *the node's logs*: the scope is computed again from the node alone, each filter an
    ``eth_getLogs`` by address, event topics and the indexed id, from block 0 to the bundle's
    block (the range halved when the node refuses it as too wide), and the bundle's proven
    logs must be that set exactly: a log the node has and the bundle lacks is
    ``BUNDLE_INCOMPLETE`` (a hidden certificate revocation, drawdown by another consignment,
    attestation, attestation revocation, key revocation or member suspension), a proven log
    outside the scope is ``BUNDLE_LOG_UNRELATED``;
  - *the contracts' state* at the bundle's block (``eth_call``): each certificate's status and
    drawn total, each attestation's and key's revocation, each member's status must be what
    the bundle's logs add up to (``BUNDLE_INCOMPLETE``).

The logs are the proof of completeness; the state is the cross-check. Logs prove more: the
contracts emit one for every change ("every change an event"), a filter by indexed id lists
them all, while state shows only the outcome (it cannot list the attestations on a
consignment, and a suspension hidden together with the reinstatement that followed leaves it
unchanged). State holds where a node's log filter fails (log filters have had bugs; a node
that drops a log from ``eth_getLogs`` still has its effect in state). Events are proven
complete by the head as well. Both legs trust the node as much as the rest of the check does.
The filters start at block 0 (a hidden attestation or certificate log may be older than anything
the bundle carries): on Besu, give the node a verifier uses ``--rpc-max-logs-range=0``, or the
check walks a long chain in pieces of the node's limit (5,000 blocks by default).

So changing any field of a bundle, adding a log or removing one makes one of these checks
fail, and the finding says which. What a bundle does not prove: anything outside its scope, in
particular AEO certifications and MRAs (it carries none: ask the node's ``recognition`` view,
``ledger verify``), attestations on the signing organisations or that only refer to one of
its attestations (``refUid`` is not indexed), the schemas of its attestations, and the keys
that signed key additions.

Modules: :mod:`.scope` (the format, the scope, a log as the bundle carries it), :mod:`.export`
(from the index; bundle files), :mod:`.check` (:func:`verify_bundle`) and :mod:`.completeness`
(its two completeness legs).
"""

from ledger.verify.bundle.check import verify_bundle
from ledger.verify.bundle.export import export_bundle, load_bundle, write_bundle
from ledger.verify.bundle.scope import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    CONTRACTS,
    SIGNING_ORG,
    Fetch,
    bundle_scope,
    decode_record,
)

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "CONTRACTS",
    "SIGNING_ORG",
    "Fetch",
    "bundle_scope",
    "decode_record",
    "export_bundle",
    "load_bundle",
    "verify_bundle",
    "write_bundle",
]
