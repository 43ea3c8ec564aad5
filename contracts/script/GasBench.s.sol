// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "../test/utils/Vm.sol";
import {Membership} from "../src/Membership.sol";
import {Consignments} from "../src/Consignments.sol";
import {Certificates} from "../src/Certificates.sol";
import {Attestations} from "../src/Attestations.sol";
import {IMembership} from "../src/interfaces/IMembership.sol";
import {IConsignments} from "../src/interfaces/IConsignments.sol";
import {ICertificates} from "../src/interfaces/ICertificates.sol";
import {IAttestations} from "../src/interfaces/IAttestations.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {EventMeta} from "../src/libraries/EventMeta.sol";

/// @notice Cross-check of test/Gas.t.sol on a real node: deploys the system to anvil and sends
/// the benchmark records as real transactions; read gasUsed from the broadcast receipts.
/// Usage (anvil on :8545, first default account as relayer):
///   forge script script/GasBench.s.sol --rpc-url http://127.0.0.1:8545 --broadcast \
///     --private-key <anvil key 0> --slow
contract GasBench {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant N = 100;
    uint256 internal constant PK_DE = 0xC0DE01;
    uint256 internal constant PK_NL = 0xC0DE02;
    uint256 internal constant PK_CN = 0xC0DE03;
    uint256 internal constant PK_CARRIER = 0xCA0001;
    uint256 internal constant PK_EXPORTER = 0x7AD001;
    uint256 internal constant PK_ISSUER = 0x155001;
    bytes32 internal constant DE = keccak256("org:customs-de");
    bytes32 internal constant NL = keccak256("org:customs-nl");
    bytes32 internal constant CN = keccak256("org:customs-cn");
    bytes32 internal constant CARRIER = keccak256("org:carrier-nl");
    bytes32 internal constant EXPORTER = keccak256("org:trader-cn");
    bytes32 internal constant ISSUER = keccak256("org:chamber-cn");

    Membership internal membership;
    Consignments internal consignments;
    Certificates internal certificates;
    Attestations internal attestations;
    uint256 internal _salt;

    function run() external {
        uint256 relayerPk = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;
        vm.startBroadcast(relayerPk);
        uint40 t = uint40(block.timestamp);
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](3);
        admins[0] =
            IMembership.BootstrapAdministration(DE, "DE", vm.addr(PK_DE), t - 1 days, t + 365 days);
        admins[1] =
            IMembership.BootstrapAdministration(NL, "NL", vm.addr(PK_NL), t - 1 days, t + 365 days);
        admins[2] =
            IMembership.BootstrapAdministration(CN, "CN", vm.addr(PK_CN), t - 1 days, t + 365 days);
        address[] memory relayers = new address[](1);
        relayers[0] = vm.addr(relayerPk);
        membership = new Membership(admins, relayers, 2);
        consignments = new Consignments(membership);
        certificates = new Certificates(membership, consignments);
        attestations = new Attestations(membership);
        _admit(CARRIER, 2, "NL", PK_CARRIER);
        _admit(EXPORTER, 3, "CN", PK_EXPORTER);
        _admit(ISSUER, 4, "CN", PK_ISSUER);

        bytes32[] memory ucrs = new bytes32[](N);
        IConsignments.Registration[] memory regs = new IConsignments.Registration[](N);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](N);
        for (uint256 i; i < N; ++i) {
            bytes32 ref = keccak256(abi.encode("UCR", i));
            ucrs[i] = keccak256(abi.encode(CARRIER, ref)); // the carrier's consignment id
            regs[i] = IConsignments.Registration(
                ref, "CN", "DE", EXPORTER, bytes32(0), uint40(block.timestamp + 1 hours)
            );
            sigs[i] = _sig(
                PK_CARRIER, consignments.hashTypedData(consignments.hashRegistration(regs[i]))
            );
        }
        consignments.registerBatch(regs, sigs); // tx: registerBatch100

        bytes32[] memory certs = new bytes32[](N);
        ICertificates.CertificateIssue[] memory cs = new ICertificates.CertificateIssue[](N);
        for (uint256 i; i < N; ++i) {
            cs[i] = _issueRecord(keccak256(abi.encode("CO", i)));
            sigs[i] = _sig(PK_ISSUER, certificates.hashTypedData(certificates.hashIssue(cs[i])));
            certs[i] = keccak256(abi.encode(ISSUER, cs[i].certificateNumber));
        }
        certificates.issueBatch(cs, sigs);
        uint40 schemaDeadline = uint40(block.timestamp + 1 hours);
        bytes32 schemaId = attestations.registerSchema(
            "inspection(bytes32 report,uint8 result)",
            schemaDeadline,
            _sig(
                PK_DE,
                attestations.hashTypedData(
                    attestations.hashSchema(
                        "inspection(bytes32 report,uint8 result)", schemaDeadline
                    )
                )
            )
        );
        _postEvent(ucrs[0], 1000); // warms the nonce word (steady state)

        // ---- measured transactions
        _postEvent(ucrs[1], 1001); // postEvent single
        _postEvents(ucrs, 1, 1100); // postEvents 100, one consignment
        _postEvents(ucrs, N, 1200); // postEvents 100, distinct consignments
        _postEventBatch(ucrs, 1, 1300); // postEventBatch 100, one consignment
        _postEventBatch(ucrs, 10, 1301); // postEventBatch 100, ten consignments
        _postEventBatch(ucrs, N, 1302); // postEventBatch 100, distinct consignments
        ICertificates.CertificateIssue memory ci = _issueRecord(keccak256("CO:new"));
        certificates.issue(
            ci, _sig(PK_ISSUER, certificates.hashTypedData(certificates.hashIssue(ci)))
        );
        ICertificates.Drawdown memory d =
            ICertificates.Drawdown(certs[0], ucrs[0], 10, uint40(block.timestamp + 1 hours));
        certificates.drawDown(
            d, _sig(PK_EXPORTER, certificates.hashTypedData(certificates.hashDrawdown(d)))
        );
        ICertificates.Drawdown[] memory ds = new ICertificates.Drawdown[](N);
        for (uint256 i; i < N; ++i) {
            ds[i] = ICertificates.Drawdown(certs[i], ucrs[i], 10, uint40(block.timestamp + 1 hours));
            if (i == 0) ds[i].consignmentId = ucrs[1];
            sigs[i] =
                _sig(PK_EXPORTER, certificates.hashTypedData(certificates.hashDrawdown(ds[i])));
        }
        certificates.drawDownBatch(ds, sigs);
        _drawDownSignedBatch(certs, ucrs, 2); // drawDownSignedBatch100.distinct, new pairs
        bytes32[] memory fresh = new bytes32[](1); // a certificate with nothing drawn yet
        fresh[0] = keccak256(abi.encode(ISSUER, ci.certificateNumber));
        _drawDownSignedBatch(fresh, ucrs, 0); // drawDownSignedBatch100.one
        IAttestations.Attestation memory a = IAttestations.Attestation(
            schemaId, 1, ucrs[0], keccak256("ok"), bytes32(0), 0, schemaDeadline
        );
        attestations.attest(
            a, _sig(PK_DE, attestations.hashTypedData(attestations.hashAttestation(a)))
        );
        IAttestations.Attestation[] memory as_ = new IAttestations.Attestation[](N);
        for (uint256 i; i < N; ++i) {
            as_[i] = IAttestations.Attestation(
                schemaId, 1, ucrs[i], keccak256(abi.encode("ok", i)), bytes32(0), 0, schemaDeadline
            );
            sigs[i] = _sig(PK_DE, attestations.hashTypedData(attestations.hashAttestation(as_[i])));
        }
        attestations.attestBatch(as_, sigs);
        for (uint256 i; i < N; ++i) {
            as_[i].dataDigest = keccak256(abi.encode("signed together", i));
        }
        uint40 deadline = uint40(block.timestamp + 1 hours);
        IAttestations.AttestationBatch memory ab =
            IAttestations.AttestationBatch(attestations.attestationsHash(as_), deadline);
        attestations.attestSignedBatch( // tx: attestSignedBatch100
            as_,
            deadline,
            _sig(PK_DE, attestations.hashTypedData(attestations.hashAttestationBatch(ab)))
        );
        vm.stopBroadcast();
    }

    function _postEvent(bytes32 ucr, uint32 nonce) internal {
        IConsignments.EventRecord memory r = _event(ucr, nonce);
        consignments.postEvent(
            r, _sig(PK_CARRIER, consignments.hashTypedData(consignments.hashEvent(r)))
        );
    }

    function _postEvents(bytes32[] memory ucrs, uint256 distinct, uint32 firstNonce) internal {
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](N);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](N);
        for (uint256 i; i < N; ++i) {
            rs[i] = _event(ucrs[i % distinct], firstNonce + uint32(i));
            sigs[i] = _sig(PK_CARRIER, consignments.hashTypedData(consignments.hashEvent(rs[i])));
        }
        consignments.postEvents(rs, sigs);
    }

    /// @dev 100 events with one EventBatch signature; event i at 100 - i seconds ago.
    function _postEventBatch(bytes32[] memory ucrs, uint256 distinct, uint32 nonce) internal {
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](N);
        uint40 deadline = uint40(block.timestamp + 1 hours);
        for (uint256 i; i < N; ++i) {
            rs[i] = _event(ucrs[i % distinct], nonce);
            rs[i].meta = EventMeta.pack(
                20, 15, "CNSHA", uint40(block.timestamp - N + i), "MSCU1234565", deadline, nonce
            );
            rs[i].sealDigest = keccak256(abi.encode("seal", nonce, i));
            rs[i].documentsDigest = keccak256(abi.encode("docs", nonce, i));
            rs[i].epcisEventHash = keccak256(abi.encode("epcis", nonce, i));
        }
        IConsignments.EventBatch memory b =
            IConsignments.EventBatch(consignments.eventsHash(rs, nonce, deadline), nonce, deadline);
        consignments.postEventBatch(
            rs,
            nonce,
            deadline,
            _sig(PK_CARRIER, consignments.hashTypedData(consignments.hashEventBatch(b)))
        );
    }

    function _event(bytes32 ucr, uint32 nonce)
        internal
        view
        returns (IConsignments.EventRecord memory)
    {
        return IConsignments.EventRecord({
            consignmentId: ucr,
            meta: EventMeta.pack(
                20,
                15,
                "CNSHA",
                uint40(block.timestamp - 60),
                "MSCU1234565",
                uint40(block.timestamp + 1 hours),
                nonce
            ),
            sealDigest: keccak256(abi.encode("seal", nonce)),
            documentsDigest: keccak256(abi.encode("docs", nonce)),
            epcisEventHash: keccak256(abi.encode("epcis", nonce))
        });
    }

    /// @dev One DrawdownBatch signature of the exporter over N drawdowns of 10, item i from
    /// `certIds[i % length]` for consignment `ucrs[(i + shift) % N]`.
    function _drawDownSignedBatch(bytes32[] memory certIds, bytes32[] memory ucrs, uint256 shift)
        internal
    {
        ICertificates.Drawdown[] memory ds = new ICertificates.Drawdown[](N);
        uint40 deadline = uint40(block.timestamp + 1 hours);
        for (uint256 i; i < N; ++i) {
            ds[i] = ICertificates.Drawdown(
                certIds[i % certIds.length], ucrs[(i + shift) % N], 10, deadline
            );
        }
        ICertificates.DrawdownBatch memory db =
            ICertificates.DrawdownBatch(certificates.drawdownsHash(ds), deadline);
        certificates.drawDownSignedBatch( // tx: drawDownSignedBatch100
            ds,
            deadline,
            _sig(PK_EXPORTER, certificates.hashTypedData(certificates.hashDrawdownBatch(db)))
        );
    }

    function _issueRecord(bytes32 number)
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
            quantity: 1_000_000,
            unit: "KGM",
            validFrom: uint40(block.timestamp - 1 hours),
            validUntil: uint40(block.timestamp + 180 days),
            issuedAt: uint40(block.timestamp - 60)
        });
    }

    function _admit(bytes32 orgId, uint8 kind, bytes2 country, uint256 pk) internal {
        IMembership.Proposal memory p;
        p.action = 1;
        p.orgId = orgId;
        p.kind = kind;
        p.country = country;
        p.account = vm.addr(pk);
        p.validFrom = uint40(block.timestamp - 1 days);
        p.validUntil = uint40(block.timestamp + 365 days);
        p.expiresAt = uint40(block.timestamp + 1 days);
        p.salt = bytes32(++_salt);
        bytes32 id = membership.hashProposal(p);
        membership.propose(p, _sig(PK_DE, membership.hashTypedData(id)));
        membership.approve(id, _sig(PK_NL, membership.hashTypedData(membership.hashApproval(id))));
        membership.execute(p);
    }

    function _sig(uint256 pk, bytes32 digest) internal pure returns (ISignedRecords.Sig memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return ISignedRecords.Sig({r: r, vs: bytes32(uint256(s) | (uint256(v - 27) << 255))});
    }
}
