"""Custodial signing keys: one encrypted key per organisation, for clients that cannot sign.

Each organisation's key is an eth-account keystore file (Web3 Secret Storage v3: scrypt key
derivation, AES-128-CTR, keccak MAC) named ``<org id>.json`` in ``settings.keystore_path``
(default ``<data_dir>/keystore``), encrypted with ``settings.keystore_secret``. Files are
written atomically with mode 0600; the directory is 0700. The address is readable without
the secret (the file's ``address`` field), so listing never decrypts. A key is decrypted the
first time it signs and kept in memory by this process only.

The default ``keystore_secret`` is public (it is in the source), so
:meth:`SigningKeyStore.from_settings` (how the gateway, ``ledger up`` and the CLI open the
store) refuses it, and an empty secret, with a :class:`~ledger.errors.ConfigurationError`
unless the gateway runs on the local development chain (``settings.local_chain``: chain id
31337 on the embedded node or at a loopback RPC URL, as ``ledger up`` and ``ledger node`` run
it) or ``allow_insecure_keystore_secret`` is set. See :func:`check_keystore_secret`.

The key must also be registered on chain for its organisation (Membership ``addKey``, or the
admission's first key); until it is, the gateway refuses records it signs (403 ``UnknownKey``).

:func:`add_signing_key` and :func:`list_signing_keys` are what the CLI calls; the
``/admin/signing-keys`` routes do the same over HTTP.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from pydantic import SecretStr

from gateway.auth import normalize_org_id
from gateway.config import GatewaySettings
from gateway.errors import Conflict, InvalidRequest, NotFound
from ledger.errors import ConfigurationError
from ledger.settings import DEFAULT_KEYSTORE_SECRET, LOCAL_CHAIN_ID

__all__ = [
    "SigningKey",
    "SigningKeyStore",
    "add_signing_key",
    "check_keystore_secret",
    "list_signing_keys",
]

logger = logging.getLogger("gateway.signing_keys")

DEFAULT_SCRYPT_N = 2**18


def check_keystore_secret(settings: GatewaySettings) -> None:
    """Refuse a guessable ``keystore_secret`` (the public default, or empty) off the local chain.

    Allowed: a secret of one's own anywhere; a guessable one on the local development chain
    (``settings.local_chain``), or anywhere with ``allow_insecure_keystore_secret`` (logged).
    Raises :class:`~ledger.errors.ConfigurationError` naming the setting and the rule.
    """
    secret = settings.keystore_secret.get_secret_value()
    if secret not in (DEFAULT_KEYSTORE_SECRET, "") or settings.local_chain:
        return
    if settings.allow_insecure_keystore_secret:
        logger.warning(
            "custodial key store opened with a guessable keystore_secret on chain id %d "
            "(allow_insecure_keystore_secret is set): anyone can decrypt its keys",
            settings.chain_id,
        )
        return
    what = "empty" if secret == "" else f"the public default {DEFAULT_KEYSTORE_SECRET!r}"
    raise ConfigurationError(
        f"keystore_secret (LEDGER_KEYSTORE_SECRET) is {what}: the custodial key store is "
        f"opened with it only on the local development chain (chain id {LOCAL_CHAIN_ID} on the "
        "embedded node or at a loopback RPC URL), and this gateway runs on chain id "
        f"{settings.chain_id} at {settings.effective_rpc_url}. Set a secret of your own "
        "(LEDGER_KEYSTORE_SECRET), or set allow_insecure_keystore_secret "
        "(LEDGER_ALLOW_INSECURE_KEYSTORE_SECRET=true) on a throwaway network where anyone may "
        "read the custodial keys"
    )


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A stored custodial key: the organisation and the key's address (never the key)."""

    org_id: str
    address: str


def _account_from(private_key: str) -> LocalAccount:
    """The account of a private key given to import; a bad one is a 422 that never repeats
    the value (not in the answer, not in a log, not chained to the library's error, whose
    message quotes it)."""
    text = private_key.strip()
    digits = text[2:] if text[:2].lower() == "0x" else text
    problem = None
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        problem = "must be 32 bytes as 0x followed by 64 hex digits"
    elif not 0 < int(digits, 16) < _SECP256K1_ORDER:
        problem = "must be a secp256k1 private key (between 1 and the curve order - 1)"
    if problem is None:
        try:
            account: LocalAccount = Account.from_key("0x" + digits)
        except Exception:
            problem = "is not a usable secp256k1 private key"
        else:
            return account
    raise InvalidRequest(f"private_key {problem}", field="private_key", rule="secp256k1_key")


_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class SigningKeyStore:
    """The encrypted per-organisation key files in one directory (thread-safe)."""

    def __init__(self, path: Path, secret: SecretStr, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> None:
        self.path = path
        self._secret = secret
        self._scrypt_n = scrypt_n
        self._unlocked: dict[str, LocalAccount] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SigningKeyStore:
        """The store the settings name; refuses a public secret off the local chain
        (:func:`check_keystore_secret`)."""
        check_keystore_secret(settings)
        return cls(
            settings.keystore_path, settings.keystore_secret, scrypt_n=settings.keystore_scrypt_n
        )

    def _file(self, org_id: str) -> Path:
        return self.path / f"{normalize_org_id(org_id)}.json"

    def add(
        self, org_id: str, private_key: str | None = None, *, replace: bool = False
    ) -> SigningKey:
        """Store ``private_key`` (or a new random key) for ``org_id``; returns its address.

        Refuses (409) to overwrite an organisation's key unless ``replace``.
        """
        org = normalize_org_id(org_id)
        account = Account.create() if private_key is None else _account_from(private_key)
        encrypted = Account.encrypt(
            account.key, self._secret.get_secret_value(), kdf="scrypt", iterations=self._scrypt_n
        )
        target = self._file(org)
        with self._lock:
            if target.exists() and not replace:
                raise Conflict(f"organisation {org} already has a custodial key", code="key_exists")
            self.path.mkdir(parents=True, exist_ok=True)
            os.chmod(self.path, 0o700)
            tmp = target.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(encrypted, out)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(target)
            self._unlocked[org] = account
        logger.info("custodial key %s stored for %s", account.address, org)
        return SigningKey(org, str(account.address))

    def get(self, org_id: str) -> SigningKey | None:
        target = self._file(org_id)
        if not target.is_file():
            return None
        data = json.loads(target.read_text(encoding="utf-8"))
        return SigningKey(normalize_org_id(org_id), to_checksum_address("0x" + data["address"]))

    def list(self) -> list[SigningKey]:
        if not self.path.is_dir():
            return []
        keys = []
        for file in sorted(self.path.glob("0x*.json")):
            found = self.get(file.stem)
            if found is not None:
                keys.append(found)
        return keys

    def account(self, org_id: str) -> LocalAccount:
        """The organisation's unlocked key (404 ``no_custodial_key`` if there is none)."""
        org = normalize_org_id(org_id)
        with self._lock:
            unlocked = self._unlocked.get(org)
            if unlocked is not None:
                return unlocked
            target = self._file(org)
            if not target.is_file():
                raise NotFound(
                    "the organisation has no custodial key in this gateway: sign the record "
                    "yourself and submit it to the /signed route",
                    code="no_custodial_key",
                )
            key = Account.decrypt(
                json.loads(target.read_text(encoding="utf-8")), self._secret.get_secret_value()
            )
            account: LocalAccount = Account.from_key(key)
            self._unlocked[org] = account
            return account


def add_signing_key(
    settings: GatewaySettings,
    *,
    org_id: str,
    private_key: str | None = None,
    replace: bool = False,
) -> SigningKey:
    """Store an organisation's custodial key in the key store named by ``settings`` (CLI)."""
    return SigningKeyStore.from_settings(settings).add(org_id, private_key, replace=replace)


def list_signing_keys(settings: GatewaySettings) -> list[SigningKey]:
    """The custodial keys in the key store named by ``settings`` (CLI)."""
    return SigningKeyStore.from_settings(settings).list()
