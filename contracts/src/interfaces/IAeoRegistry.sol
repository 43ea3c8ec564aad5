// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRevocableByGovernance} from "./IRevocableByGovernance.sol";
import {ISignedRecords} from "./ISignedRecords.sol";

/// @title IAeoRegistry
/// @notice Authorised Economic Operator certifications and mutual recognition agreements (MRAs).
/// EIP-712 domain: name "TradeLedger AeoRegistry", version "1".
/// @dev A certification is made by a customs administration of the operator's country;
/// certification id = keccak256(abi.encode(administrationOrgId, operatorId, programme)).
/// Programme codes (bytes8, ASCII right-padded) and MRA scope bits: "AEOC" 0x1, "AEOS" 0x2,
/// "AEOF" 0x4. An MRA id = keccak256(abi.encode(proposerOrgId, counterpart, scope, validFrom,
/// validUntil)) (`mraIdOf`): the proposal's terms, not its deadline, so a proposal signed again
/// with another deadline has the same id and is refused as existing. Every signed record
/// carries a deadline (unix seconds, inclusive), checked once the signer is authorised:
/// `DeadlineExpired(deadline, blockTime)` after it.
/// Governance may revoke a certification of a suspended administration (`revokeByGovernance`,
/// called by Membership executing REVOKE_RECORD): AeoRevoked with signer zero and nonce zero.
interface IAeoRegistry is ISignedRecords, IRevocableByGovernance {
    /// @notice An AEO action, signed by a customs administration of the operator's country.
    /// Replay protection: the signer's unordered nonce, plus the deadline.
    /// Actions: 1 CERTIFY (needs validFrom < validUntil, validUntil in the future; allowed when the
    /// certification does not exist, is revoked or has expired), 2 SUSPEND (active -> suspended),
    /// 3 REINSTATE (suspended -> active), 4 REVOKE (active or suspended -> revoked). For actions
    /// 2..4 validFrom and validUntil must be zero.
    struct AeoAction {
        uint8 action;
        bytes32 operatorId; // orgId of the operator (trader, carrier or postal operator)
        bytes8 programme; // "AEOC", "AEOS" or "AEOF"
        uint40 validFrom;
        uint40 validUntil;
        uint32 nonce;
        uint40 deadline;
    }

    /// @notice An MRA proposal by the signer's administration. Replay protection: the MRA id
    /// (which does not cover the deadline); freshness: the deadline.
    struct MraProposal {
        bytes32 counterpart; // orgId of the other customs administration
        uint32 scope; // bit mask of programmes (0x1 AEOC, 0x2 AEOS, 0x4 AEOF)
        uint40 validFrom; // inclusive
        uint40 validUntil; // exclusive
        uint40 deadline; // last block time the proposal is accepted at
    }

    /// @notice A certification's stored state.
    struct Certification {
        bytes32 administration; // certifying customs administration (zero: none)
        bytes32 operatorId;
        bytes8 programme;
        uint40 validFrom;
        uint40 validUntil;
        uint8 status; // 1 active, 2 suspended, 3 revoked
    }

    /// @notice One entry of a certification's status history.
    struct StatusChange {
        uint40 at; // block time of the change
        uint8 status; // 1 active, 2 suspended, 3 revoked
        uint40 validFrom; // validity in force from this change on
        uint40 validUntil;
    }

    /// @notice An MRA's stored state.
    struct Mra {
        bytes32 proposer; // administration that proposed (zero: none)
        bytes32 counterpart; // administration that accepts
        uint32 scope;
        uint40 validFrom;
        uint40 validUntil;
        uint40 proposedAt;
        uint40 acceptedAt; // zero: not (yet) in effect
        uint40 terminatedAt; // zero: not terminated
    }

    /// @notice Answer of the recognition query.
    struct Recognition {
        bool recognised;
        bytes32 certificationId; // the certification that counts (zero if none)
        bytes32 mraId; // the MRA through which it counts; zero when the administration certified
        // the operator itself or when not recognised
    }

    /// @notice An operator was certified (or re-certified).
    event AeoCertified(
        bytes32 indexed certificationId,
        bytes32 indexed operatorId,
        bytes32 indexed administration,
        bytes8 programme,
        uint40 validFrom,
        uint40 validUntil,
        address signer,
        uint32 nonce
    );
    /// @notice A certification was suspended.
    event AeoSuspended(
        bytes32 indexed certificationId,
        bytes32 indexed operatorId,
        bytes32 indexed administration,
        address signer,
        uint32 nonce
    );
    /// @notice A suspended certification was reinstated.
    event AeoReinstated(
        bytes32 indexed certificationId,
        bytes32 indexed operatorId,
        bytes32 indexed administration,
        address signer,
        uint32 nonce
    );
    /// @notice A certification was revoked.
    event AeoRevoked(
        bytes32 indexed certificationId,
        bytes32 indexed operatorId,
        bytes32 indexed administration,
        address signer,
        uint32 nonce
    );
    /// @notice An MRA was proposed.
    event MraProposed(
        bytes32 indexed mraId,
        bytes32 indexed proposer,
        bytes32 indexed counterpart,
        address signer,
        uint32 scope,
        uint40 validFrom,
        uint40 validUntil
    );
    /// @notice The counterpart accepted; the MRA is in effect from max(validFrom, acceptedAt).
    event MraAccepted(
        bytes32 indexed mraId, bytes32 indexed proposer, bytes32 indexed counterpart, address signer
    );
    /// @notice An MRA was terminated (or a pending proposal withdrawn) by `by`.
    event MraTerminated(bytes32 indexed mraId, bytes32 indexed by, address signer);

    /// @notice Unknown action code, or validity given for a status action.
    error InvalidAeoAction(uint8 action);
    /// @notice Programme code not in the table.
    error UnknownProgramme(bytes8 programme);
    /// @notice The operator is not a trader, carrier or postal operator.
    error InvalidOperator(bytes32 operatorId, uint8 kind);
    /// @notice validUntil must be after validFrom and in the future.
    error InvalidValidity(uint40 validFrom, uint40 validUntil);
    /// @notice No such certification (for this administration, operator and programme).
    error UnknownCertification(bytes32 certificationId);
    /// @notice The certification is active (or suspended) and not expired; certify refused.
    error CertificationInForce(bytes32 certificationId);
    /// @notice The action does not apply to the certification's status.
    error InvalidStatusTransition(bytes32 certificationId, uint8 status, uint8 action);
    /// @notice Only the Membership contract (executing a governance proposal) may call this.
    error NotMembership(address sender);
    /// @notice The counterpart is not a customs administration, or is the proposer itself.
    error InvalidCounterpart(bytes32 counterpart);
    /// @notice The scope is zero or has bits outside 0x7.
    error InvalidScope(uint32 scope);
    /// @notice An MRA with this id exists already.
    error MraExists(bytes32 mraId);
    /// @notice No MRA with this id.
    error UnknownMra(bytes32 mraId);
    /// @notice Only the counterpart may accept.
    error NotMraCounterpart(bytes32 mraId, bytes32 orgId);
    /// @notice Only the proposer or the counterpart may terminate.
    error NotMraParty(bytes32 mraId, bytes32 orgId);
    /// @notice The MRA was accepted already, terminated, or its validity ended.
    error MraNotPending(bytes32 mraId);
    /// @notice The MRA was terminated already.
    error MraAlreadyTerminated(bytes32 mraId);

    /// @notice EIP-712 type hash of `AeoAction(uint8 action,bytes32 operatorId,bytes8 programme,
    /// uint40 validFrom,uint40 validUntil,uint32 nonce,uint40 deadline)`.
    function AEO_ACTION_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `MraProposal(bytes32 counterpart,uint32 scope,uint40 validFrom,
    /// uint40 validUntil,uint40 deadline)`.
    function MRA_PROPOSAL_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `MraAcceptance(bytes32 mraId,uint40 deadline)`.
    function MRA_ACCEPTANCE_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `MraTermination(bytes32 mraId,uint40 deadline)`.
    function MRA_TERMINATION_TYPEHASH() external view returns (bytes32);

    /// @notice Apply an AEO action.
    /// @param record The action (certify, suspend, reinstate, revoke) with nonce and deadline.
    /// @param sig Signature of a customs administration of the operator's country.
    /// @return certificationId The certification acted on.
    function applyAction(AeoAction calldata record, Sig calldata sig)
        external
        returns (bytes32 certificationId);

    /// @notice Propose an MRA to another administration.
    /// @param record Counterpart, scope bit mask, validity and deadline.
    /// @param sig Signature of the proposing customs administration.
    /// @return mraId The MRA id.
    function proposeMra(MraProposal calldata record, Sig calldata sig)
        external
        returns (bytes32 mraId);

    /// @notice Accept an MRA (counterpart only); signed `MraAcceptance(mraId,deadline)`, refused
    /// after `deadline` (`DeadlineExpired`).
    function acceptMra(bytes32 mraId, uint40 deadline, Sig calldata sig) external;

    /// @notice Terminate an MRA, or withdraw a pending one (either party); signed
    /// `MraTermination(mraId,deadline)`, refused after `deadline` (`DeadlineExpired`).
    function terminateMra(bytes32 mraId, uint40 deadline, Sig calldata sig) external;

    /// @notice Is `operatorId` recognised by `administration` at time `at`, and through which
    /// certification and MRA? Own certifications by `administration` come first; otherwise a
    /// certification by another administration counts when an MRA between the two, covering the
    /// programme, was in effect at `at` (accepted, validFrom <= at < validUntil, at >= acceptedAt,
    /// not terminated at or before `at`). A certification counts at `at` when its status at `at`
    /// (from its history) is active and validFrom <= at < validUntil. A certification by an
    /// administration that is suspended now counts for no one, whatever `at`.
    function recognition(bytes32 operatorId, bytes32 administration, uint40 at)
        external
        view
        returns (Recognition memory);

    /// @notice The certification's stored state.
    function certification(bytes32 certificationId) external view returns (Certification memory);

    /// @notice The certification's status history.
    function statusHistory(bytes32 certificationId) external view returns (StatusChange[] memory);

    /// @notice The certification ids of an operator.
    function certificationsOf(bytes32 operatorId) external view returns (bytes32[] memory);

    /// @notice The MRA's stored state.
    function mra(bytes32 mraId) external view returns (Mra memory);

    /// @notice The accepted MRAs between two administrations (order-independent).
    function mrasBetween(bytes32 a, bytes32 b) external view returns (bytes32[] memory);

    /// @notice keccak256(abi.encode(administration, operatorId, programme)).
    function certificationId(bytes32 administration, bytes32 operatorId, bytes8 programme)
        external
        pure
        returns (bytes32);

    /// @notice The id of MRA proposal `record` by administration `proposer`:
    /// keccak256(abi.encode(proposer, counterpart, scope, validFrom, validUntil)) (not the
    /// deadline).
    function mraIdOf(bytes32 proposer, MraProposal calldata record) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of an AEO action.
    function hashAeoAction(AeoAction calldata record) external pure returns (bytes32);
    /// @notice EIP-712 struct hash of an MRA proposal.
    function hashMraProposal(MraProposal calldata record) external pure returns (bytes32);
    /// @notice EIP-712 struct hash of `MraAcceptance(mraId,deadline)`.
    function hashMraAcceptance(bytes32 mraId, uint40 deadline) external pure returns (bytes32);
    /// @notice EIP-712 struct hash of `MraTermination(mraId,deadline)`.
    function hashMraTermination(bytes32 mraId, uint40 deadline) external pure returns (bytes32);
}
