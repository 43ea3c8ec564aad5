// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedRecords} from "./ISignedRecords.sol";

/// @title IMembership
/// @notice Member organisations, their signing keys, the relayer allowlist, and k-of-n governance
/// by customs administrations. EIP-712 domain: name "TradeLedger Membership", version "1".
/// @dev Organisation kinds: 1 customs administration, 2 carrier, 3 trader, 4 issuing body,
/// 5 postal operator. Statuses: 1 active, 2 suspended. A key is valid at t when
/// `validFrom <= t < validUntil` and it is not revoked. A key address is registered at most once.
interface IMembership is ISignedRecords {
    /// @notice A member organisation as stored (one slot).
    struct Organisation {
        uint8 kind; // 1 customs .. 5 postal operator
        uint8 status; // 1 active, 2 suspended
        bytes2 country; // ISO 3166-1 alpha-2, ASCII
        uint32 index; // sequential, 1-based; zero means "not registered"
        uint40 admittedAt; // block time of admission
    }

    /// @notice A signing key as stored.
    struct Key {
        bytes32 orgId; // owning organisation
        uint40 validFrom; // inclusive, unix seconds
        uint40 validUntil; // exclusive, unix seconds
        uint40 revokedAt; // zero, or block time of revocation
    }

    /// @notice A bootstrap customs administration given to the constructor.
    struct BootstrapAdministration {
        bytes32 orgId;
        bytes2 country;
        address key;
        uint40 validFrom;
        uint40 validUntil;
    }

    /// @notice A governance proposal; its id is its EIP-712 struct hash (`hashProposal`).
    /// @dev Actions and the fields they use (other fields are ignored but part of the id):
    ///   1 ADMIT_MEMBER     orgId, kind (2..5), country, account (first key), validFrom, validUntil
    ///   2 SUSPEND_MEMBER   orgId
    ///   3 REINSTATE_MEMBER orgId
    ///   4 ADD_CUSTOMS      orgId, kind (must be 1), country, account (first key), validFrom, validUntil
    ///   5 SET_THRESHOLD    threshold
    ///   6 REVOKE_KEY       account (emergency revocation of any member's key)
    ///   7 ADD_RELAYER      account
    ///   8 REMOVE_RELAYER   account
    ///   9 ADD_KEY          orgId (any registered organisation, customs included), account (the
    ///                      new key), validFrom, validUntil
    ///  10 REPLACE_KEY      as ADD_KEY, and subject = the key of orgId it replaces (revoked at
    ///                      execution unless already revoked)
    ///  11 REVOKE_RECORD    orgId (a suspended organisation), account (the record contract, e.g.
    ///                      Certificates), subject (the record id, e.g. a certificate id):
    ///                      calls account.revokeByGovernance(orgId, subject, proposalId)
    /// Proposals and approvals of ADD_KEY and REPLACE_KEY may be signed with an expired (never
    /// revoked) customs key, so that expiries cannot freeze governance. Every key registration
    /// (admission, addKey, ADD_KEY, REPLACE_KEY, bootstrap) stores validFrom = max(validFrom,
    /// block time - MAX_KEY_BACKDATE).
    struct Proposal {
        uint8 action;
        bytes32 orgId;
        uint8 kind;
        bytes2 country;
        address account;
        uint40 validFrom;
        uint40 validUntil;
        uint16 threshold;
        uint40 expiresAt; // approvals and execution are refused from this time on
        bytes32 salt; // makes otherwise equal proposals distinct
        bytes32 subject; // REPLACE_KEY: the replaced key (bytes32(uint256(uint160(key)))); else zero
    }

    /// @notice A proposal's state (one slot).
    struct ProposalState {
        uint8 action; // zero: no such proposal
        uint16 approvals; // distinct customs administrations that approved
        uint40 expiresAt;
        bool executed;
    }

    /// @notice A key addition signed by a currently valid key of `orgId`.
    struct KeyAddition {
        bytes32 orgId;
        address key;
        uint40 validFrom;
        uint40 validUntil;
    }

    /// @notice A key revocation signed by a currently valid key of `orgId`. Freshness: refused
    /// after `deadline` (`DeadlineExpired`).
    struct KeyRevocation {
        bytes32 orgId;
        address key;
        uint40 deadline; // last block time the revocation is accepted at (unix seconds)
    }

    /// @notice An organisation was admitted (also for bootstrap and added administrations).
    event OrganisationAdmitted(
        bytes32 indexed orgId,
        uint8 indexed kind,
        bytes2 indexed country,
        uint32 index,
        bytes32 proposalId
    );
    /// @notice An organisation was suspended by governance.
    event OrganisationSuspended(bytes32 indexed orgId, bytes32 indexed proposalId);
    /// @notice A suspended organisation was reinstated by governance.
    event OrganisationReinstated(bytes32 indexed orgId, bytes32 indexed proposalId);
    /// @notice A signing key was added. `signer` is zero when added by governance or bootstrap.
    event SigningKeyAdded(
        bytes32 indexed orgId,
        address indexed key,
        uint40 validFrom,
        uint40 validUntil,
        address signer,
        bytes32 proposalId
    );
    /// @notice A signing key was revoked, by its organisation (`signer` set) or by governance
    /// (`proposalId` set).
    event SigningKeyRevoked(
        bytes32 indexed orgId,
        address indexed key,
        uint40 revokedAt,
        address signer,
        bytes32 proposalId
    );
    /// @notice A relayer was allow-listed (`proposalId` zero at bootstrap).
    event RelayerAdded(address indexed account, bytes32 indexed proposalId);
    /// @notice A relayer was removed from the allowlist.
    event RelayerRemoved(address indexed account, bytes32 indexed proposalId);
    /// @notice The approval threshold changed (`proposalId` zero at bootstrap).
    event ThresholdChanged(uint16 previous, uint16 threshold, bytes32 indexed proposalId);
    /// @notice A proposal was created; the proposer's approval is counted (ProposalApproved).
    event ProposalCreated(
        bytes32 indexed proposalId,
        bytes32 indexed proposer,
        uint8 indexed action,
        Proposal proposal
    );
    /// @notice A customs administration approved a proposal.
    event ProposalApproved(
        bytes32 indexed proposalId, bytes32 indexed approver, address signer, uint16 approvals
    );
    /// @notice A proposal was executed; the action's own event follows in the same transaction.
    event ProposalExecuted(bytes32 indexed proposalId, uint8 indexed action, uint16 approvals);

    /// @notice Threshold outside 1..(active customs administrations).
    error InvalidThreshold(uint16 threshold, uint16 activeCustoms);
    /// @notice The action would leave fewer active customs administrations than the threshold.
    error ThresholdUnreachable(uint16 threshold, uint16 activeCustoms);
    /// @notice The organisation id is already registered (or zero).
    error OrganisationExists(bytes32 orgId);
    /// @notice Country is zero.
    error InvalidCountry(bytes2 country);
    /// @notice The organisation kind is not allowed for this action.
    error InvalidKind(uint8 kind);
    /// @notice The organisation's status does not allow this action.
    error InvalidStatus(bytes32 orgId, uint8 status);
    /// @notice The key address is zero or already registered (keys are never reused).
    error KeyAlreadyRegistered(address key);
    /// @notice validUntil must be after validFrom and in the future.
    error InvalidValidity(uint40 validFrom, uint40 validUntil);
    /// @notice The key is not registered.
    error KeyNotRegistered(address key);
    /// @notice The key belongs to another organisation than the record says.
    error KeyNotOfOrganisation(address key, bytes32 orgId);
    /// @notice The key was already revoked.
    error KeyAlreadyRevoked(address key);
    /// @notice The signer's organisation is not the record's organisation.
    error NotOrganisationKey(bytes32 signerOrgId, bytes32 orgId);
    /// @notice Unknown governance action code.
    error UnknownAction(uint8 action);
    /// @notice A proposal with this id exists already.
    error ProposalExists(bytes32 proposalId);
    /// @notice No proposal with this id.
    error UnknownProposal(bytes32 proposalId);
    /// @notice The proposal expired (or its expiry is outside (now, now + MAX_PROPOSAL_LIFETIME]).
    error ProposalExpired(bytes32 proposalId, uint40 expiresAt);
    /// @notice The proposal was executed already.
    error ProposalAlreadyExecuted(bytes32 proposalId);
    /// @notice This administration approved the proposal already.
    error AlreadyApproved(bytes32 proposalId, bytes32 approver);
    /// @notice Not enough approvals to execute.
    error InsufficientApprovals(bytes32 proposalId, uint16 approvals, uint16 threshold);
    /// @notice The account is already an allow-listed relayer.
    error RelayerAlreadyAllowed(address account);
    /// @notice The account is not an allow-listed relayer.
    error RelayerNotListed(address account);
    /// @notice A zero account.
    error ZeroAddress();
    /// @notice Relayers are not signers: the account is an allow-listed relayer.
    error RelayerCannotSign(address account);
    /// @notice Relayers are not signers: the account is a registered signing key.
    error SignerCannotRelay(address account);
    /// @notice A governance action's `subject` is not what the action needs.
    error InvalidProposalSubject(bytes32 subject);

    /// @notice EIP-712 type hash of `Proposal(...)`.
    function PROPOSAL_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `Approval(bytes32 proposalId)`.
    function APPROVAL_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `KeyAddition(bytes32 orgId,address key,uint40 validFrom,uint40 validUntil)`.
    function KEY_ADDITION_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `KeyRevocation(bytes32 orgId,address key,uint40 deadline)`.
    function KEY_REVOCATION_TYPEHASH() external view returns (bytes32);
    /// @notice Longest a proposal may stay open (seconds).
    function MAX_PROPOSAL_LIFETIME() external view returns (uint40);

    /// @notice How far before its registration a key's validity may start: every key
    /// registration stores validFrom = max(validFrom, block time - MAX_KEY_BACKDATE), so a new key
    /// can record at most this much past (e.g. a journey already under way), never 1970.
    function MAX_KEY_BACKDATE() external view returns (uint40);

    /// @notice Create a proposal signed by a customs administration; counts as its approval.
    /// @param proposal The proposal; its id is `hashProposal(proposal)`.
    /// @param sig The proposer's signature over the Proposal typed data.
    /// @return proposalId The proposal's id.
    function propose(Proposal calldata proposal, Sig calldata sig)
        external
        returns (bytes32 proposalId);

    /// @notice Approve a proposal; signed `Approval(bytes32 proposalId)` by a customs administration.
    /// @dev Replay protection: one approval per (proposal, administration).
    /// @param proposalId The proposal's id (its struct hash).
    /// @param sig The approver's signature over the Approval typed data.
    function approve(bytes32 proposalId, Sig calldata sig) external;

    /// @notice Execute a proposal that has reached the current threshold and has not expired.
    /// @param proposal The full proposal (hashed again to find its state).
    function execute(Proposal calldata proposal) external;

    /// @notice Add a signing key to an organisation; signed by one of its currently valid keys.
    /// @param record The organisation, the new key and its validity window.
    /// @param sig Signature of a currently valid key of `record.orgId`.
    function addKey(KeyAddition calldata record, Sig calldata sig) external;

    /// @notice Revoke one of the organisation's keys; signed by one of its currently valid keys.
    /// @dev Refused after the record's `deadline` (`DeadlineExpired`).
    /// @param record The organisation, the key to revoke (it may be the signing key itself) and
    /// the record's deadline.
    /// @param sig Signature of a currently valid key of `record.orgId`.
    function revokeKey(KeyRevocation calldata record, Sig calldata sig) external;

    /// @notice Whether `account` is an allow-listed relayer.
    function isRelayer(address account) external view returns (bool);

    /// @notice The key's organisation, kind, status, country and validity (zero orgId if unknown).
    function keyInfo(address key) external view returns (KeyInfo memory);

    /// @notice The stored key record.
    function key(address key_) external view returns (Key memory);

    /// @notice Resolve `key` for a record with own time `recordTime` signed as one of the kinds
    /// in `kindMask` (bit `1 << kind`); reverts with UnknownKey, KeyRevoked, KeyNotYetValid,
    /// KeyExpired, RecordTimeInFuture, MemberNotActive or WrongKind.
    function authorise(address key, uint40 recordTime, uint256 kindMask)
        external
        view
        returns (KeyInfo memory);

    /// @notice The organisation (zero index if not registered).
    function organisation(bytes32 orgId) external view returns (Organisation memory);

    /// @notice The organisation id with sequential index `index` (zero if none).
    function organisationId(uint32 index) external view returns (bytes32);

    /// @notice The status of the organisation with `index` (zero for an unknown index).
    function statusAt(uint32 index) external view returns (uint8);

    /// @notice Number of registered organisations.
    function organisationCount() external view returns (uint32);

    /// @notice Current approval threshold k.
    function threshold() external view returns (uint16);

    /// @notice Number of active customs administrations n.
    function activeCustomsCount() external view returns (uint16);

    /// @notice A proposal's state.
    function proposalState(bytes32 proposalId) external view returns (ProposalState memory);

    /// @notice Whether administration `orgId` approved the proposal.
    function hasApproved(bytes32 proposalId, bytes32 orgId) external view returns (bool);

    /// @notice The proposal's id: its EIP-712 struct hash.
    function hashProposal(Proposal calldata proposal) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of `Approval(proposalId)`.
    function hashApproval(bytes32 proposalId) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of a KeyAddition.
    function hashKeyAddition(KeyAddition calldata record) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of a KeyRevocation.
    function hashKeyRevocation(KeyRevocation calldata record) external pure returns (bytes32);
}
