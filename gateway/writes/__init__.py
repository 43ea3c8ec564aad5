"""The write path: a record from the request to the chain, exactly once.

Owns everything between a write route and the contracts:

* :mod:`~gateway.writes.intake` -- accepting records, custodial (the gateway signs) and
  non-custodial (the client signed), single, bulk and signed batches;
* :mod:`~gateway.writes.validation` -- what is checked before a record is accepted (signer,
  organisation, role, an ``eth_call`` of the contract, what the chain cannot see yet);
* :mod:`~gateway.writes.kinds` -- record kinds and the ledger's record types, record ids;
* :mod:`~gateway.writes.pending` -- what the outbox holds that the chain cannot see yet (a
  second record for the same consignment, revocation, attestation uid or MRA id);
* :mod:`~gateway.writes.custodial_keys` -- organisations' keys held by the gateway, encrypted;
* :mod:`~gateway.writes.declaration_store` -- declared values (AES-GCM at rest) and inspection
  results, readable by the declarant and its administration only;
* :mod:`~gateway.writes.lodgement` -- lodging declarations and recording inspection results:
  the store and the outbox together;
* :mod:`~gateway.writes.ledger_services` -- the deployed suite and what the gateway builds on
  it (also what the read path reads through);
* :mod:`gateway.writes.outbox` -- the durable outbox and its submitter;
* :mod:`~gateway.writes.relayer` -- the outbox's relayer on the contracts;
* :mod:`~gateway.writes.epcis_capture` -- EPCIS 2.0 capture: a document validated whole, its
  events stored, its Merkle root signed and relayed.

May import :mod:`ledger`, :mod:`gateway.models`, and the gateway's foundation modules
(:mod:`gateway.auth`, :mod:`gateway.config`, :mod:`gateway.db`, :mod:`gateway.errors`,
:mod:`gateway.metrics`); never :mod:`gateway.api`, :mod:`gateway.reads` or the app. Import
names from the modules; the public ones are re-exported by :mod:`gateway`.
"""
