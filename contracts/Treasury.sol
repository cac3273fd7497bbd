// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {Commune} from "./Commune.sol";
import {ITreasuryErrors} from "./interfaces/ITreasuryErrors.sol";

/// @title Treasury: member income, divided equally among all members, paid out by pull
/// @notice All remaining rental income (after bond service) and all liquidation surplus is divided
/// equally among the members at the moment it arrives:
///
///     incomePerShare += (amount + carry) / memberCount
///     carry           = (amount + carry) % memberCount        (carried to the next income, never lost)
///
/// incomePerShare is in settlement-token base units per share, so every member's entitlement rises
/// by exactly the same number of base units from every income event. With no members, income is
/// carried until there are some.
///
/// A member's entitlement is `owed + (incomePerShare - checkpoint)` while a member, `owed` after
/// leaving: the membership contract calls `onJoin` (checkpoint = incomePerShare, so earlier income
/// is not theirs) and `onLeave` (what accrued moves to `owed`, still claimable). Founders join at
/// deployment, when incomePerShare is zero. No loop over members anywhere.
///
/// Net position. For each member the treasury keeps `rentPaid` (reported by the common stock) and
/// `incomeOf` (every payout entitlement ever, claimed or not). `netPosition = rentPaid - incomeOf`:
/// zero for a member who rents exactly the per-capita share of the common stock, negative (a net
/// gain) below it, positive (a net cost) above it, once the assets' bonds are redeemed.
///
/// Money. The treasury holds exactly `sum(claimable) + carry` settlement-token base units.
contract Treasury is ITreasuryErrors, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The membership contract.
    Commune public immutable commune;

    /// @notice The settlement token.
    IERC20 public immutable token;

    /// @notice The common stock, the only reporter of rent.
    address public immutable stock;

    /// @notice Income per share ever, settlement-token base units.
    uint256 public incomePerShare;

    /// @notice Income not yet divisible by the member count, carried to the next income event.
    uint256 public carry;

    /// @notice All member income ever received.
    uint256 public totalIncome;

    /// @notice All payouts ever claimed.
    uint256 public totalClaimed;

    mapping(address member => uint256 incomePerShare) private _checkpoint;
    mapping(address member => uint256 amount) private _owed;
    mapping(address member => uint256 amount) private _claimed;
    mapping(address member => uint256 amount) private _rentPaid;

    /// @notice Emitted when income is divided among the members.
    /// @param from Who paid it in (the common stock for rent and liquidation surplus).
    /// @param amount Settlement-token base units.
    /// @param perShare What each member's entitlement rose by.
    /// @param members The member count it was divided by.
    /// @param carry The remainder carried afterwards.
    event IncomeDistributed(address indexed from, uint256 amount, uint256 perShare, uint256 members, uint256 carry);

    /// @notice Emitted when the common stock reports rent paid by a member.
    event RentRecorded(address indexed member, uint256 amount);

    /// @notice Emitted when a member (or former member) claims their payout.
    event PayoutClaimed(address indexed account, uint256 amount);

    /// @param commune_ The membership contract (which must name this treasury).
    /// @param token_ The settlement token.
    /// @param stock_ The common stock (which the membership contract must name too).
    constructor(Commune commune_, IERC20 token_, address stock_) {
        if (address(commune_.treasury()) != address(this)) revert TreasuryMiswired("commune.treasury");
        if (commune_.stock() != stock_) revert TreasuryMiswired("commune.stock");
        commune = commune_;
        token = token_;
        stock = stock_;
    }

    // ------------------------------------------------------------------ income

    /// @notice Pays `amount` of the caller's settlement tokens in as member income (anyone may).
    /// @dev The caller must have approved the treasury. Buys nothing: membership is labour only.
    /// @param amount Settlement-token base units.
    function depositIncome(uint256 amount) external nonReentrant {
        if (amount == 0) revert TreasuryZeroIncome();
        _distribute(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Records rent paid by `member` and divides `income` (already transferred here) among
    /// the members. Only the common stock.
    /// @param member The renter.
    /// @param rent The whole rent paid (bond service included), for the member's net position.
    /// @param income The part of it that is member income.
    function recordRent(address member, uint256 rent, uint256 income) external {
        if (msg.sender != stock) revert TreasuryUnauthorized(msg.sender, stock);
        _rentPaid[member] += rent;
        emit RentRecorded(member, rent);
        if (income > 0) _distribute(msg.sender, income);
    }

    /// @notice Divides `income` (already transferred here) among the members. Only the common stock
    /// (liquidation surplus).
    /// @param income Settlement-token base units.
    function recordIncome(uint256 income) external {
        if (msg.sender != stock) revert TreasuryUnauthorized(msg.sender, stock);
        if (income > 0) _distribute(msg.sender, income);
    }

    // ------------------------------------------------------------ membership

    /// @notice Starts a new member's entitlement at the current income per share. Only the commune.
    /// @param member The member admitted.
    function onJoin(address member) external {
        if (msg.sender != address(commune)) revert TreasuryUnauthorized(msg.sender, address(commune));
        _checkpoint[member] = incomePerShare;
    }

    /// @notice Keeps a leaving member's accrued income claimable. Only the commune, before the burn.
    /// @param member The member leaving.
    function onLeave(address member) external {
        if (msg.sender != address(commune)) revert TreasuryUnauthorized(msg.sender, address(commune));
        _owed[member] += incomePerShare - _checkpoint[member];
        _checkpoint[member] = incomePerShare;
    }

    // ---------------------------------------------------------------- payouts

    /// @notice Sends the caller everything they are owed from member income.
    /// @return amount Settlement-token base units sent.
    function claimPayout() external nonReentrant returns (uint256 amount) {
        amount = claimable(msg.sender);
        if (amount == 0) revert TreasuryNothingToClaim(msg.sender);
        if (commune.isMember(msg.sender)) _checkpoint[msg.sender] = incomePerShare;
        _owed[msg.sender] = 0;
        _claimed[msg.sender] += amount;
        totalClaimed += amount;
        emit PayoutClaimed(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice Payout `account` can claim now.
    /// @param account Any address.
    /// @return Settlement-token base units.
    function claimable(address account) public view returns (uint256) {
        uint256 accrued = commune.isMember(account) ? incomePerShare - _checkpoint[account] : 0;
        return _owed[account] + accrued;
    }

    /// @notice Every payout entitlement `account` ever had, claimed or not.
    /// @param account Any address.
    /// @return Settlement-token base units.
    function incomeOf(address account) external view returns (uint256) {
        return _claimed[account] + claimable(account);
    }

    /// @notice Payouts `account` has claimed.
    /// @param account Any address.
    /// @return Settlement-token base units.
    function claimed(address account) external view returns (uint256) {
        return _claimed[account];
    }

    /// @notice Rent `member` has paid, bond service included.
    /// @param member Any address.
    /// @return Settlement-token base units.
    function rentPaid(address member) external view returns (uint256) {
        return _rentPaid[member];
    }

    /// @notice Rent paid minus payouts received: positive is a net cost, negative a net gain.
    /// @param member Any address.
    /// @return Settlement-token base units, signed.
    function netPosition(address member) external view returns (int256) {
        return int256(_rentPaid[member]) - int256(_claimed[member] + claimable(member));
    }

    // --------------------------------------------------------------- internal

    /// @dev Divides `amount` equally among the current members; the remainder is carried.
    /// Emits {IncomeDistributed}.
    function _distribute(address from, uint256 amount) private {
        uint256 members = commune.memberCount();
        uint256 pool = amount + carry;
        uint256 perShare = members == 0 ? 0 : pool / members;
        uint256 remainder = pool - perShare * members;
        incomePerShare += perShare;
        carry = remainder;
        totalIncome += amount;
        emit IncomeDistributed(from, amount, perShare, members, remainder);
    }
}
