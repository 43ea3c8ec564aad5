// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedRecords} from "./ISignedRecords.sol";

/// @title IDeclarations
/// @notice Goods declarations lodged by a declarant with the importing customs administration.
/// The chain keeps what fixes the declared values at lodgement (a digest of them) and the keys
/// that verification needs (declarant, administration, consignment, the certificate of origin
/// behind a preference claim); the values themselves stay off chain, encrypted, in the
/// administration's store. An amendment is a new declaration that names the one it amends;
/// the first value declared can never be changed.
/// @dev See contracts/RECORDS.md, "Declarations".
interface IDeclarations is ISignedRecords {
    /// @notice A goods declaration as signed by the declarant.
    /// @param declarationRef keccak256 of the declarant's own declaration number (UTF-8).
    /// @param administration Organisation id of the importing customs administration.
    /// @param consignmentId The consignment the goods travel in (zero: none on the ledger).
    /// @param certificateId The certificate of origin behind a preference claim,
    /// keccak256(abi.encode(issuer orgId, keccak256(certificate number))) (zero: no claim).
    /// @param valuesDigest keccak256 of the salted canonical values (RECORDS.md); never zero.
    /// @param amends The declaration id this one amends (zero: an original declaration).
    /// @param lodgedAt The declarant's lodgement time (unix seconds), the record's own time.
    struct Declaration {
        bytes32 declarationRef;
        bytes32 administration;
        bytes32 consignmentId;
        bytes32 certificateId;
        bytes32 valuesDigest;
        bytes32 amends;
        uint40 lodgedAt;
    }

    /// @notice A declaration as stored.
    /// @param declarant Organisation id of the declarant (zero: no such declaration).
    /// @param administration Organisation id of the administration it was lodged with.
    /// @param recordHash The Declaration struct hash, which commits to every signed field.
    /// @param lodgedAt The declarant's lodgement time.
    /// @param recordedAt The block time it was recorded at.
    /// @param amendedBy The declaration that amends it (zero: not amended).
    struct Stored {
        bytes32 declarant;
        bytes32 administration;
        bytes32 recordHash;
        uint40 lodgedAt;
        uint40 recordedAt;
        bytes32 amendedBy;
    }

    /// @notice A declaration was lodged (or an amendment, when `amends` is non-zero).
    /// @param declarationId keccak256(abi.encode(declarant, declarationRef)).
    /// @param declarant The declarant's organisation id.
    /// @param administration The importing administration's organisation id.
    /// @param signer The declarant's key that signed it.
    /// @param record The signed record, every field.
    event DeclarationLodged(
        bytes32 indexed declarationId,
        bytes32 indexed declarant,
        bytes32 indexed administration,
        address signer,
        Declaration record
    );

    /// @notice A declaration with this id (declarant and reference) is already recorded.
    error DeclarationExists(bytes32 declarationId);
    /// @notice `administration` is not a customs administration registered in Membership.
    error NotAnAdministration(bytes32 administration);
    /// @notice The values digest or the declaration reference is zero.
    error MalformedDeclaration();
    /// @notice The declaration named by `amends` is not recorded.
    error UnknownDeclaration(bytes32 declarationId);
    /// @notice Only the declarant of a declaration, with the same administration, may amend it.
    error AmendmentMismatch(bytes32 amends);
    /// @notice The declaration was amended already, by `amendedBy`: amend the latest one.
    error AlreadyAmended(bytes32 declarationId, bytes32 amendedBy);
    /// @notice The declaration's `lodgedAt` is more than MAX_LODGE_AGE before the block time: a
    /// signed declaration is fresh for MAX_LODGE_AGE only.
    error LodgementTooOld(uint40 lodgedAt, uint40 blockTime);

    /// @notice How long a signed declaration stays usable after its `lodgedAt` (1 day).
    function MAX_LODGE_AGE() external view returns (uint40);

    /// @notice The Declaration type hash.
    function DECLARATION_TYPEHASH() external view returns (bytes32);

    /// @notice Record a declaration signed by a key of the declarant (a trader, carrier or
    /// postal operator, active, the key valid now and at `lodgedAt`).
    /// @param record The declaration.
    /// @param sig The declarant's signature over its EIP-712 digest.
    /// @return declarationId The new declaration's id.
    function lodge(Declaration calldata record, Sig calldata sig)
        external
        returns (bytes32 declarationId);

    /// @notice Record many declarations, each with its own signature; all or none.
    /// @param records The declarations.
    /// @param sigs One signature per declaration.
    function lodgeBatch(Declaration[] calldata records, Sig[] calldata sigs) external;

    /// @notice A declaration as stored (zero declarant when there is none).
    /// @param declarationId The declaration id.
    function declaration(bytes32 declarationId) external view returns (Stored memory);

    /// @notice keccak256(abi.encode(declarant, declarationRef)).
    /// @param declarant The declarant's organisation id.
    /// @param declarationRef keccak256 of the declarant's declaration number.
    function declarationId(bytes32 declarant, bytes32 declarationRef)
        external
        pure
        returns (bytes32);

    /// @notice The EIP-712 struct hash of a Declaration.
    /// @param record The declaration.
    function hashDeclaration(Declaration calldata record) external pure returns (bytes32);
}
