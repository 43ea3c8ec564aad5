"""Multi-node networks started by the project, and the kit for the production network.

Owns: the geth build cache (:mod:`.geth`), the local Clique network of geth nodes
(:mod:`.clique`), the Hyperledger Besu QBFT configuration kit (:mod:`.besu`), node keys and
enode URLs (:mod:`.keys`), a plain JSON-RPC client for the nodes (:mod:`.rpc`) and the
``ledger network`` commands (:mod:`.cli`).

May import: :mod:`ledger.errors`, :mod:`ledger.settings` and third-party libraries. Nothing
else in ``ledger`` imports this package, except the command line that registers its commands.
"""

from ledger.errors import (
    GethBuildError,
    NetworkConfigError,
    NetworkError,
    NetworkNotReady,
    NodeStartError,
    RpcCallError,
)
from ledger.network.besu import BesuKit, MemberSpec, qbft_extra_data, write_besu_kit
from ledger.network.clique import (
    DEFAULT_CHAIN_ID,
    SIGNER_NAMES,
    CliqueNetwork,
    NodeSpec,
    NodeStatus,
)
from ledger.network.geth import GETH_VERSION, cached_geth_path, ensure_geth
from ledger.network.keys import KeyPair
from ledger.network.rpc import RpcClient

__all__ = [
    "DEFAULT_CHAIN_ID",
    "GETH_VERSION",
    "SIGNER_NAMES",
    "BesuKit",
    "CliqueNetwork",
    "GethBuildError",
    "KeyPair",
    "MemberSpec",
    "NetworkConfigError",
    "NetworkError",
    "NetworkNotReady",
    "NodeSpec",
    "NodeStartError",
    "NodeStatus",
    "RpcCallError",
    "RpcClient",
    "cached_geth_path",
    "ensure_geth",
    "qbft_extra_data",
    "write_besu_kit",
]
