// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "./utils/Vm.sol";
import {Console} from "./utils/Console.sol";
import {IConsignments} from "../src/interfaces/IConsignments.sol";
import {ICertificates} from "../src/interfaces/ICertificates.sol";
import {IAttestations} from "../src/interfaces/IAttestations.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {EventMeta} from "../src/libraries/EventMeta.sol";

/// @notice Whole-transaction gas of the record entry points, as a relayer would pay it.
/// @dev Each test makes exactly one measured call; storage touched by it is cold (setUp runs in
/// its own transaction, and nothing before the measured call reads contract storage). Reported
/// figure = 21,000 + calldata (4 gas per zero byte, 16 per non-zero byte) + gas used inside the
/// called frame (`vm.lastCallGas`), or the EIP-7623 floor 21,000 + 10 * (zeros + 4 * non-zeros)
/// when that is higher (Prague and later). Values are written to snapshots/GasTest.json.
contract GasTest is Fixture {
    uint256 internal constant N = 100;

    bytes32 internal schemaId;
    bytes32[] internal ucrs;
    bytes32[] internal certs;

    function setUp() public override {
        super.setUp();
        IConsignments.Registration[] memory rs = new IConsignments.Registration[](N + 1);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](N + 1);
        for (uint256 i; i <= N; ++i) {
            bytes32 ref = keccak256(abi.encode("UCR", i));
            ucrs.push(_cid(ref));
            rs[i] = _registration(ref);
            sigs[i] = _signRegistration(rs[i], PK_CARRIER);
        }
        consignments.registerBatch(rs, sigs);

        ICertificates.CertificateIssue[] memory cs = new ICertificates.CertificateIssue[](N + 1);
        ISignedRecords.Sig[] memory csigs = new ISignedRecords.Sig[](N + 1);
        for (uint256 i; i <= N; ++i) {
            cs[i] = _issueRecord(keccak256(abi.encode("CO", i)), 1_000_000);
            csigs[i] = _signIssue(cs[i], PK_ISSUER);
            certs.push(keccak256(abi.encode(ISSUER, cs[i].certificateNumber)));
        }
        certificates.issueBatch(cs, csigs);

        schemaId = _registerSchema(SCHEMA, PK_CUSTOMS_DE);
        // A first event by the carrier, so that its nonce word exists (steady state).
        IConsignments.EventRecord memory e = _event(ucrs[N], 1000);
        consignments.postEvent(e, _signEvent(e, PK_CARRIER));
    }

    // ------------------------------------------------------------------ measurement

    function _measure(string memory name, address target, bytes memory data, uint256 items)
        internal
        returns (uint256 total)
    {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        Vm.Gas memory g = vm.lastCallGas();
        uint256 zeros;
        uint256 nonZeros;
        for (uint256 i; i < data.length; ++i) {
            if (data[i] == 0) ++zeros;
            else ++nonZeros;
        }
        uint256 standard = 21_000 + 4 * zeros + 16 * nonZeros + g.gasTotalUsed;
        uint256 floor = 21_000 + 10 * (zeros + 4 * nonZeros);
        total = standard > floor ? standard : floor;
        Console.log(string.concat(name, " calldata bytes"), data.length);
        Console.log(string.concat(name, " execution"), g.gasTotalUsed);
        Console.log(string.concat(name, " tx total"), total);
        Console.log(string.concat(name, " eip7623 floor"), floor);
        Console.log(string.concat(name, " per item"), total / items);
        vm.snapshotValue(string.concat(name, ".tx"), total);
        vm.snapshotValue(string.concat(name, ".perItem"), total / items);
    }

    // ------------------------------------------------------------------ events

    function _events(uint256 consignmentCount, uint32 firstNonce)
        internal
        view
        returns (IConsignments.EventRecord[] memory rs, ISignedRecords.Sig[] memory sigs)
    {
        rs = new IConsignments.EventRecord[](N);
        sigs = new ISignedRecords.Sig[](N);
        for (uint256 i; i < N; ++i) {
            rs[i] = _event(ucrs[i % consignmentCount], firstNonce + uint32(i));
            sigs[i] = _signEvent(rs[i], PK_CARRIER);
        }
    }

    function test_gas_postEvent_single() public {
        IConsignments.EventRecord memory r = _event(ucrs[0], 1001);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        uint256 total = _measure(
            "postEvent", address(consignments), abi.encodeCall(consignments.postEvent, (r, sig)), 1
        );
        // Budget 45,000 is not reachable (see RECORDS.md "Gas"); this guards against regressions.
        assertLe(total, 62_000, "single event regression");
    }

    function test_gas_postEvents_100_distinctConsignments() public {
        (IConsignments.EventRecord[] memory rs, ISignedRecords.Sig[] memory sigs) = _events(N, 1001);
        uint256 total = _measure(
            "postEvents100.distinct",
            address(consignments),
            abi.encodeCall(consignments.postEvents, (rs, sigs)),
            N
        );
        assertLe(total / N, 20_500, "event batch regression (budget 12,000 missed)");
    }

    function test_gas_postEvents_100_tenConsignments() public {
        (IConsignments.EventRecord[] memory rs, ISignedRecords.Sig[] memory sigs) =
            _events(10, 1001);
        _measure(
            "postEvents100.ten",
            address(consignments),
            abi.encodeCall(consignments.postEvents, (rs, sigs)),
            N
        );
    }

    function test_gas_postEvents_100_oneConsignment() public {
        (IConsignments.EventRecord[] memory rs, ISignedRecords.Sig[] memory sigs) = _events(1, 1001);
        uint256 total = _measure(
            "postEvents100.one",
            address(consignments),
            abi.encodeCall(consignments.postEvents, (rs, sigs)),
            N
        );
        assertLe(total / N, 15_500, "event batch regression (budget 12,000 missed)");
    }

    // ------------------------------------------------------------------ batch-signed events

    /// @dev 100 events on the first `consignmentCount` consignments, one EventBatch signature.
    function _measureEventBatch(string memory name, uint256 consignmentCount, bool distinctTimes)
        internal
        returns (uint256 total)
    {
        bytes32[] memory ids = new bytes32[](consignmentCount);
        for (uint256 i; i < consignmentCount; ++i) {
            ids[i] = ucrs[i];
        }
        uint32 nonce = 1001;
        uint40 deadline = uint40(block.timestamp + 1 hours);
        IConsignments.EventRecord[] memory rs = _batchEvents(ids, N, nonce);
        if (distinctTimes) {
            // event i at N - i seconds ago: the key window is checked for every event
            for (uint256 i; i < N; ++i) {
                rs[i].meta = EventMeta.pack(
                    20, 15, "CNSHA", uint40(block.timestamp - N + i), "MSCU1234565", deadline, nonce
                );
            }
        }
        ISignedRecords.Sig memory sig = _signEventBatch(rs, nonce, deadline, PK_CARRIER);
        total = _measure(
            name,
            address(consignments),
            abi.encodeCall(consignments.postEventBatch, (rs, nonce, deadline, sig)),
            N
        );
    }

    function test_gas_postEventBatch_100_oneConsignment() public {
        uint256 total = _measureEventBatch("postEventBatch100.one", 1, false);
        assertLe(total / N, 12_000, "batch-signed event budget");
    }

    function test_gas_postEventBatch_100_oneConsignment_distinctTimes() public {
        uint256 total = _measureEventBatch("postEventBatch100.one.distinctTimes", 1, true);
        assertLe(total / N, 12_000, "batch-signed event budget");
    }

    function test_gas_postEventBatch_100_tenConsignments() public {
        uint256 total = _measureEventBatch("postEventBatch100.ten", 10, true);
        assertLe(total / N, 12_000, "batch-signed event budget");
    }

    function test_gas_postEventBatch_100_distinctConsignments() public {
        uint256 total = _measureEventBatch("postEventBatch100.distinct", N, true);
        // Budget 12,000 is missed: every event pays a cold head update (see RECORDS.md "Gas").
        assertLe(total / N, 14_600, "batch-signed event regression");
    }

    // ------------------------------------------------------------------ registration

    function test_gas_register_single() public {
        IConsignments.Registration memory r = _registration(keccak256("UCR:new"));
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        _measure(
            "register", address(consignments), abi.encodeCall(consignments.register, (r, sig)), 1
        );
    }

    function test_gas_registerBatch_100() public {
        IConsignments.Registration[] memory rs = new IConsignments.Registration[](N);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](N);
        for (uint256 i; i < N; ++i) {
            rs[i] = _registration(keccak256(abi.encode("UCR:new", i)));
            sigs[i] = _signRegistration(rs[i], PK_CARRIER);
        }
        _measure(
            "registerBatch100",
            address(consignments),
            abi.encodeCall(consignments.registerBatch, (rs, sigs)),
            N
        );
    }

    // ------------------------------------------------------------------ certificates

    function test_gas_issue_single() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("CO:new"), 1000);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        uint256 total = _measure(
            "issue", address(certificates), abi.encodeCall(certificates.issue, (r, sig)), 1
        );
        assertLe(total, 110_000, "certificate issue budget");
    }

    function test_gas_drawDown_single() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certs[0], consignmentId: ucrs[0], quantity: 10, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        _measure(
            "drawDown", address(certificates), abi.encodeCall(certificates.drawDown, (r, sig)), 1
        );
    }

    function test_gas_drawDownBatch_100_distinctCertificates() public {
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](N);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](N);
        for (uint256 i; i < N; ++i) {
            rs[i] = ICertificates.Drawdown({
                certificateId: certs[i], consignmentId: ucrs[i], quantity: 10, deadline: _deadline()
            });
            sigs[i] = _signDrawdown(rs[i], PK_EXPORTER);
        }
        _measure(
            "drawDownBatch100.distinct",
            address(certificates),
            abi.encodeCall(certificates.drawDownBatch, (rs, sigs)),
            N
        );
    }

    function test_gas_drawDownBatch_100_oneCertificate() public {
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](N);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](N);
        for (uint256 i; i < N; ++i) {
            rs[i] = ICertificates.Drawdown({
                certificateId: certs[0], consignmentId: ucrs[i], quantity: 10, deadline: _deadline()
            });
            sigs[i] = _signDrawdown(rs[i], PK_EXPORTER);
        }
        _measure(
            "drawDownBatch100.one",
            address(certificates),
            abi.encodeCall(certificates.drawDownBatch, (rs, sigs)),
            N
        );
    }

    // ------------------------------------------------------------------ batch-signed drawdowns

    /// @dev One DrawdownBatch signature over `n` drawdowns of 10 on consignments `ucrs[i]`, from
    /// `certs[i]` (`distinct`) or all from `certs[0]`.
    function _measureDrawdownBatch(string memory name, uint256 n, bool distinct)
        internal
        returns (uint256 total)
    {
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](n);
        for (uint256 i; i < n; ++i) {
            rs[i] = ICertificates.Drawdown({
                certificateId: certs[distinct ? i : 0],
                consignmentId: ucrs[i],
                quantity: 10,
                deadline: _deadline()
            });
        }
        uint40 deadline = uint40(block.timestamp + 1 hours);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, deadline, PK_EXPORTER);
        total = _measure(
            name,
            address(certificates),
            abi.encodeCall(certificates.drawDownSignedBatch, (rs, deadline, sig)),
            n
        );
    }

    function test_gas_drawDownSignedBatch_100_distinctCertificates() public {
        uint256 total = _measureDrawdownBatch("drawDownSignedBatch100.distinct", N, true);
        // ~3,100 of it since each certificate's issuer (second slot) is checked not suspended
        // and its exporter a party of the consignment; ~300 saved by hashing the drawdown's
        // slot once. Each drawdown's own deadline costs ~400 (32 calldata bytes, one more word
        // hashed, the check); reading the certificate's first slot once and hashing the list in
        // one loop save ~820.
        assertLe(total / N, 40_000, "batch-signed drawdown budget, distinct certificates");
    }

    function test_gas_drawDownSignedBatch_100_oneCertificate() public {
        uint256 total = _measureDrawdownBatch("drawDownSignedBatch100.one", N, false);
        assertLe(total / N, 40_000, "batch-signed drawdown budget, one certificate");
    }

    function test_gas_drawDownSignedBatch_one() public {
        _measureDrawdownBatch("drawDownSignedBatch1", 1, true);
    }

    // ------------------------------------------------------------------ attestations

    function test_gas_attest_single() public {
        IAttestations.Attestation memory r = _attestation(schemaId, ucrs[0], keccak256("ok"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        uint256 total = _measure(
            "attest", address(attestations), abi.encodeCall(attestations.attest, (r, sig)), 1
        );
        assertLe(total, 80_000, "attestation budget");
    }

    function test_gas_attestBatch_100() public {
        IAttestations.Attestation[] memory rs = new IAttestations.Attestation[](N);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](N);
        for (uint256 i; i < N; ++i) {
            rs[i] = _attestation(schemaId, ucrs[i], keccak256(abi.encode("ok", i)));
            sigs[i] = _signAttestation(rs[i], PK_CUSTOMS_DE);
        }
        uint256 total = _measure(
            "attestBatch100",
            address(attestations),
            abi.encodeCall(attestations.attestBatch, (rs, sigs)),
            N
        );
        // Budget 35,000 per attestation is missed by ~4.5% (see RECORDS.md "Gas"); the signed
        // deadline added ~490 per attestation (its calldata word, hashing and check).
        assertLe(total / N, 37_000, "attestation batch regression");
    }

    // ------------------------------------------------------------------ batch-signed attestations

    function _measureAttestationBatch(string memory name, uint256 n)
        internal
        returns (uint256 total)
    {
        IAttestations.Attestation[] memory rs = new IAttestations.Attestation[](n);
        for (uint256 i; i < n; ++i) {
            rs[i] = _attestation(schemaId, ucrs[i], keccak256(abi.encode("ok", i)));
        }
        uint40 deadline = uint40(block.timestamp + 1 hours);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, deadline, PK_CUSTOMS_DE);
        total = _measure(
            name,
            address(attestations),
            abi.encodeCall(attestations.attestSignedBatch, (rs, deadline, sig)),
            n
        );
    }

    function test_gas_attestSignedBatch_100() public {
        uint256 total = _measureAttestationBatch("attestSignedBatch100", N);
        assertLe(total / N, 35_000, "batch-signed attestation budget");
    }

    function test_gas_attestSignedBatch_one() public {
        uint256 total = _measureAttestationBatch("attestSignedBatch1", 1);
        assertLe(total, 80_000, "attestation budget");
    }
}
