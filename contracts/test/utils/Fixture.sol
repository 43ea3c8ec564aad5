// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {Membership} from "../../src/Membership.sol";
import {Consignments} from "../../src/Consignments.sol";
import {Certificates} from "../../src/Certificates.sol";
import {Attestations} from "../../src/Attestations.sol";
import {AeoRegistry} from "../../src/AeoRegistry.sol";
import {IMembership} from "../../src/interfaces/IMembership.sol";
import {IConsignments} from "../../src/interfaces/IConsignments.sol";
import {ICertificates} from "../../src/interfaces/ICertificates.sol";
import {IAttestations} from "../../src/interfaces/IAttestations.sol";
import {IAeoRegistry} from "../../src/interfaces/IAeoRegistry.sol";
import {ISignedRecords} from "../../src/interfaces/ISignedRecords.sol";
import {EventMeta} from "../../src/libraries/EventMeta.sol";
import {Kinds} from "../../src/libraries/Kinds.sol";

/// @notice The deployed system with a small population of organisations and signing helpers.
/// Three bootstrap customs administrations (DE, NL, CN; threshold 2); the test contract is the
/// bootstrap relayer. Admitted by governance: a carrier (NL), two traders (CN exporter, DE
/// consignee), an issuing body (CN) and a postal operator (DE).
abstract contract Fixture is Test {
    uint40 internal constant T0 = 1_750_000_000;
    uint40 internal constant KEY_LIFETIME = 365 days;

    uint256 internal constant PK_CUSTOMS_DE = 0xC0DE01;
    uint256 internal constant PK_CUSTOMS_NL = 0xC0DE02;
    uint256 internal constant PK_CUSTOMS_CN = 0xC0DE03;
    uint256 internal constant PK_CARRIER = 0xCA0001;
    uint256 internal constant PK_EXPORTER = 0x7AD001;
    uint256 internal constant PK_CONSIGNEE = 0x7AD002;
    uint256 internal constant PK_ISSUER = 0x155001;
    uint256 internal constant PK_POSTAL = 0x905001;
    uint256 internal constant PK_OUTSIDER = 0xBAD001;

    bytes32 internal constant CUSTOMS_DE = keccak256("org:customs-de");
    bytes32 internal constant CUSTOMS_NL = keccak256("org:customs-nl");
    bytes32 internal constant CUSTOMS_CN = keccak256("org:customs-cn");
    bytes32 internal constant CARRIER = keccak256("org:carrier-nl");
    bytes32 internal constant EXPORTER = keccak256("org:trader-cn");
    bytes32 internal constant CONSIGNEE = keccak256("org:trader-de");
    bytes32 internal constant ISSUER = keccak256("org:chamber-cn");
    bytes32 internal constant POSTAL = keccak256("org:post-de");

    address internal constant OUTSIDER_RELAYER = address(0xBEEF);

    Membership internal membership;
    Consignments internal consignments;
    Certificates internal certificates;
    Attestations internal attestations;
    AeoRegistry internal aeo;

    uint256 internal _salt;
    uint32 internal _nextNonce;

    function setUp() public virtual {
        vm.warp(T0);
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](3);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        admins[1] = _bootstrap(CUSTOMS_NL, "NL", PK_CUSTOMS_NL);
        admins[2] = _bootstrap(CUSTOMS_CN, "CN", PK_CUSTOMS_CN);
        address[] memory relayers = new address[](1);
        relayers[0] = address(this);

        membership = new Membership(admins, relayers, 2);
        consignments = new Consignments(membership);
        certificates = new Certificates(membership, consignments);
        attestations = new Attestations(membership);
        aeo = new AeoRegistry(membership);

        _admit(CARRIER, Kinds.CARRIER, "NL", PK_CARRIER);
        _admit(EXPORTER, Kinds.TRADER, "CN", PK_EXPORTER);
        _admit(CONSIGNEE, Kinds.TRADER, "DE", PK_CONSIGNEE);
        _admit(ISSUER, Kinds.ISSUING_BODY, "CN", PK_ISSUER);
        _admit(POSTAL, Kinds.POSTAL_OPERATOR, "DE", PK_POSTAL);
    }

    // ------------------------------------------------------------------ signing

    /// @dev The deadline the helpers sign records with: an hour after the block time.
    function _deadline() internal view returns (uint40) {
        return uint40(block.timestamp + 1 hours);
    }

    function _sig(uint256 pk, bytes32 digest) internal pure returns (ISignedRecords.Sig memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return ISignedRecords.Sig({r: r, vs: bytes32(uint256(s) | (uint256(v - 27) << 255))});
    }

    /// @dev The EIP-712 digest computed independently of the contract's own helpers.
    function _digest(address target, string memory name, bytes32 structHash)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes(name)),
                keccak256("1"),
                block.chainid,
                target
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    // ------------------------------------------------------------------ governance

    function _bootstrap(bytes32 orgId, bytes2 country, uint256 pk)
        internal
        pure
        returns (IMembership.BootstrapAdministration memory)
    {
        return IMembership.BootstrapAdministration({
            orgId: orgId,
            country: country,
            key: vm.addr(pk),
            validFrom: T0 - 1 days,
            validUntil: T0 + KEY_LIFETIME
        });
    }

    function _proposal(uint8 action) internal returns (IMembership.Proposal memory p) {
        p.action = action;
        p.expiresAt = uint40(block.timestamp + 7 days);
        p.salt = bytes32(++_salt);
    }

    function _propose(IMembership.Proposal memory p, uint256 pk) internal returns (bytes32 id) {
        id = membership.hashProposal(p);
        return membership.propose(p, _sig(pk, membership.hashTypedData(id)));
    }

    function _approve(bytes32 id, uint256 pk) internal {
        membership.approve(id, _sig(pk, membership.hashTypedData(membership.hashApproval(id))));
    }

    /// @dev Propose (DE), approve (NL), execute.
    function _govern(IMembership.Proposal memory p) internal returns (bytes32 id) {
        id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        membership.execute(p);
    }

    function _admit(bytes32 orgId, uint8 kind, bytes2 country, uint256 pk) internal {
        IMembership.Proposal memory p = _proposal(kind == Kinds.CUSTOMS ? 4 : 1);
        p.orgId = orgId;
        p.kind = kind;
        p.country = country;
        p.account = vm.addr(pk);
        p.validFrom = uint40(block.timestamp - 1 days);
        p.validUntil = uint40(block.timestamp + KEY_LIFETIME);
        _govern(p);
    }

    function _suspend(bytes32 orgId) internal {
        IMembership.Proposal memory p = _proposal(2);
        p.orgId = orgId;
        _govern(p);
    }

    function _addKey(bytes32 orgId, uint256 signerPk, address key, uint40 from, uint40 until)
        internal
    {
        IMembership.KeyAddition memory r =
            IMembership.KeyAddition({orgId: orgId, key: key, validFrom: from, validUntil: until});
        membership.addKey(
            r, _sig(signerPk, membership.hashTypedData(membership.hashKeyAddition(r)))
        );
    }

    function _revokeKey(bytes32 orgId, uint256 signerPk, address key) internal {
        IMembership.KeyRevocation memory r =
            IMembership.KeyRevocation({orgId: orgId, key: key, deadline: _deadline()});
        membership.revokeKey(
            r, _sig(signerPk, membership.hashTypedData(membership.hashKeyRevocation(r)))
        );
    }

    // ------------------------------------------------------------------ consignments

    /// @dev A registration of the business key whose keccak256 is `refHash`.
    function _registration(bytes32 refHash)
        internal
        view
        returns (IConsignments.Registration memory)
    {
        return IConsignments.Registration({
            referenceHash: refHash,
            origin: "CN",
            destination: "DE",
            consignor: EXPORTER,
            consignee: CONSIGNEE,
            deadline: _deadline()
        });
    }

    function _signRegistration(IConsignments.Registration memory r, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        return _sig(pk, consignments.hashTypedData(consignments.hashRegistration(r)));
    }

    /// @dev The consignment id organisation `registrant` gets for reference hash `refHash`.
    function _cid(bytes32 registrant, bytes32 refHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(registrant, refHash));
    }

    /// @dev The consignment id the carrier gets for reference hash `refHash`.
    function _cid(bytes32 refHash) internal pure returns (bytes32) {
        return _cid(CARRIER, refHash);
    }

    /// @dev Register reference hash `refHash` as the carrier; returns the consignment id.
    function _register(bytes32 refHash) internal returns (bytes32 id) {
        IConsignments.Registration memory r = _registration(refHash);
        consignments.register(r, _signRegistration(r, PK_CARRIER));
        return _cid(refHash);
    }

    function _event(bytes32 consignmentId, uint32 nonce)
        internal
        view
        returns (IConsignments.EventRecord memory)
    {
        return _eventAt(consignmentId, nonce, uint40(block.timestamp));
    }

    function _eventAt(bytes32 consignmentId, uint32 nonce, uint40 eventTime)
        internal
        view
        returns (IConsignments.EventRecord memory)
    {
        bytes32 meta = EventMeta.pack(
            20, // loading
            15, // in_transit
            "CNSHA",
            eventTime,
            "MSCU1234565",
            uint40(block.timestamp + 1 hours),
            nonce
        );
        return IConsignments.EventRecord({
            consignmentId: consignmentId,
            meta: meta,
            sealDigest: keccak256(abi.encode("seal", nonce)),
            documentsDigest: keccak256(abi.encode("docs", nonce)),
            epcisEventHash: keccak256(abi.encode("epcis", nonce))
        });
    }

    function _signEvent(IConsignments.EventRecord memory r, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        return _sig(pk, consignments.hashTypedData(consignments.hashEvent(r)));
    }

    /// @dev `count` events on `consignmentIds` (round robin), each carrying the batch's nonce
    /// and deadline in its `meta` as a batch-signed event does.
    function _batchEvents(bytes32[] memory consignmentIds, uint256 count, uint32 nonce)
        internal
        view
        returns (IConsignments.EventRecord[] memory rs)
    {
        rs = new IConsignments.EventRecord[](count);
        for (uint256 i; i < count; ++i) {
            rs[i] = _event(consignmentIds[i % consignmentIds.length], nonce);
            // distinct events: the digests make them unique within the batch
            rs[i].sealDigest = keccak256(abi.encode("seal", nonce, i));
            rs[i].documentsDigest = keccak256(abi.encode("docs", nonce, i));
            rs[i].epcisEventHash = keccak256(abi.encode("epcis", nonce, i));
        }
    }

    /// @dev The EventBatch signature over `rs` with `nonce` and `deadline`.
    function _signEventBatch(
        IConsignments.EventRecord[] memory rs,
        uint32 nonce,
        uint40 deadline,
        uint256 pk
    ) internal view returns (ISignedRecords.Sig memory) {
        IConsignments.EventBatch memory b = IConsignments.EventBatch({
            eventsHash: consignments.eventsHash(rs, nonce, deadline),
            nonce: nonce,
            deadline: deadline
        });
        return _sig(pk, consignments.hashTypedData(consignments.hashEventBatch(b)));
    }

    // ------------------------------------------------------------------ certificates

    function _issueRecord(bytes32 number, uint64 quantity)
        internal
        view
        returns (ICertificates.CertificateIssue memory)
    {
        return ICertificates.CertificateIssue({
            certificateNumber: number,
            exporter: EXPORTER,
            origin: "CN",
            destination: "DE",
            documentDigest: keccak256(abi.encode("doc", number)),
            hsCodesDigest: keccak256("010121847130"),
            quantity: quantity,
            unit: "KGM",
            validFrom: uint40(block.timestamp - 1 hours),
            validUntil: uint40(block.timestamp + 180 days),
            issuedAt: uint40(block.timestamp)
        });
    }

    function _signIssue(ICertificates.CertificateIssue memory r, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        return _sig(pk, certificates.hashTypedData(certificates.hashIssue(r)));
    }

    function _issue(bytes32 number, uint64 quantity) internal returns (bytes32) {
        ICertificates.CertificateIssue memory r = _issueRecord(number, quantity);
        return certificates.issue(r, _signIssue(r, PK_ISSUER));
    }

    function _signDrawdown(ICertificates.Drawdown memory r, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        return _sig(pk, certificates.hashTypedData(certificates.hashDrawdown(r)));
    }

    /// @dev The DrawdownBatch signature over `rs` with `deadline`.
    function _signDrawdownBatch(ICertificates.Drawdown[] memory rs, uint40 deadline, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        ICertificates.DrawdownBatch memory b = ICertificates.DrawdownBatch({
            drawdownsHash: certificates.drawdownsHash(rs), deadline: deadline
        });
        return _sig(pk, certificates.hashTypedData(certificates.hashDrawdownBatch(b)));
    }

    function _draw(bytes32 certId, bytes32 consignmentId, uint64 q, uint256 pk) internal {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: consignmentId, quantity: q, deadline: _deadline()
        });
        certificates.drawDown(r, _signDrawdown(r, pk));
    }

    // ------------------------------------------------------------------ attestations

    string internal constant SCHEMA = "inspection(bytes32 report,uint8 result)";

    function _registerSchema(string memory definition, uint256 pk) internal returns (bytes32) {
        uint40 deadline = uint40(block.timestamp + 1 hours);
        return attestations.registerSchema(
            definition,
            deadline,
            _sig(pk, attestations.hashTypedData(attestations.hashSchema(definition, deadline)))
        );
    }

    /// @dev An attestation of a consignment, valid for an hour from now.
    function _attestation(bytes32 schemaId, bytes32 subject, bytes32 data)
        internal
        view
        returns (IAttestations.Attestation memory)
    {
        return IAttestations.Attestation({
            schemaId: schemaId,
            subjectType: 1,
            subjectId: subject,
            dataDigest: data,
            refUid: bytes32(0),
            expiresAt: 0,
            deadline: uint40(block.timestamp + 1 hours)
        });
    }

    function _signAttestation(IAttestations.Attestation memory r, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        return _sig(pk, attestations.hashTypedData(attestations.hashAttestation(r)));
    }

    /// @dev The AttestationBatch signature over `rs` with `deadline`.
    function _signAttestationBatch(
        IAttestations.Attestation[] memory rs,
        uint40 deadline,
        uint256 pk
    ) internal view returns (ISignedRecords.Sig memory) {
        IAttestations.AttestationBatch memory b = IAttestations.AttestationBatch({
            attestationsHash: attestations.attestationsHash(rs), deadline: deadline
        });
        return _sig(pk, attestations.hashTypedData(attestations.hashAttestationBatch(b)));
    }

    // ------------------------------------------------------------------ AEO

    /// @dev The deadline the tests' MRA proposals, acceptances and terminations carry: years
    /// after every time the tests warp to.
    uint40 internal constant MRA_DEADLINE = T0 + 10 * 365 days;

    function _aeoAction(uint8 action, bytes32 operatorId, bytes8 programme)
        internal
        returns (IAeoRegistry.AeoAction memory a)
    {
        a.action = action;
        a.operatorId = operatorId;
        a.programme = programme;
        if (action == 1) {
            a.validFrom = uint40(block.timestamp);
            a.validUntil = uint40(block.timestamp + 3 * 365 days);
        }
        a.nonce = ++_nextNonce;
        a.deadline = uint40(block.timestamp + 1 hours);
    }

    function _applyAeo(IAeoRegistry.AeoAction memory a, uint256 pk) internal returns (bytes32) {
        return aeo.applyAction(a, _sig(pk, aeo.hashTypedData(aeo.hashAeoAction(a))));
    }
}
