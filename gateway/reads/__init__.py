"""The read path: queries over the index and the contracts, and the views they answer with.

* :mod:`~gateway.reads.queries` -- consignments, certificates, attestations, AEO status,
  recognition, MRAs, organisations: histories from the index, state from the contracts;
* :mod:`~gateway.reads.views` -- the response models of those queries;
* :mod:`~gateway.reads.epcis_queries` -- EPCIS 2.0 reads: the simple event query, events by id
  and EPC, capture jobs, consignment exports, inclusion proofs.

May import :mod:`ledger`, the gateway's foundation modules (:mod:`gateway.auth`,
:mod:`gateway.errors`) and :mod:`gateway.writes.ledger_services` (the connection to the
deployed suite it reads through); never the rest of the write path, :mod:`gateway.api` or the
app. Import names from the modules.
"""
