// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Forge's console (logs shown with -vv), the two signatures the tests use.
library Console {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory message, uint256 value) internal view {
        (bool ok,) =
            CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", message, value));
        ok;
    }

    function log(string memory message) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string)", message));
        ok;
    }
}
