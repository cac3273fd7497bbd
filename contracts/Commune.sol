// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ERC721Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol";

import {ICommuneErrors} from "./interfaces/ICommuneErrors.sol";
import {ICommitments, IMembershipHooks, ISurplusSink} from "./interfaces/ICommuneHooks.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {CommuneArgs} from "./libraries/CommuneArgs.sol";
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
/// The rest of the commune. Each commune's membership contract is a clone (EIP-1167) of one
/// implementation per chain, made and initialised once by `CommuneFactory` in the transaction that
/// creates the commune; `treasury`, `stock`, `eoaOnly` and `governance` are the clone's immutable
/// arguments (`CommuneArgs`), so they never change. On admission the treasury starts the member's
/// share of income; on exit it keeps what accrued claimable, and a member with commitments in the
/// common stock (a pending request, a rental, a leading rental bid) cannot leave. Both are the zero
/// address for a membership-only commune.
///
/// Parameters. `labourThreshold` and `quorumCap` are stored (one slot, with the member count) and
/// only `governance` may change them (`setParameters`), within the bounds fixed here that no vote can
/// pass: a threshold from 1 to 2**64 - 1, a quorum cap from 1 to 2**24 - 1. A change applies to what
/// happens after it: a claim is counted under the quorum in force at the attestation that counts
/// it (recorded in `LabourCounted`), a join spends the threshold in force when it joins.
contract Commune is ERC721Upgradeable, IERC5192, ICommuneErrors {
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

    /// @notice The member count, the last share id and the parameters, in one slot (every
    /// attestation and join reads them together).
    /// @param memberCount Current members, equal to the shares outstanding.
    /// @param lastShareId Share ids are never reused; the next one minted is `lastShareId + 1`.
    /// @param labourThreshold Labour units a share costs.
    /// @param quorumCap Most attestations a claim ever needs.
    struct Roll {
        uint64 memberCount;
        uint64 lastShareId;
        uint64 labourThreshold;
        uint24 quorumCap;
    }

    /// @notice Largest labour threshold the constitution allows (labour units are uint64).
    uint256 public constant MAX_LABOUR_THRESHOLD = type(uint64).max;

    /// @notice Largest quorum cap the constitution allows.
    uint256 public constant MAX_QUORUM_CAP = type(uint24).max;

    Roll private _roll;

    /// @notice Number of labour claims ever submitted; claim ids run from 1 to this.
    uint256 public claimCount;

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
    /// @param quorum The quorum in force when it was counted.
    event LabourCounted(
        uint256 indexed claimId, address indexed worker, uint256 units, uint256 countedLabour, uint256 quorum
    );

    /// @notice Emitted when governance changes the membership parameters (and at initialisation).
    /// @param labourThreshold Labour units a share costs from now on.
    /// @param quorumCap Most attestations a claim needs from now on.
    event MembershipParametersSet(uint256 labourThreshold, uint256 quorumCap);

    /// @notice Emitted when a member receives their share (founder at deployment, or worker by labour).
    /// @param member The new member.
    /// @param shareId The share minted.
    event MemberJoined(address indexed member, uint256 indexed shareId);

    /// @notice Emitted when a member leaves and their share is burned.
    /// @param member The former member.
    /// @param shareId The share burned.
    event MemberLeft(address indexed member, uint256 indexed shareId);

    /// @notice The implementation is never initialised: only its clones are.
    constructor() {
        _disableInitializers();
    }

    /// @notice Initialises a commune's membership, owned by its founders, the initial workers. Only
    /// the clone's factory, once (a second call reverts with InvalidInitialization).
    /// @param name_ ERC-721 collection name shown by wallets.
    /// @param symbol_ ERC-721 symbol shown by wallets.
    /// @param founders The initial members; each receives one share. Must be non-empty and distinct.
    /// @param labourThreshold_ Labour units a share costs; from 1 to MAX_LABOUR_THRESHOLD.
    /// @param quorumCap_ Most attestations a claim needs; from 1 to MAX_QUORUM_CAP.
    function initialize(
        string calldata name_,
        string calldata symbol_,
        address[] calldata founders,
        uint256 labourThreshold_,
        uint256 quorumCap_
    ) external initializer {
        if (msg.sender != CommuneArgs.factory()) revert CommuneOnlyFactory(msg.sender);
        if (founders.length == 0) revert CommuneNoFounders();
        __ERC721_init(name_, symbol_);
        _setParameters(labourThreshold_, quorumCap_);
        bool eoaOnly_ = eoaOnly();
        // Founders are admitted before any income exists (the treasury is not told).
        for (uint256 i = 0; i < founders.length; ++i) {
            if (eoaOnly_ && founders[i].code.length != 0) revert CommuneContractAccount(founders[i]);
            _admit(founders[i], false);
        }
    }

    /// @notice Changes the labour threshold and the quorum cap. Only `governance` (none while it is
    /// the zero address), and only within the bounds fixed in this contract.
    /// @param labourThreshold_ Labour units a share costs; from 1 to MAX_LABOUR_THRESHOLD.
    /// @param quorumCap_ Most attestations a claim needs; from 1 to MAX_QUORUM_CAP.
    function setParameters(uint256 labourThreshold_, uint256 quorumCap_) external {
        if (msg.sender != governance()) revert CommuneOnlyGovernance(msg.sender);
        _setParameters(labourThreshold_, quorumCap_);
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

        uint256 quorum_ = quorumFor(worker);
        if (attestations >= quorum_) {
            claim.counted = true;
            uint256 total = _countedLabour[worker] + claim.units;
            _countedLabour[worker] = total;
            emit LabourCounted(claimId, worker, claim.units, total, quorum_);
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
        if (eoaOnly() && (msg.sender != tx.origin || msg.sender.code.length != 0)) {
            revert CommuneContractAccount(msg.sender);
        }
        uint256 threshold = _roll.labourThreshold;
        if (counted < threshold) revert LabourBelowThreshold(msg.sender, counted, threshold);
        // Cannot underflow: counted >= threshold was just checked.
        unchecked {
            _countedLabour[msg.sender] = counted - threshold;
        }
        shareId = _admit(msg.sender, true);
    }

    /// @notice Leaves the commune: the caller's share is burned. Income accrued so far stays claimable.
    /// A member who has requested, rents, or leads the rental auction of an asset cannot leave, and
    /// neither can the last member.
    function leave() external {
        if (_shareOf[msg.sender] == 0) revert CommuneNotMember(msg.sender);
        if (_roll.memberCount == 1) revert CommuneLastMember(msg.sender);
        address stock_ = stock();
        if (stock_ != address(0)) {
            uint256 commitments = ICommitments(stock_).commitments(msg.sender);
            if (commitments != 0) revert CommuneMemberCommitted(msg.sender, commitments);
        }
        _remove(msg.sender);
    }

    /// @notice Sends any settlement tokens this contract holds (it owes none) to the treasury, which
    /// divides them among the members. Anyone may call.
    /// @return amount Settlement-token base units swept.
    function sweep() external returns (uint256 amount) {
        ISurplusSink sink = ISurplusSink(address(treasury()));
        if (address(sink) == address(0)) revert CommuneNothingToSweep();
        IERC20 token = sink.token();
        amount = token.balanceOf(address(this));
        if (amount == 0) revert CommuneNothingToSweep();
        token.payOut(address(sink), amount);
        sink.sweep();
    }

    // ------------------------------------------------------------------- views

    /// @notice Number of current members, equal to the number of shares outstanding.
    /// @return The count.
    function memberCount() public view returns (uint256) {
        return _roll.memberCount;
    }

    /// @notice Labour units a share costs now.
    /// @return Units.
    function labourThreshold() external view returns (uint256) {
        return _roll.labourThreshold;
    }

    /// @notice Most attestations a claim needs now; the quorum is min(quorumCap, members who may attest).
    /// @return The cap.
    function quorumCap() public view returns (uint256) {
        return _roll.quorumCap;
    }

    /// @notice Whether only externally owned accounts (without delegated code) may hold a share.
    /// @return True for an EOA-only commune.
    function eoaOnly() public view returns (bool) {
        return CommuneArgs.eoaOnly();
    }

    /// @notice The treasury told of admissions and exits (zero for a membership-only commune).
    /// @return The treasury.
    function treasury() public view returns (IMembershipHooks) {
        return IMembershipHooks(CommuneArgs.treasury());
    }

    /// @notice The common stock asked for a leaving member's commitments (zero for membership only).
    /// @return The common stock.
    function stock() public view returns (address) {
        return CommuneArgs.stock();
    }

    /// @notice The one account that may change the parameters (zero: nobody can).
    /// @return The governance address.
    function governance() public view returns (address) {
        return CommuneArgs.governance();
    }

    /// @notice The factory that created and initialised this commune.
    /// @return The factory.
    function factory() external view returns (address) {
        return CommuneArgs.factory();
    }

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
        Roll storage roll = _roll;
        return Math.min(roll.quorumCap, roll.memberCount);
    }

    /// @notice Attestations a claim of `worker` needs right now: the worker cannot attest their own
    /// claim, so a member's claim needs min(quorumCap, memberCount - 1).
    /// @param worker The claim's worker.
    /// @return The quorum.
    function quorumFor(address worker) public view returns (uint256) {
        Roll storage roll = _roll;
        uint256 members = roll.memberCount;
        uint256 attesters = _shareOf[worker] != 0 ? members - 1 : members;
        return Math.min(roll.quorumCap, attesters);
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

    /// @inheritdoc ERC721Upgradeable
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

    /// @dev Stores the parameters after checking them against the constitution's bounds.
    /// Emits {MembershipParametersSet}.
    function _setParameters(uint256 labourThreshold_, uint256 quorumCap_) private {
        if (labourThreshold_ == 0 || labourThreshold_ > MAX_LABOUR_THRESHOLD) {
            revert CommuneInvalidParameter("labourThreshold", labourThreshold_);
        }
        if (quorumCap_ == 0 || quorumCap_ > MAX_QUORUM_CAP) revert CommuneInvalidParameter("quorumCap", quorumCap_);
        // Safe casts: bounded just above.
        _roll.labourThreshold = uint64(labourThreshold_);
        _roll.quorumCap = uint24(quorumCap_);
        emit MembershipParametersSet(labourThreshold_, quorumCap_);
    }

    /// @dev Mints the one share of a new member; `notify` tells the treasury (not for founders),
    /// first: the treasury releases the income of begun periods among the members before this one
    /// is counted (the treasury is fixed at deployment and calls nothing back but views).
    /// Requirements: `member` holds no share (checked here, so founders are distinct too).
    /// Emits {MemberJoined}, {Locked} and ERC-721 {Transfer}.
    function _admit(address member, bool notify) internal returns (uint256 shareId) {
        if (_shareOf[member] != 0) revert CommuneAlreadyMember(member);
        IMembershipHooks treasury_ = treasury();
        if (notify && address(treasury_) != address(0)) treasury_.onJoin(member);
        Roll storage roll = _roll;
        // Cannot overflow: one share id per transaction that admits, far below 2**64.
        shareId = roll.lastShareId + 1;
        roll.lastShareId = uint64(shareId);
        roll.memberCount += 1;
        _shareOf[member] = shareId;
        _mint(member, shareId);
        emit Locked(shareId);
        emit MemberJoined(member, shareId);
    }

    /// @dev Burns the share of a leaving member.
    /// Requirements: `member` holds a share.
    /// Emits {MemberLeft} and ERC-721 {Transfer}.
    function _remove(address member) internal {
        IMembershipHooks treasury_ = treasury();
        if (address(treasury_) != address(0)) treasury_.onLeave(member);
        uint256 shareId = _shareOf[member];
        delete _shareOf[member];
        _roll.memberCount -= 1;
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
