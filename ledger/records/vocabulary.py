"""The shared vocabulary of records: organisation kinds and the attestation schemas in use.

The organisation kinds are the ``uint8`` the Membership contract stores; the schemas are the
strings whose keccak-256 is the attestation schema id registered on chain.
"""

from __future__ import annotations

__all__ = [
    "CARRIER",
    "CUSTOMS",
    "EXPORT_RELEASE_SCHEMA",
    "INSPECTION_SCHEMA",
    "ISSUING_BODY",
    "POSTAL_OPERATOR",
    "SEAL_CHECK_SCHEMA",
    "TRADER",
]

CUSTOMS, CARRIER, TRADER, ISSUING_BODY, POSTAL_OPERATOR = 1, 2, 3, 4, 5

EXPORT_RELEASE_SCHEMA = "export-release(bytes32 declarationDigest,bytes2 country)"
SEAL_CHECK_SCHEMA = "seal-check(bytes32 sealDigest,bool intact)"
INSPECTION_SCHEMA = "inspection(bytes32 reportDigest,bytes32 newSealDigest,bool passed)"
