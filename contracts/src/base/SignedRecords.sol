// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ISignedRecords} from "../interfaces/ISignedRecords.sol";
import {Kinds} from "../libraries/Kinds.sol";

/// @title SignedRecords
/// @notice Shared logic of every record contract: relayer gate, EIP-712 signature recovery,
/// signer authorisation (key window, revocation, member status, kind), Permit2-style unordered
/// nonces, deadlines, and batch error wrapping.
/// @dev Errors raised while a batch item is processed go through `_fail(index, reason)`, which
/// wraps them in `BatchItemFailed(index, reason)`. The item's index is passed down as an argument
/// (not kept in storage, transient or not: the contracts are built for `paris`, which has no
/// transient storage); code outside a batch item passes `_NO_BATCH_ITEM`, or calls the overloads
/// without an index, and reverts with the plain custom error.
abstract contract SignedRecords is ISignedRecords, EIP712 {
    /// @inheritdoc ISignedRecords
    uint40 public constant MAX_FUTURE_SKEW = 300;

    /// @dev A batch's memo of the last resolved signer, so that a run of records signed by one
    /// key costs one Membership lookup.
    struct SignerCache {
        address signer; // last resolved signer
        KeyInfo info; // its key and organisation
        uint40 checkedTime; // record time it last passed `_check` at (with `checkedMask`)
        uint256 checkedMask; // kind mask it last passed `_check` with
    }

    /// @dev The `index` argument of code that is not processing a batch item: its errors revert
    /// unwrapped.
    uint256 internal constant _NO_BATCH_ITEM = type(uint256).max;

    mapping(address signer => mapping(uint256 word => uint256 bits)) private _nonceBitmap;

    constructor(string memory name, string memory version) EIP712(name, version) {}

    modifier onlyRelayer() {
        if (!_isRelayer(msg.sender)) revert RelayerNotAllowed(msg.sender);
        _;
    }

    /// @inheritdoc ISignedRecords
    function nonceBitmap(address signer, uint256 word) external view returns (uint256) {
        return _nonceBitmap[signer][word];
    }

    /// @inheritdoc ISignedRecords
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _nonceBitmap[signer][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc ISignedRecords
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ISignedRecords
    function hashTypedData(bytes32 structHash) external view returns (bytes32) {
        return _hashTypedDataV4(structHash);
    }

    /// @dev EIP-712 struct hash of a record whose fields are all static ABI words:
    /// keccak256(typehash || the record's `words` calldata words). Equal to
    /// keccak256(abi.encode(typehash, record)); the tests check this for every record type.
    /// Raw words are hashed: a word with dirty high bits (never produced by an EIP-712 encoder)
    /// hashes differently from the signed value, so it recovers another signer and is refused;
    /// Solidity's calldata validation also reverts when such a field is read.
    function _hashStatic(bytes32 typehash, uint256 offset, uint256 words)
        internal
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, typehash)
            calldatacopy(add(p, 0x20), offset, shl(5, words))
            h := keccak256(p, add(0x20, shl(5, words)))
        }
    }

    /// @dev Whether `account` may send write transactions.
    function _isRelayer(address account) internal view virtual returns (bool);

    /// @dev The key's organisation and window (zero `orgId` for an unknown key).
    function _keyInfo(address key) internal view virtual returns (KeyInfo memory);

    /// @dev `_recover` outside a batch item.
    function _recover(bytes32 structHash, Sig calldata sig)
        internal
        view
        returns (address signer, bytes32 digest)
    {
        return _recover(structHash, sig, _NO_BATCH_ITEM);
    }

    /// @dev Recover the signer of the record with `structHash` (batch item `index`); returns the
    /// signer and the EIP-712 digest that was signed.
    function _recover(bytes32 structHash, Sig calldata sig, uint256 index)
        internal
        view
        returns (address signer, bytes32 digest)
    {
        digest = _hashTypedDataV4(structHash);
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(digest, sig.r, sig.vs);
        if (err != ECDSA.RecoverError.NoError) {
            _fail(index, abi.encodeWithSelector(InvalidSignature.selector));
        }
    }

    /// @dev `_authorise` outside a batch item.
    function _authorise(address signer, uint40 recordTime, uint256 kindMask)
        internal
        view
        returns (KeyInfo memory info)
    {
        return _authorise(signer, recordTime, kindMask, _NO_BATCH_ITEM);
    }

    /// @dev Resolve `signer` and check it may sign a record (batch item `index`) with own time
    /// `recordTime` as one of the kinds in `kindMask`.
    function _authorise(address signer, uint40 recordTime, uint256 kindMask, uint256 index)
        internal
        view
        returns (KeyInfo memory info)
    {
        info = _keyInfo(signer);
        _check(info, signer, recordTime, kindMask, index);
    }

    /// @dev As `_authorise`, reusing the batch's memo when the signer repeats. Key and member
    /// state cannot change during a batch, so a check passed for the same record time and kinds
    /// need not run again.
    function _authoriseCached(
        address signer,
        uint40 recordTime,
        uint256 kindMask,
        SignerCache memory cache,
        uint256 index
    ) internal view returns (KeyInfo memory info) {
        if (cache.signer != signer) {
            cache.info = _keyInfo(signer);
            cache.signer = signer;
            cache.checkedMask = 0;
        } else if (cache.checkedMask == kindMask && cache.checkedTime == recordTime) {
            return cache.info;
        }
        info = cache.info;
        _check(info, signer, recordTime, kindMask, index);
        cache.checkedTime = recordTime;
        cache.checkedMask = kindMask;
    }

    /// @dev The authorisation rule: the key is known and not revoked; it is valid (validFrom <=
    /// t < validUntil) both now and at the record's own time; the record time is not more than
    /// MAX_FUTURE_SKEW ahead; the organisation is active and of a kind in `kindMask`.
    function _check(
        KeyInfo memory info,
        address key,
        uint40 recordTime,
        uint256 kindMask,
        uint256 index
    ) internal view {
        if (info.orgId == bytes32(0)) {
            _fail(index, abi.encodeWithSelector(UnknownKey.selector, key));
        }
        if (info.revokedAt != 0) {
            _fail(index, abi.encodeWithSelector(KeyRevoked.selector, key, info.revokedAt));
        }
        _checkTime(info, key, recordTime, index);
        if (info.status != Kinds.STATUS_ACTIVE) {
            _fail(index, abi.encodeWithSelector(MemberNotActive.selector, info.orgId, info.status));
        }
        if (kindMask & (1 << info.kind) == 0) {
            _fail(index, abi.encodeWithSelector(WrongKind.selector, info.orgId, info.kind));
        }
    }

    /// @dev Steps 3 and 4 of the authorisation rule: the record time is not more than
    /// MAX_FUTURE_SKEW ahead, and the key is valid (validFrom <= t < validUntil) both now and at
    /// the record's own time. `_check` runs it; batch-signed records run it once per record time.
    function _checkTime(KeyInfo memory info, address key, uint40 recordTime, uint256 index)
        internal
        view
    {
        // forge-lint: disable-start(unsafe-typecast) -- narrowing back values that came from uint40
        // uint40 values widened to uint256: no overflow is possible below.
        uint256 nowTs = block.timestamp;
        uint256 t = recordTime;
        if (t > nowTs + MAX_FUTURE_SKEW) {
            _fail(
                index,
                abi.encodeWithSelector(RecordTimeInFuture.selector, recordTime, uint40(nowTs))
            );
        }
        uint256 earliest = t < nowTs ? t : nowTs;
        uint256 latest = t > nowTs ? t : nowTs;
        if (earliest < info.validFrom) {
            _fail(
                index,
                abi.encodeWithSelector(
                    KeyNotYetValid.selector, key, info.validFrom, uint40(earliest)
                )
            );
        }
        if (latest >= info.validUntil) {
            _fail(
                index,
                abi.encodeWithSelector(KeyExpired.selector, key, info.validUntil, uint40(latest))
            );
        }
        // forge-lint: disable-end(unsafe-typecast)
    }

    /// @dev `_useNonce` outside a batch item.
    function _useNonce(address signer, uint256 nonce) internal {
        _useNonce(signer, nonce, _NO_BATCH_ITEM);
    }

    /// @dev Consume `signer`'s unordered nonce (word = nonce >> 8, bit = nonce & 255) for batch
    /// item `index`.
    function _useNonce(address signer, uint256 nonce, uint256 index) internal {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 flipped = _nonceBitmap[signer][nonce >> 8] ^= bit;
        if (flipped & bit == 0) {
            _fail(index, abi.encodeWithSelector(NonceAlreadyUsed.selector, signer, nonce));
        }
    }

    /// @dev `_checkDeadline` outside a batch item.
    function _checkDeadline(uint40 deadline) internal view {
        _checkDeadline(deadline, _NO_BATCH_ITEM);
    }

    /// @dev Refuse a record (batch item `index`) whose deadline has passed.
    function _checkDeadline(uint40 deadline, uint256 index) internal view {
        if (block.timestamp > deadline) {
            _fail(
                index,
                abi.encodeWithSelector(DeadlineExpired.selector, deadline, uint40(block.timestamp))
            );
        }
    }

    /// @dev Refuse batch arrays of different lengths.
    function _checkLengths(uint256 records, uint256 signatures) internal pure {
        if (records != signatures) revert LengthMismatch(records, signatures);
    }

    /// @dev Revert with the ABI-encoded custom error `reason`, wrapped in
    /// `BatchItemFailed(index, reason)` when it concerns batch item `index` (unwrapped when
    /// `index` is `_NO_BATCH_ITEM`).
    function _fail(uint256 index, bytes memory reason) internal pure {
        if (index != _NO_BATCH_ITEM) revert BatchItemFailed(index, reason);
        assembly ("memory-safe") {
            revert(add(reason, 0x20), mload(reason))
        }
    }
}
