// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ICommuneErrors} from "./interfaces/ICommuneErrors.sol";
import {ICommitments, IMembershipHooks, ISurplusSink} from "./interfaces/ICommuneHooks.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {SettlementToken} from "./libraries/SettlementToken.sol";

/// @title Commune: membership of a venture commune
/// @notice Each member holds exactly one share, earned by labour and never transferable.
/// @dev Shares are soulbound ERC-721 tokens (ERC-5192 `locked` is always true).
///
/// Labour accounting. Anyone may submit a labour claim of `units` with evidence. Members other
/// than the worker attest it, once each. A claim is *counted* by the attestation that brings its
/// attestations to the quorum in force at that moment, among the members who may attest it:
///
///     quorum(worker) = min(quorumCap, memberCount - (worker is a member ? 1 : 0)),
///
/// and its units are then added to the worker's counted labour. A worker whose counted labour
/// is at least `labourThreshold` may `join`: that spends `labourThreshold` units (any excess is
/// kept for later) and mints exactly one share. A member who `leave`s burns the share; coming back
/// takes new counted labour. The last member cannot leave (income would be owed to nobody). No
/// function is payable and there is no `receive` or `fallback`, so no call that carries ETH can
/// succeed, and no amount of money or tokens changes membership.
///
/// Identity. A share is bound to an address, and no contract can see the person behind it: a share
/// held by a smart-contract wallet is sold by selling the wallet. A commune deployed with
/// `eoaOnly` admits only externally owned accounts without delegated code (founders without code,
/// joiners who sign the transaction themselves); an account may still delegate later (EIP-7702)
/// and a key can be handed over, so members who attest labour vouch for the person, not the address.
///
/// Every change of membership goes through `_admit` or `_remove`, and every change of a share's
/// owner through ERC-721's `_update`, which refuses any move between two non-zero addresses.
///
/// The rest of the commune. `treasury` and `stock` are fixed at deployment (the deployer predicts
/// their addresses; their constructors check that this contract names them). On admission the
/// treasury starts the member's share of income; on exit it keeps what accrued claimable, and a
/// member with commitments in the common stock (a pending request, a rental, a leading rental bid)
/// cannot leave. Both may be the zero address for a membership-only commune.
contract Commune is ERC721, IERC5192, ICommuneErrors {
    using SettlementToken for IERC20;

    /// @notice One labour claim, packed into one storage slot plus the evidence hash.
    /// @param worker Who did the work and will be credited.
    /// @param units Labour units claimed (the commune decides what a unit means: an hour, a task).
    /// @param attestations Members who attested so far (never more than the quorum cap).
    /// @param counted True once the claim reached its quorum and its units were credited.
    struct LabourClaim {
        address worker;
        uint64 units;
        uint24 attestations;
        bool counted;
    }

    /// @notice Labour units a share costs.
    uint256 public immutable labourThreshold;

    /// @notice Most attestations a claim ever needs; the quorum is min(quorumCap, members who may attest).
    uint256 public immutable quorumCap;

    /// @notice Whether only externally owned accounts (without delegated code) may hold a share.
    bool public immutable eoaOnly;

    /// @notice The treasury told of admissions and exits (zero for a membership-only commune).
    IMembershipHooks public immutable treasury;

    /// @notice The common stock asked for a leaving member's commitments (zero for membership only).
    address public immutable stock;

    /// @notice Number of current members, equal to the number of shares outstanding.
    uint256 public memberCount;

    /// @notice Number of labour claims ever submitted; claim ids run from 1 to this.
    uint256 public claimCount;

    /// @dev Share ids are never reused; the next one minted is `_lastShareId + 1`.
    uint256 private _lastShareId;

    mapping(address member => uint256 shareId) private _shareOf;
    mapping(uint256 claimId => LabourClaim) private _claims;
    mapping(uint256 claimId => bytes32 evidenceHash) private _evidenceHash;
    mapping(uint256 claimId => mapping(address attester => bool)) private _attested;
    mapping(address worker => uint256 units) private _countedLabour;

    /// @notice Emitted when a labour claim is submitted.
    /// @param claimId The new claim's id.
    /// @param worker The worker credited if the claim is counted.
    /// @param units Labour units claimed.
    /// @param evidence The evidence as given (a hash or URI); its keccak256 is stored.
    event LabourSubmitted(uint256 indexed claimId, address indexed worker, uint256 units, string evidence);

    /// @notice Emitted when a member attests a labour claim.
    /// @param claimId The claim.
    /// @param attester The member.
    /// @param attestations The claim's attestations after this one.
    event LabourAttested(uint256 indexed claimId, address indexed attester, uint256 attestations);

    /// @notice Emitted when a labour claim reaches its quorum and its units are credited.
    /// @param claimId The claim.
    /// @param worker The worker credited.
    /// @param units Units credited.
    /// @param countedLabour The worker's counted labour afterwards.
    event LabourCounted(uint256 indexed claimId, address indexed worker, uint256 units, uint256 countedLabour);

    /// @notice Emitted when a member receives their share (founder at deployment, or worker by labour).
    /// @param member The new member.
    /// @param shareId The share minted.
    event MemberJoined(address indexed member, uint256 indexed shareId);

    /// @notice Emitted when a member leaves and their share is burned.
    /// @param member The former member.
    /// @param shareId The share burned.
    event MemberLeft(address indexed member, uint256 indexed shareId);

    /// @notice Deploys a commune owned by its founders, the initial workers.
    /// @param name_ ERC-721 collection name shown by wallets.
    /// @param symbol_ ERC-721 symbol shown by wallets.
    /// @param founders The initial members; each receives one share. Must be non-empty and distinct.
    /// @param labourThreshold_ Labour units a share costs; at least 1.
    /// @param quorumCap_ Most attestations a claim needs; from 1 to 2**24 - 1.
    /// @param treasury_ The commune's treasury, or zero for a membership-only commune.
    /// @param stock_ The commune's common stock, or zero for a membership-only commune.
    /// @param eoaOnly_ Admit only externally owned accounts (founders without code, joiners who sign).
    constructor(
        string memory name_,
        string memory symbol_,
        address[] memory founders,
        uint256 labourThreshold_,
        uint256 quorumCap_,
        IMembershipHooks treasury_,
        address stock_,
        bool eoaOnly_
    ) ERC721(name_, symbol_) {
        if (founders.length == 0) revert CommuneNoFounders();
        if (labourThreshold_ == 0) revert CommuneInvalidParameter("labourThreshold", labourThreshold_);
        if (quorumCap_ == 0 || quorumCap_ > type(uint24).max) {
            revert CommuneInvalidParameter("quorumCap", quorumCap_);
        }
        labourThreshold = labourThreshold_;
        quorumCap = quorumCap_;
        treasury = treasury_;
        stock = stock_;
        eoaOnly = eoaOnly_;
        // Founders are admitted before the treasury exists, when income per share is still zero.
        for (uint256 i = 0; i < founders.length; ++i) {
            if (eoaOnly_ && founders[i].code.length != 0) revert CommuneContractAccount(founders[i]);
            _admit(founders[i], false);
        }
    }

    // ------------------------------------------------------------------ labour

    /// @notice Submits a labour claim for the caller. Anyone may submit; only counted labour matters.
    /// @param units Labour units claimed; from 1 to 2**64 - 1.
    /// @param evidence A hash or URI that lets members check the work; not empty.
    /// @return claimId The new claim's id.
    function submitLabour(uint256 units, string calldata evidence) external returns (uint256 claimId) {
        if (units == 0) revert LabourZeroUnits();
        if (units > type(uint64).max) revert CommuneInvalidParameter("units", units);
        if (bytes(evidence).length == 0) revert LabourEmptyEvidence();
        claimId = ++claimCount;
        // Safe cast: checked against type(uint64).max above.
        _claims[claimId] = LabourClaim({worker: msg.sender, units: uint64(units), attestations: 0, counted: false});
        _evidenceHash[claimId] = keccak256(bytes(evidence));
        emit LabourSubmitted(claimId, msg.sender, units, evidence);
    }

    /// @notice Attests a labour claim as a member. The attestation that reaches the quorum counts it.
    /// @param claimId The claim to attest.
    function attest(uint256 claimId) external {
        if (_shareOf[msg.sender] == 0) revert CommuneNotMember(msg.sender);
        LabourClaim storage claim = _claims[claimId];
        address worker = claim.worker;
        if (worker == address(0)) revert LabourUnknownClaim(claimId);
        if (worker == msg.sender) revert LabourSelfAttestation(claimId, msg.sender);
        if (claim.counted) revert LabourAlreadyCounted(claimId);
        if (_attested[claimId][msg.sender]) revert LabourAlreadyAttested(claimId, msg.sender);

        _attested[claimId][msg.sender] = true;
        // Cannot overflow: a claim stops taking attestations at the quorum, which is <= quorumCap < 2**24.
        uint24 attestations = claim.attestations + 1;
        claim.attestations = attestations;
        emit LabourAttested(claimId, msg.sender, attestations);

        if (attestations >= quorumFor(worker)) {
            claim.counted = true;
            uint256 total = _countedLabour[worker] + claim.units;
            _countedLabour[worker] = total;
            emit LabourCounted(claimId, worker, claim.units, total);
        }
    }

    // -------------------------------------------------------------- membership

    /// @notice Joins the commune: spends `labourThreshold` units of the caller's counted labour for one share.
    /// @dev Not payable: value cannot buy a share. Only the caller's own labour admits the caller.
    /// In an `eoaOnly` commune the caller must sign the transaction itself and have no code.
    /// @return shareId The share minted to the caller.
    function join() external returns (uint256 shareId) {
        uint256 counted = _countedLabour[msg.sender];
        if (_shareOf[msg.sender] != 0) revert CommuneAlreadyMember(msg.sender);
        // tx.origin is compared, never trusted: the caller must be the signer of the transaction.
        if (eoaOnly && (msg.sender != tx.origin || msg.sender.code.length != 0)) {
            revert CommuneContractAccount(msg.sender);
        }
        if (counted < labourThreshold) revert LabourBelowThreshold(msg.sender, counted, labourThreshold);
        // Cannot underflow: counted >= labourThreshold was just checked.
        unchecked {
            _countedLabour[msg.sender] = counted - labourThreshold;
        }
        shareId = _admit(msg.sender, true);
    }

    /// @notice Leaves the commune: the caller's share is burned. Income accrued so far stays claimable.
    /// A member who has requested, rents, or leads the rental auction of an asset cannot leave, and
    /// neither can the last member.
    function leave() external {
        if (_shareOf[msg.sender] == 0) revert CommuneNotMember(msg.sender);
        if (memberCount == 1) revert CommuneLastMember(msg.sender);
        if (stock != address(0)) {
            uint256 commitments = ICommitments(stock).commitments(msg.sender);
            if (commitments != 0) revert CommuneMemberCommitted(msg.sender, commitments);
        }
        _remove(msg.sender);
    }

    /// @notice Sends any settlement tokens this contract holds (it owes none) to the treasury, which
    /// divides them among the members. Anyone may call.
    /// @return amount Settlement-token base units swept.
    function sweep() external returns (uint256 amount) {
        ISurplusSink sink = ISurplusSink(address(treasury));
        if (address(sink) == address(0)) revert CommuneNothingToSweep();
        IERC20 token = sink.token();
        amount = token.balanceOf(address(this));
        if (amount == 0) revert CommuneNothingToSweep();
        token.payOut(address(sink), amount);
        sink.sweep();
    }

    // ------------------------------------------------------------------- views

    /// @notice Whether `account` holds a share.
    /// @param account Any address.
    /// @return True when `account` is a member.
    function isMember(address account) public view returns (bool) {
        return _shareOf[account] != 0;
    }

    /// @notice The share id held by `account`, or 0 when it holds none.
    /// @param account Any address.
    /// @return The share id (ids start at 1).
    function shareOf(address account) external view returns (uint256) {
        return _shareOf[account];
    }

    /// @notice Attestations a non-member's claim needs right now: min(quorumCap, memberCount).
    /// @return The quorum.
    function quorum() public view returns (uint256) {
        return Math.min(quorumCap, memberCount);
    }

    /// @notice Attestations a claim of `worker` needs right now: the worker cannot attest their own
    /// claim, so a member's claim needs min(quorumCap, memberCount - 1).
    /// @param worker The claim's worker.
    /// @return The quorum.
    function quorumFor(address worker) public view returns (uint256) {
        uint256 attesters = _shareOf[worker] != 0 ? memberCount - 1 : memberCount;
        return Math.min(quorumCap, attesters);
    }

    /// @notice Counted labour units of `worker` not yet spent on a share.
    /// @param worker Any address.
    /// @return Units.
    function countedLabour(address worker) external view returns (uint256) {
        return _countedLabour[worker];
    }

    /// @notice A labour claim.
    /// @param claimId The claim's id.
    /// @return worker The worker (zero when the claim does not exist).
    /// @return units Units claimed.
    /// @return attestations Attestations so far.
    /// @return counted Whether the claim has been counted.
    /// @return evidenceHash keccak256 of the evidence string.
    function labourClaim(uint256 claimId)
        external
        view
        returns (address worker, uint256 units, uint256 attestations, bool counted, bytes32 evidenceHash)
    {
        LabourClaim storage claim = _claims[claimId];
        return (claim.worker, claim.units, claim.attestations, claim.counted, _evidenceHash[claimId]);
    }

    /// @notice Whether `attester` has attested `claimId`.
    /// @param claimId The claim.
    /// @param attester Any address.
    /// @return True when attested.
    function hasAttested(uint256 claimId, address attester) external view returns (bool) {
        return _attested[claimId][attester];
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------- ERC-721 entry points, refused

    /// @notice Always reverts: shares are not transferable.
    function transferFrom(address, address, uint256 tokenId) public override {
        revert CommuneShareNotTransferable(tokenId);
    }

    /// @notice Always reverts: shares are not transferable.
    /// @dev The three-argument `safeTransferFrom` of ERC-721 calls this one.
    function safeTransferFrom(address, address, uint256 tokenId, bytes memory) public override {
        revert CommuneShareNotTransferable(tokenId);
    }

    /// @notice Always reverts: nobody may be approved to move a share.
    function approve(address to, uint256) public override {
        revert CommuneShareApprovalDisabled(to);
    }

    /// @notice Always reverts: nobody may be approved to move a share.
    function setApprovalForAll(address operator, bool) public override {
        revert CommuneShareApprovalDisabled(operator);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Mints the one share of a new member; `notify` tells the treasury (not for founders),
    /// first: the treasury releases the income of begun periods among the members before this one
    /// is counted (the treasury is fixed at deployment and calls nothing back but views).
    /// Requirements: `member` holds no share (checked here, so founders are distinct too).
    /// Emits {MemberJoined}, {Locked} and ERC-721 {Transfer}.
    function _admit(address member, bool notify) internal returns (uint256 shareId) {
        if (_shareOf[member] != 0) revert CommuneAlreadyMember(member);
        if (notify && address(treasury) != address(0)) treasury.onJoin(member);
        shareId = ++_lastShareId;
        _shareOf[member] = shareId;
        ++memberCount;
        _mint(member, shareId);
        emit Locked(shareId);
        emit MemberJoined(member, shareId);
    }

    /// @dev Burns the share of a leaving member.
    /// Requirements: `member` holds a share.
    /// Emits {MemberLeft} and ERC-721 {Transfer}.
    function _remove(address member) internal {
        if (address(treasury) != address(0)) treasury.onLeave(member);
        uint256 shareId = _shareOf[member];
        delete _shareOf[member];
        --memberCount;
        _burn(shareId);
        emit MemberLeft(member, shareId);
    }

    /// @dev The one path of every ownership change: only mints and burns pass.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert CommuneShareNotTransferable(tokenId);
        return super._update(to, tokenId, auth);
    }
}
