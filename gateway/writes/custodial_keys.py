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

**Rotation is two-phase.** ``replace`` never discards a key that is registered on chain: the
new key is staged beside it (``<org id>.next.json``) and the registered key keeps signing, so
the organisation can register its successor (``POST /organisations/keys``, signed by the
current key; or governance ``add_key`` when the current key is revoked or expired). The store
switches to the successor the first time it is asked for the organisation's key after the
successor is registered for the organisation, unrevoked and valid in a final block
(:class:`KeyRegistry`, which the gateway's :class:`~gateway.writes.ledger_services.LedgerServices`
provides); the old key's file is kept as ``<org id>.<address>.retired``. A stored key that was
never registered can sign nothing, so replacing it swaps at once. Without a registry (the CLI
off the gateway) a replacement is always staged.

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
from typing import Protocol

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
    "KeyRegistry",
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
    """A stored custodial key: the organisation and the key's address (never the key).

    ``pending``: a staged successor, not signing yet; ``replaces`` is then the key that signs
    until the successor is registered and final on chain."""

    org_id: str
    address: str
    pending: bool = False
    replaces: str | None = None


class KeyRegistry(Protocol):
    """What the store asks the chain about a key of an organisation."""

    def registered(self, org_id: str, address: str) -> bool:
        """Whether ``address`` was ever registered for ``org_id`` (latest block)."""
        ...

    def confirmed(self, org_id: str, address: str) -> bool:
        """Whether ``address`` is a key of ``org_id``, unrevoked and valid now, in a final
        block."""
        ...


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
        self._lock = threading.RLock()
        #: What the chain says about keys (set by the gateway's LedgerServices); None: offline.
        self.registry: KeyRegistry | None = None

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

    def _next_file(self, org_id: str) -> Path:
        return self.path / f"{normalize_org_id(org_id)}.next.json"

    def _encrypt(self, account: LocalAccount) -> dict[str, object]:
        return dict(
            Account.encrypt(
                account.key,
                self._secret.get_secret_value(),
                kdf="scrypt",
                iterations=self._scrypt_n,
            )
        )

    def _write(self, target: Path, encrypted: dict[str, object]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        tmp = target.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(encrypted, out)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(target)

    @staticmethod
    def _address(file: Path) -> str:
        data = json.loads(file.read_text(encoding="utf-8"))
        return str(to_checksum_address("0x" + data["address"]))

    def add(
        self, org_id: str, private_key: str | None = None, *, replace: bool = False
    ) -> SigningKey:
        """Store ``private_key`` (or a new random key) for ``org_id``; returns its address.

        Refuses (409) to touch an organisation's key unless ``replace``. With ``replace`` the
        new key is staged as the successor (``pending``) while the current key is registered
        on chain, or, without a :attr:`registry`, always; a current key that was never
        registered is replaced at once.
        """
        org = normalize_org_id(org_id)
        account = Account.create() if private_key is None else _account_from(private_key)
        encrypted = self._encrypt(account)  # slow (scrypt): outside the lock
        target = self._file(org)
        with self._lock:
            if not target.exists():
                self._write(target, encrypted)
                self._unlocked[org] = account
                logger.info("custodial key %s stored for %s", account.address, org)
                return SigningKey(org, str(account.address))
            if not replace:
                raise Conflict(f"organisation {org} already has a custodial key", code="key_exists")
            self._promote(org)
            current = self._address(target)
            if current == account.address:
                raise Conflict(
                    f"{account.address} is already organisation {org}'s custodial key",
                    code="key_exists",
                    field="private_key",
                )
            if self.registry is not None and not self._registered(org, current):
                self._write(target, encrypted)
                self._next_file(org).unlink(missing_ok=True)
                self._unlocked[org] = account
                logger.info(
                    "custodial key %s of %s (never registered on chain) replaced by %s",
                    current,
                    org,
                    account.address,
                )
                return SigningKey(org, str(account.address))
            self._write(self._next_file(org), encrypted)
        logger.info(
            "custodial key %s staged for %s; %s signs until it is registered on chain",
            account.address,
            org,
            current,
        )
        return SigningKey(org, str(account.address), pending=True, replaces=current)

    def _promote(self, org: str) -> None:
        """Switch to the staged successor if the registry shows it registered and final
        (caller holds the lock)."""
        staged = self._next_file(org)
        if self.registry is None or not staged.is_file():
            return
        successor = self._address(staged)
        try:
            confirmed = self.registry.confirmed(org, successor)
        except Exception as exc:  # the node is down: keep signing with the registered key
            logger.warning(
                "custodial key %s of %s: registration not checked (%s)", successor, org, exc
            )
            return
        if not confirmed:
            return
        target = self._file(org)
        if target.is_file():
            target.replace(self.path / f"{org}.{self._address(target)}.retired")
        staged.replace(target)
        self._unlocked.pop(org, None)
        logger.info("custodial key of %s rotated to %s (registered on chain)", org, successor)

    def _registered(self, org: str, address: str) -> bool:
        """Whether the chain knows ``address`` as a key of ``org``; when the chain cannot be
        asked, assume it does (the safe side: the key is kept)."""
        assert self.registry is not None
        try:
            return self.registry.registered(org, address)
        except Exception as exc:
            logger.warning(
                "custodial key %s of %s: registration not checked (%s)", address, org, exc
            )
            return True

    def get(self, org_id: str) -> SigningKey | None:
        """The organisation's signing key (not its staged successor: :meth:`pending`)."""
        target = self._file(org_id)
        if not target.is_file():
            return None
        return SigningKey(normalize_org_id(org_id), self._address(target))

    def pending(self, org_id: str) -> SigningKey | None:
        """The organisation's staged successor, if any."""
        staged = self._next_file(org_id)
        if not staged.is_file():
            return None
        current = self.get(org_id)
        return SigningKey(
            normalize_org_id(org_id),
            self._address(staged),
            pending=True,
            replaces=current.address if current else None,
        )

    def list(self) -> list[SigningKey]:
        """Every organisation's signing key, and after it its staged successor if any."""
        if not self.path.is_dir():
            return []
        keys = []
        for file in sorted(self.path.glob("0x*.json")):
            if file.name.endswith(".next.json"):
                continue
            with self._lock:
                self._promote(file.stem)
            found = self.get(file.stem)
            if found is not None:
                keys.append(found)
            staged = self.pending(file.stem)
            if staged is not None:
                keys.append(staged)
        return keys

    def account(self, org_id: str) -> LocalAccount:
        """The organisation's unlocked key (404 ``no_custodial_key`` if there is none); its
        staged successor once that is registered and final on chain."""
        org = normalize_org_id(org_id)
        with self._lock:
            self._promote(org)
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
