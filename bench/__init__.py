"""Benchmarks of the ledger against its peers, on one fresh anvil node.

``python -m bench.run`` (``make bench``) runs every section in :data:`bench.run.SECTIONS`
and writes ``bench/results.json``; ``--quick`` runs the same code on small sizes.
"""
