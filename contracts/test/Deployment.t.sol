// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";

/// @notice Deployment wiring (RECORDS.md section 5) and the EIP-170 code-size limit.
contract DeploymentTest is Fixture {
    function test_constructor_wiresContractsInDeploymentOrder() public view {
        assertEq(consignments.membership(), address(membership), "consignments -> membership");
        assertEq(certificates.membership(), address(membership), "certificates -> membership");
        assertEq(certificates.consignments(), address(consignments), "certificates -> consignments");
        assertEq(attestations.membership(), address(membership), "attestations -> membership");
        assertEq(aeo.membership(), address(membership), "aeo -> membership");
    }

    function test_deployment_codeSizesUnderLimit() public view {
        assertLe(address(membership).code.length, 24_576, "Membership");
        assertLe(address(consignments).code.length, 24_576, "Consignments");
        assertLe(address(certificates).code.length, 24_576, "Certificates");
        assertLe(address(attestations).code.length, 24_576, "Attestations");
        assertLe(address(aeo).code.length, 24_576, "AeoRegistry");
    }
}
