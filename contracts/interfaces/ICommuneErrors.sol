// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title Errors of the membership contract
/// @notice Every refusal of `Commune` is one of these, so clients and tests decode them by name.
interface ICommuneErrors {
    /// @notice Thrown when a caller who must be a member is not one.
    /// @param account The caller.
    error CommuneNotMember(address account);

    /// @notice Thrown when an address that already holds a share tries to get another one.
    /// @param account The member.
    error CommuneAlreadyMember(address account);

    /// @notice Thrown when a commune is deployed without founders.
    error CommuneNoFounders();

    /// @notice Thrown when a deployment parameter is out of range.
    /// @param name The parameter's name, as in the constructor.
    /// @param value The value given.
    error CommuneInvalidParameter(string name, uint256 value);

    /// @notice Thrown by every transfer entry point: a share is earned by labour and never moves.
    /// @param shareId The share that someone tried to move.
    error CommuneShareNotTransferable(uint256 shareId);

    /// @notice Thrown by every approval entry point: nobody may be allowed to move a share.
    /// @param operator The address that would have been approved.
    error CommuneShareApprovalDisabled(address operator);

    /// @notice Thrown when a labour claim is submitted with zero units.
    error LabourZeroUnits();

    /// @notice Thrown when a labour claim is submitted without evidence.
    error LabourEmptyEvidence();

    /// @notice Thrown when a labour claim id does not exist.
    /// @param claimId The id given.
    error LabourUnknownClaim(uint256 claimId);

    /// @notice Thrown when a member tries to attest a labour claim of their own.
    /// @param claimId The claim.
    /// @param attester The member (who is also the claim's worker).
    error LabourSelfAttestation(uint256 claimId, address attester);

    /// @notice Thrown when a member attests the same labour claim twice.
    /// @param claimId The claim.
    /// @param attester The member.
    error LabourAlreadyAttested(uint256 claimId, address attester);

    /// @notice Thrown when a labour claim has already reached its quorum and been counted.
    /// @param claimId The claim.
    error LabourAlreadyCounted(uint256 claimId);

    /// @notice Thrown when a worker tries to join before their counted labour reaches the threshold.
    /// @param worker The worker.
    /// @param counted The worker's counted labour units.
    /// @param threshold The labour units a share needs.
    error LabourBelowThreshold(address worker, uint256 counted, uint256 threshold);

    /// @notice Thrown when a member with commitments in the common stock tries to leave.
    /// @param member The member.
    /// @param commitments Assets they have requested, rent, or lead the rental auction of.
    error CommuneMemberCommitted(address member, uint256 commitments);

    /// @notice Thrown when the last member tries to leave: income would then be owed to nobody.
    /// @param member The last member.
    error CommuneLastMember(address member);

    /// @notice Thrown in a commune that admits only externally owned accounts when a contract (or an
    /// account with delegated code, EIP-7702) would become a member, or a founder has code.
    /// @param account The account refused.
    error CommuneContractAccount(address account);

    /// @notice Thrown when a sweep finds no settlement tokens held by the membership contract (or
    /// the commune has no treasury to sweep them to).
    error CommuneNothingToSweep();

    /// @notice Thrown when anyone but the clone's factory initialises a membership contract.
    /// @param caller The caller.
    error CommuneOnlyFactory(address caller);

    /// @notice Thrown when anyone but the commune's governance changes its parameters (nobody can
    /// while the governance address is zero).
    /// @param caller The caller.
    error CommuneOnlyGovernance(address caller);
}
