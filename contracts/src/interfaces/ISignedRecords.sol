// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ISignedRecords
/// @notice What every record contract shares: EIP-712 signed records relayed by allow-listed
/// relayers, signer resolution into a member organisation, unordered nonces and batch errors.
/// @dev Signers are not senders. `msg.sender` must be an allow-listed relayer; the acting
/// organisation is resolved from the EIP-712 signature over the record. See contracts/RECORDS.md.
interface ISignedRecords {
    /// @notice A compact (EIP-2098) ECDSA signature: `vs = s | ((v - 27) << 255)`.
    /// @param r The signature's r value.
    /// @param vs The signature's s value with the parity of v in the top bit.
    struct Sig {
        bytes32 r;
        bytes32 vs;
    }

    /// @notice A signing key resolved into its organisation, as Membership stores it.
    /// @dev Zero `orgId` means the key is unknown.
    struct KeyInfo {
        bytes32 orgId; // organisation the key belongs to (zero: unknown key)
        uint32 orgIndex; // organisation's sequential index (1-based), used in packed storage
        uint8 kind; // organisation kind, see Kinds (1 customs .. 5 postal operator)
        uint8 status; // organisation status, see Kinds (1 active, 2 suspended)
        bytes2 country; // ISO 3166-1 alpha-2 of the organisation
        uint40 validFrom; // key valid from (inclusive, unix seconds)
        uint40 validUntil; // key valid until (exclusive, unix seconds)
        uint40 revokedAt; // zero, or when the key was revoked
    }

    /// @notice `msg.sender` is not an allow-listed relayer.
    error RelayerNotAllowed(address sender);
    /// @notice The signature does not recover to an address (malformed or high-s).
    error InvalidSignature();
    /// @notice The recovered key is not registered with any organisation.
    error UnknownKey(address key);
    /// @notice The key was revoked at `revokedAt`.
    error KeyRevoked(address key, uint40 revokedAt);
    /// @notice The key is not yet valid at `at` (now or the record's own time).
    error KeyNotYetValid(address key, uint40 validFrom, uint40 at);
    /// @notice The key is no longer valid at `at` (now or the record's own time).
    error KeyExpired(address key, uint40 validUntil, uint40 at);
    /// @notice The organisation is not active (suspended).
    error MemberNotActive(bytes32 orgId, uint8 status);
    /// @notice The organisation's kind may not sign this record.
    error WrongKind(bytes32 orgId, uint8 kind);
    /// @notice The organisation's country does not match what the record requires.
    error WrongCountry(bytes32 orgId, bytes2 country, bytes2 expected);
    /// @notice The record's own time lies more than MAX_FUTURE_SKEW seconds in the future.
    error RecordTimeInFuture(uint40 recordTime, uint40 blockTime);
    /// @notice The record's deadline has passed.
    error DeadlineExpired(uint40 deadline, uint40 blockTime);
    /// @notice The signer already used this nonce.
    error NonceAlreadyUsed(address signer, uint256 nonce);
    /// @notice Batch arrays have different lengths.
    error LengthMismatch(uint256 records, uint256 signatures);
    /// @notice Item `index` of a batch failed; `reason` is the item's own custom error.
    /// @dev The whole batch reverts: no item of a failing batch is recorded.
    error BatchItemFailed(uint256 index, bytes reason);
    /// @notice The organisation id is not registered.
    error UnknownOrganisation(bytes32 orgId);

    /// @notice Most seconds a record's own time may lie ahead of the block time.
    function MAX_FUTURE_SKEW() external view returns (uint40);

    /// @notice The word `word` of `signer`'s unordered nonce bitmap (nonce = word << 8 | bit).
    function nonceBitmap(address signer, uint256 word) external view returns (uint256);

    /// @notice Whether `signer` has used `nonce`.
    function isNonceUsed(address signer, uint256 nonce) external view returns (bool);

    /// @notice The EIP-712 domain separator of this contract.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 digest (`\x19\x01 || domainSeparator || structHash`) that a signer signs.
    function hashTypedData(bytes32 structHash) external view returns (bytes32);
}
