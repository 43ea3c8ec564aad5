"""Putting the pieces together: node connection, relayer, deployment, bootstrap and demo data.

Owns: connecting to (or starting) a node and deploying the suite (:mod:`.wiring`), the
production bootstrap file (:mod:`.bootstrap`), the demo world (:mod:`.demo`) and the
organisation names people know members by (:mod:`.names`).

May import: every other package of :mod:`ledger` except the command line; used by the
``ledger`` command line and the gateway.
"""

from ledger.stack.bootstrap import (
    load_bootstrap,
)
from ledger.stack.demo import (
    CARRIER,
    CUSTOMS,
    DEMO_PARTIES,
    EXPORT_RELEASE_SCHEMA,
    ISSUING_BODY,
    POSTAL_OPERATOR,
    SEAL_CHECK_SCHEMA,
    TRADER,
    DemoWorld,
    Party,
    admit,
    bootstrap_for,
    demo_world,
    seed_demo,
)
from ledger.stack.names import NAMES_FILE, OrganisationNames, record_names
from ledger.stack.wiring import (
    ANVIL_CHAIN_ID,
    ANVIL_DEV_KEY,
    DEMO_FILE,
    SEEDING_FILE,
    confirmations,
    connect,
    demo_complete,
    demo_governed,
    deploy,
    embedded_node,
    is_anvil,
    is_dev_chain,
    relayer_key,
    seed_if_new,
)

__all__ = [
    "ANVIL_CHAIN_ID",
    "ANVIL_DEV_KEY",
    "CARRIER",
    "CUSTOMS",
    "DEMO_FILE",
    "DEMO_PARTIES",
    "EXPORT_RELEASE_SCHEMA",
    "ISSUING_BODY",
    "NAMES_FILE",
    "POSTAL_OPERATOR",
    "SEAL_CHECK_SCHEMA",
    "SEEDING_FILE",
    "TRADER",
    "DemoWorld",
    "OrganisationNames",
    "Party",
    "admit",
    "bootstrap_for",
    "confirmations",
    "connect",
    "demo_complete",
    "demo_governed",
    "demo_world",
    "deploy",
    "embedded_node",
    "is_anvil",
    "is_dev_chain",
    "load_bootstrap",
    "record_names",
    "relayer_key",
    "seed_demo",
    "seed_if_new",
]
