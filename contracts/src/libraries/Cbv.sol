// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Cbv
/// @notice GS1 CBV 2.0 code ranges for bizStep and disposition (tables in RECORDS.md).
/// @dev bizStep codes are the 41 CBV 2.0 bizStep words in alphabetical order, 1-based
/// (1 accepting .. 41 void_shipping). Disposition codes are the 33 CBV 2.0 disposition words in
/// alphabetical order, 1-based (1 active .. 33 unknown); 0 means "no disposition".
library Cbv {
    uint8 internal constant MAX_BIZ_STEP = 41;
    uint8 internal constant MAX_DISPOSITION = 33;
}
