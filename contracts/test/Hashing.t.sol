// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";
import {IMembership} from "../src/interfaces/IMembership.sol";
import {IConsignments} from "../src/interfaces/IConsignments.sol";
import {ICertificates} from "../src/interfaces/ICertificates.sol";
import {IAttestations} from "../src/interfaces/IAttestations.sol";
import {IAeoRegistry} from "../src/interfaces/IAeoRegistry.sol";

/// @notice Every `hash<Record>` view equals keccak256(abi.encode(keccak256(<type string from
/// RECORDS.md>), fields...)), for any field values; and every domain is as documented.
contract HashingTest is Fixture {
    function test_domains_matchDocumentedNames() public view {
        _checkDomain(address(membership), "TradeLedger Membership");
        _checkDomain(address(consignments), "TradeLedger Consignments");
        _checkDomain(address(certificates), "TradeLedger Certificates");
        _checkDomain(address(attestations), "TradeLedger Attestations");
        _checkDomain(address(aeo), "TradeLedger AeoRegistry");
    }

    function _checkDomain(address target, string memory name) internal view {
        bytes32 s = keccak256("some struct");
        (bool ok, bytes memory ret) =
            target.staticcall(abi.encodeWithSignature("hashTypedData(bytes32)", s));
        assertTrue(ok, "call");
        assertEq(abi.decode(ret, (bytes32)), _digest(target, name, s), name);
    }

    function testFuzz_hashProposal_matchesTypeString(IMembership.Proposal memory p) public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256(
                    "Proposal(uint8 action,bytes32 orgId,uint8 kind,bytes2 country,address account,uint40 validFrom,uint40 validUntil,uint16 threshold,uint40 expiresAt,bytes32 salt,bytes32 subject)"
                ),
                p.action,
                p.orgId,
                p.kind,
                p.country,
                p.account,
                p.validFrom,
                p.validUntil,
                p.threshold,
                p.expiresAt,
                p.salt,
                p.subject
            )
        );
        assertEq(membership.hashProposal(p), expected, "proposal");
    }

    function testFuzz_hashKeyRecords_matchTypeStrings(
        bytes32 orgId,
        address key,
        uint40 validFrom,
        uint40 validUntil,
        bytes32 proposalId,
        uint40 deadline
    ) public view {
        assertEq(
            membership.hashKeyAddition(IMembership.KeyAddition(orgId, key, validFrom, validUntil)),
            keccak256(
                abi.encode(
                    keccak256(
                        "KeyAddition(bytes32 orgId,address key,uint40 validFrom,uint40 validUntil)"
                    ),
                    orgId,
                    key,
                    validFrom,
                    validUntil
                )
            ),
            "key addition"
        );
        assertEq(
            membership.hashKeyRevocation(IMembership.KeyRevocation(orgId, key, deadline)),
            keccak256(
                abi.encode(
                    keccak256("KeyRevocation(bytes32 orgId,address key,uint40 deadline)"),
                    orgId,
                    key,
                    deadline
                )
            ),
            "key revocation"
        );
        assertEq(
            membership.hashApproval(proposalId),
            keccak256(abi.encode(keccak256("Approval(bytes32 proposalId)"), proposalId)),
            "approval"
        );
    }

    function testFuzz_hashRegistration_matchesTypeString(IConsignments.Registration memory r)
        public
        view
    {
        assertEq(
            consignments.hashRegistration(r),
            keccak256(
                abi.encode(
                    keccak256(
                        "ConsignmentRegistration(bytes32 referenceHash,bytes2 origin,bytes2 destination,bytes32 consignor,bytes32 consignee,uint40 deadline)"
                    ),
                    r.referenceHash,
                    r.origin,
                    r.destination,
                    r.consignor,
                    r.consignee,
                    r.deadline
                )
            ),
            "registration"
        );
    }

    function testFuzz_hashEvent_matchesTypeString(IConsignments.EventRecord memory r) public view {
        IConsignments.EventFields memory f = consignments.unpackEventMeta(r.meta);
        bytes memory head = abi.encode(
            keccak256(
                "ConsignmentEvent(bytes32 consignmentId,uint8 bizStep,uint8 disposition,bytes5 location,uint40 eventTime,bytes11 container,bytes32 sealDigest,bytes32 documentsDigest,bytes32 epcisEventHash,uint32 nonce,uint40 deadline)"
            ),
            r.consignmentId,
            f.bizStep,
            f.disposition,
            f.location,
            f.eventTime,
            f.container
        );
        bytes memory tail =
            abi.encode(r.sealDigest, r.documentsDigest, r.epcisEventHash, f.nonce, f.deadline);
        assertEq(consignments.hashEvent(r), keccak256(bytes.concat(head, tail)), "event");
    }

    function testFuzz_hashCertificateRecords_matchTypeStrings(
        ICertificates.CertificateIssue memory r,
        ICertificates.Drawdown memory d,
        ICertificates.CertificateRevocation memory v
    ) public view {
        bytes memory a = abi.encode(
            keccak256(
                "CertificateIssue(bytes32 certificateNumber,bytes32 exporter,bytes2 origin,bytes2 destination,bytes32 documentDigest,bytes32 hsCodesDigest,uint64 quantity,bytes8 unit,uint40 validFrom,uint40 validUntil,uint40 issuedAt)"
            ),
            r.certificateNumber,
            r.exporter,
            r.origin,
            r.destination,
            r.documentDigest,
            r.hsCodesDigest
        );
        bytes memory b = abi.encode(r.quantity, r.unit, r.validFrom, r.validUntil, r.issuedAt);
        assertEq(certificates.hashIssue(r), keccak256(bytes.concat(a, b)), "issue");
        assertEq(
            certificates.hashDrawdown(d),
            keccak256(
                abi.encode(
                    keccak256(
                        "Drawdown(bytes32 certificateId,bytes32 consignmentId,uint64 quantity,uint40 deadline)"
                    ),
                    d.certificateId,
                    d.consignmentId,
                    d.quantity,
                    d.deadline
                )
            ),
            "drawdown"
        );
        assertEq(
            certificates.hashRevocation(v),
            keccak256(
                abi.encode(
                    keccak256(
                        "CertificateRevocation(bytes32 certificateNumber,bytes32 reasonDigest,uint40 deadline)"
                    ),
                    v.certificateNumber,
                    v.reasonDigest,
                    v.deadline
                )
            ),
            "revocation"
        );
    }

    function testFuzz_hashAttestationRecords_matchTypeStrings(
        IAttestations.Attestation memory r,
        IAttestations.Revocation memory v,
        string memory definition,
        uint40 deadline
    ) public view {
        assertEq(
            attestations.hashAttestation(r),
            keccak256(
                abi.encode(
                    keccak256(
                        "Attestation(bytes32 schemaId,uint8 subjectType,bytes32 subjectId,bytes32 dataDigest,bytes32 refUid,uint40 expiresAt,uint40 deadline)"
                    ),
                    r.schemaId,
                    r.subjectType,
                    r.subjectId,
                    r.dataDigest,
                    r.refUid,
                    r.expiresAt,
                    r.deadline
                )
            ),
            "attestation"
        );
        assertEq(
            attestations.hashRevocation(v),
            keccak256(
                abi.encode(
                    keccak256(
                        "AttestationRevocation(bytes32 uid,bytes32 reasonDigest,uint40 deadline)"
                    ),
                    v.uid,
                    v.reasonDigest,
                    v.deadline
                )
            ),
            "revocation"
        );
        assertEq(
            attestations.hashSchema(definition, deadline),
            keccak256(
                abi.encode(
                    keccak256("SchemaRegistration(string definition,uint40 deadline)"),
                    keccak256(bytes(definition)),
                    deadline
                )
            ),
            "schema"
        );
    }

    function testFuzz_hashAeoRecords_matchTypeStrings(
        IAeoRegistry.AeoAction memory a,
        IAeoRegistry.MraProposal memory m,
        bytes32 mraId,
        uint40 deadline
    ) public view {
        assertEq(
            aeo.hashAeoAction(a),
            keccak256(
                abi.encode(
                    keccak256(
                        "AeoAction(uint8 action,bytes32 operatorId,bytes8 programme,uint40 validFrom,uint40 validUntil,uint32 nonce,uint40 deadline)"
                    ),
                    a.action,
                    a.operatorId,
                    a.programme,
                    a.validFrom,
                    a.validUntil,
                    a.nonce,
                    a.deadline
                )
            ),
            "aeo action"
        );
        assertEq(
            aeo.hashMraProposal(m),
            keccak256(
                abi.encode(
                    keccak256(
                        "MraProposal(bytes32 counterpart,uint32 scope,uint40 validFrom,uint40 validUntil,uint40 deadline)"
                    ),
                    m.counterpart,
                    m.scope,
                    m.validFrom,
                    m.validUntil,
                    m.deadline
                )
            ),
            "mra proposal"
        );
        assertEq(
            aeo.hashMraAcceptance(mraId, deadline),
            keccak256(
                abi.encode(
                    keccak256("MraAcceptance(bytes32 mraId,uint40 deadline)"), mraId, deadline
                )
            ),
            "acceptance"
        );
        assertEq(
            aeo.hashMraTermination(mraId, deadline),
            keccak256(
                abi.encode(
                    keccak256("MraTermination(bytes32 mraId,uint40 deadline)"), mraId, deadline
                )
            ),
            "termination"
        );
    }
}
