// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title HsCodes
/// @notice Digest of a certificate's HS 2022 subheadings.
/// @dev `digest = keccak256(code_1 || code_2 || ... || code_n)` over the 6-digit codes as 6 ASCII
/// bytes each, strictly ascending (sorted, no duplicates), no separators. Python:
/// `keccak(b"".join(sorted(set(codes))))` with every code matching `^[0-9]{6}$`.
library HsCodes {
    /// @notice A code is not 6 ASCII digits, or the list is not strictly ascending or is empty.
    error InvalidHsCodes(uint256 index);

    function digest(bytes6[] calldata codes) internal pure returns (bytes32) {
        uint256 n = codes.length;
        if (n == 0) revert InvalidHsCodes(0);
        bytes memory packed = new bytes(n * 6);
        uint48 previous;
        for (uint256 i; i < n; ++i) {
            bytes6 code = codes[i];
            for (uint256 j; j < 6; ++j) {
                bytes1 c = code[j];
                if (c < "0" || c > "9") revert InvalidHsCodes(i);
                packed[i * 6 + j] = c;
            }
            if (i != 0 && uint48(code) <= previous) revert InvalidHsCodes(i);
            previous = uint48(code);
        }
        return keccak256(packed);
    }
}
