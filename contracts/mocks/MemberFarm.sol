// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {Commune} from "../Commune.sol";

/// @title FarmHand: one worker or attester of a MemberFarm (benchmarks only)
/// @notice Acts on a commune as itself, so that each hand is a distinct worker or member.
contract FarmHand {
    /// @notice The farm that may drive this hand.
    address public farm;

    /// @notice Thrown when anyone but the farm drives the hand.
    error FarmHandNotFarm(address caller);

    /// @notice Binds a fresh clone to the farm that created it (once).
    function bind() external {
        if (farm != address(0)) revert FarmHandNotFarm(msg.sender);
        farm = msg.sender;
    }

    /// @notice Submits a labour claim for this hand.
    /// @param commune The commune.
    /// @param units Labour units.
    /// @return claimId The claim.
    function work(Commune commune, uint256 units) external returns (uint256 claimId) {
        if (msg.sender != farm) revert FarmHandNotFarm(msg.sender);
        claimId = commune.submitLabour(units, "farm");
    }

    /// @notice Attests a claim as this hand (which must be a member).
    /// @param commune The commune.
    /// @param claimId The claim.
    function attest(Commune commune, uint256 claimId) external {
        if (msg.sender != farm) revert FarmHandNotFarm(msg.sender);
        commune.attest(claimId);
    }

    /// @notice Joins the commune with this hand's counted labour.
    /// @param commune The commune.
    function join(Commune commune) external {
        if (msg.sender != farm) revert FarmHandNotFarm(msg.sender);
        commune.join();
    }
}

/// @title MemberFarm: grows a commune by many members in one transaction, by labour (benchmarks only)
/// @notice Every member it adds earns the share the ordinary way: a fresh worker (a clone of
/// FarmHand) submits labour, the farm's attesters (members, e.g. founders) attest it up to the
/// quorum, and the worker calls `join`. Nothing is written around the commune's rules; this only
/// saves the transactions of slow test chains. Not part of a commune.
contract MemberFarm {
    /// @notice The FarmHand implementation that workers and attesters are clones of.
    address public immutable implementation;

    /// @notice The attesters; they must be members of the commune grown (name them as founders).
    FarmHand[] public attesters;

    /// @param attesterCount How many attesters to create (the commune's quorum cap).
    constructor(uint256 attesterCount) {
        implementation = address(new FarmHand());
        for (uint256 i = 0; i < attesterCount; ++i) {
            attesters.push(_hand());
        }
    }

    /// @notice Adds `count` members to `commune`, each by labour, attestations and `join`.
    /// @param commune The commune.
    /// @param count New members.
    function grow(Commune commune, uint256 count) external {
        uint256 threshold = commune.labourThreshold();
        uint256 quorum = commune.quorum();
        for (uint256 i = 0; i < count; ++i) {
            FarmHand worker = _hand();
            uint256 claimId = worker.work(commune, threshold);
            for (uint256 k = 0; k < quorum; ++k) {
                attesters[k].attest(commune, claimId);
            }
            worker.join(commune);
        }
    }

    /// @notice Number of attesters.
    /// @return The count.
    function attesterCount() external view returns (uint256) {
        return attesters.length;
    }

    function _hand() private returns (FarmHand hand) {
        hand = FarmHand(Clones.clone(implementation));
        hand.bind();
    }
}
