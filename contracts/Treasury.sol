// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {Commune} from "./Commune.sol";
import {ITreasuryErrors} from "./interfaces/ITreasuryErrors.sol";
import {CommuneArgs} from "./libraries/CommuneArgs.sol";
import {SettlementToken} from "./libraries/SettlementToken.sol";

/// @title Treasury: member income, released period by period, divided equally among all members
/// @notice All remaining rental income (after bond service), all liquidation surplus and any
/// surplus swept from the commune's contracts is divided equally among the members:
///
///     incomePerShare += (amount + carry) / memberCount
///     carry           = (amount + carry) % memberCount        (carried to the next income, never lost)
///
/// so every member's entitlement rises by exactly the same number of base units from every
/// division. A member's entitlement is `owed + (incomePerShare - checkpoint)` while a member, `owed`
/// after leaving: the membership contract calls `onJoin` (checkpoint = incomePerShare, so earlier
/// income is not theirs) and `onLeave` (what accrued moves to `owed`, still claimable).
///
/// Release by period. Rent is paid ahead, but income is divided as the periods it pays for begin,
/// so that a member's income from rent covers the periods of their membership (joining just before
/// a long prepayment and leaving just after earns one period's share, not the whole payment).
/// Time is cut into one commune-wide grid of periods of `periodSeconds`, period g starting at
/// `gridOrigin + g * periodSeconds`. The member income of a rent payment covering k rental periods
/// is cut into k equal parts (the remainder of the cut is divided at once); the part of rental
/// period j is released when the grid period containing that rental period's start begins, at
/// once if it has already begun. Parts still to come are kept as a difference array over the
/// grid:
///
///     releaseRate          = income of grid period `releasedThrough` (every part in force then)
///     rateChange[g]        = what the rate gains (or loses) when grid period g begins
///     released(g)          = releaseRate + rateChange[releasedThrough + 1] + ... + rateChange[g]
///
/// so scheduling k parts writes two entries, whatever k is, and releasing reads one entry per
/// elapsed grid period. Every call that acts on income or membership (join, leave, claim,
/// deposit, the stock's rent and refunds) first releases the grid periods that have begun, at most
/// `MAX_RELEASE_PERIODS` a call; anyone may release more with `release`. Membership changes wait
/// until every begun period is released (`TreasuryReleasePending`), so no member ever shares a
/// period they were not a member in.
///
/// Refunds. A renter who returns an asset early is refunded the parts of periods not yet begun.
/// The waterfall makes the parts of one agreement simple, and the treasury keeps them in one slot
/// (`Agreement`): zero for periods paid while the asset's bonds are outstanding; for each period of
/// the payment that redeemed them (`incomeFrom` to `fullFrom`) its share `partialIncome` of what that
/// payment left the members; the whole rent for every later period.
///
/// Net position. For each member the treasury keeps `rentPaid` (reported by the common stock, net of
/// refunds) and `incomeOf` (every payout entitlement ever, claimed or not).
/// `netPosition = rentPaid - incomeOf`: zero for a member who rents exactly the per-capita share of
/// the common stock, negative (a net gain) below it, positive (a net cost) above it, once the
/// assets' bonds are redeemed.
///
/// Wiring. Each commune's treasury is a clone (EIP-1167) of one implementation per chain, made by
/// `CommuneFactory` with the commune's immutable arguments (`CommuneArgs`): the membership contract,
/// the settlement token, the common stock, the grid's origin (the creation time) and its period (the
/// commune's rent period). It has nothing to initialise: all it is given is in its code.
///
/// Money. The treasury owes exactly `totalIncome - totalClaimed` settlement-token base units:
/// `sum(claimable) + carry + scheduledIncome`. Anything it holds beyond that (a stray transfer, a
/// positive rebase, a surplus swept in from the other contracts) anyone may `sweep` into income.
contract Treasury is ITreasuryErrors, ReentrancyGuardTransient {
    using SettlementToken for IERC20;

    /// @notice The member income parts of one rental agreement (see the header).
    struct Agreement {
        uint64 start; // the agreement's start: its period j starts at start + j * periodSeconds
        uint32 incomeFrom; // first period with member income (NO_INCOME: none yet)
        uint32 fullFrom; // first period whose whole rent is member income
        uint128 partialIncome; // member income of each period from incomeFrom to fullFrom
    }

    /// @notice Most grid periods one call releases before it acts (bounds the gas of every call).
    uint256 public constant MAX_RELEASE_PERIODS = 64;

    /// @dev `Agreement.incomeFrom` while no payment of the agreement has left the members anything.
    uint32 private constant NO_INCOME = type(uint32).max;

    /// @notice Income per share ever, settlement-token base units.
    uint256 public incomePerShare;

    /// @notice Income not yet divisible by the member count, carried to the next division.
    uint256 public carry;

    /// @notice All member income ever received (released or not), less refunds.
    uint256 public totalIncome;

    /// @notice All payouts ever claimed.
    uint256 public totalClaimed;

    /// @notice Income received and not yet released: parts of periods that have not begun.
    uint256 public scheduledIncome;

    /// @notice Every grid period up to and including this one has been released.
    uint256 public releasedThrough;

    /// @notice Income of grid period `releasedThrough`: the parts in force then.
    uint256 public releaseRate;

    mapping(uint256 period => int256 change) private _rateChange;
    mapping(uint256 assetId => Agreement) private _agreements;
    mapping(address member => uint256 incomePerShare) private _checkpoint;
    mapping(address member => uint256 amount) private _owed;
    mapping(address member => uint256 amount) private _claimed;
    mapping(address member => uint256 amount) private _rentPaid;

    /// @notice Emitted when income is divided among the members.
    /// @param from Who paid it in (the common stock for rent and liquidation surplus, the treasury
    /// itself for released or swept income).
    /// @param amount Settlement-token base units.
    /// @param perShare What each member's entitlement rose by.
    /// @param members The member count it was divided by.
    /// @param carry The remainder carried afterwards.
    event IncomeDistributed(address indexed from, uint256 amount, uint256 perShare, uint256 members, uint256 carry);

    /// @notice Emitted when income is scheduled for grid periods that have not begun.
    /// @param firstPeriod The first grid period of the parts.
    /// @param periods How many consecutive grid periods get a part.
    /// @param perPeriod The part of each.
    event IncomeScheduled(uint256 firstPeriod, uint256 periods, uint256 perPeriod);

    /// @notice Emitted when begun grid periods are released.
    /// @param throughPeriod Every grid period up to this one is now released.
    /// @param amount The income they released, divided among the members.
    event IncomeReleased(uint256 throughPeriod, uint256 amount);

    /// @notice Emitted when scheduled income is returned to a renter who returned an asset early.
    /// @param renter The renter refunded.
    /// @param amount Settlement-token base units refunded.
    event IncomeRefunded(address indexed renter, uint256 amount);

    /// @notice Emitted when the common stock reports rent paid by a member.
    event RentRecorded(address indexed member, uint256 amount);

    /// @notice Emitted when a member (or former member) claims their payout.
    event PayoutClaimed(address indexed account, uint256 amount);

    /// @notice Emitted when tokens held beyond what the treasury owes are swept into member income.
    /// @param caller Who swept.
    /// @param amount The surplus divided.
    event SurplusSwept(address indexed caller, uint256 amount);

    // ------------------------------------------------------------------ income

    /// @notice Pays `amount` of the caller's settlement tokens in as member income, divided at once
    /// (anyone may). The caller must have approved the treasury. Buys nothing: membership is labour only.
    /// @param amount Settlement-token base units.
    function depositIncome(uint256 amount) external nonReentrant {
        if (amount == 0) revert TreasuryZeroIncome();
        _release(MAX_RELEASE_PERIODS);
        totalIncome += amount;
        _distribute(msg.sender, amount);
        token().pullExact(msg.sender, address(this), amount);
    }

    /// @notice Records rent paid by `member` for periods `firstPeriod` to `firstPeriod + periods - 1`
    /// of the rental agreement of `assetId` that started at `rentalStart`, and schedules `income`
    /// (which the stock transfers here right after, in the same transaction) over those periods. Only
    /// the common stock.
    /// @param assetId The asset rented.
    /// @param member The renter.
    /// @param rent The whole rent paid (bond service included), for the member's net position.
    /// @param income The part of it that is member income.
    /// @param rentalStart When the agreement started (block time); period 0 of a new agreement is
    /// always its first payment.
    /// @param firstPeriod The agreement's first period paid for.
    /// @param periods Periods paid for (at least one), one after the other.
    function recordRent(
        uint256 assetId,
        address member,
        uint256 rent,
        uint256 income,
        uint256 rentalStart,
        uint256 firstPeriod,
        uint256 periods
    ) external {
        _onlyStock();
        _release(MAX_RELEASE_PERIODS);
        _rentPaid[member] += rent;
        emit RentRecorded(member, rent);
        Agreement storage agreement = _agreements[assetId];
        if (firstPeriod == 0) {
            agreement.start = SafeCast.toUint64(rentalStart);
            agreement.incomeFrom = NO_INCOME;
            agreement.fullFrom = NO_INCOME;
            agreement.partialIncome = 0;
        }
        if (income == 0) return;
        if (agreement.incomeFrom == NO_INCOME) {
            // The agreement's first payment with member income: all of it once the bonds are whole
            // (full from here), else the one payment that redeemed them (a part for each of its periods).
            // Safe casts: agreement periods are at most the common stock's MAX_PERIODS.
            agreement.incomeFrom = uint32(firstPeriod);
            if (income == rent) {
                agreement.fullFrom = uint32(firstPeriod);
            } else {
                agreement.fullFrom = uint32(firstPeriod + periods);
                agreement.partialIncome = SafeCast.toUint128(income / periods);
            }
        } else if (income != rent) {
            // After the redeeming payment every rent is member income in full (the waterfall).
            revert TreasuryIncomeIrregular(assetId, rent, income);
        }
        totalIncome += income;
        _schedule(income, rentalStart + firstPeriod * CommuneArgs.periodSeconds(), periods);
    }

    /// @notice Divides `income` (which the stock transfers here right after, in the same
    /// transaction) among the members at once. Only the common stock (liquidation surplus).
    /// @param income Settlement-token base units.
    function recordIncome(uint256 income) external {
        _onlyStock();
        _release(MAX_RELEASE_PERIODS);
        if (income > 0) {
            totalIncome += income;
            _distribute(msg.sender, income);
        }
    }

    /// @notice Refunds `renter`, who returned the asset `assetId` early, the member income of the
    /// periods of their agreement paid for and not yet begun. Only the common stock.
    /// @dev A period counts as begun once the grid period its start falls in has begun (its part is
    /// released then, to the members): a return in the seconds between that grid boundary and the
    /// rental period's own start forfeits at most that one period's member part.
    /// @param assetId The asset returned.
    /// @param renter Its renter.
    /// @param paidPeriods Periods of the agreement paid for.
    /// @param rentPerPeriod The agreement's rent per period.
    /// @return amount Settlement-token base units sent to the renter.
    function refundRental(uint256 assetId, address renter, uint256 paidPeriods, uint256 rentPerPeriod)
        external
        nonReentrant
        returns (uint256 amount)
    {
        _onlyStock();
        _release(MAX_RELEASE_PERIODS);
        Agreement storage agreement = _agreements[assetId];
        uint256 from = agreement.incomeFrom;
        if (from == NO_INCOME) return 0; // every period paid so far went to the bonds
        uint256 startPeriod = periodAt(agreement.start);
        // The agreement's first period whose grid period has not begun.
        uint256 next = currentPeriod() + 1 - startPeriod;
        if (next >= paidPeriods) return 0;
        uint256 full = agreement.fullFrom;
        uint256 first = Math.max(from, next);
        uint256 part = agreement.partialIncome;
        if (first < full && part > 0) amount += _unschedule(part, startPeriod + first, full - first);
        first = Math.max(full, next);
        if (first < paidPeriods) amount += _unschedule(rentPerPeriod, startPeriod + first, paidPeriods - first);
        if (amount == 0) return 0;
        scheduledIncome -= amount;
        totalIncome -= amount;
        _rentPaid[renter] -= amount;
        emit IncomeRefunded(renter, amount);
        token().payOut(renter, amount);
    }

    /// @notice Releases up to `maxPeriods` grid periods that have begun and divides their income.
    /// Anyone may call; every other call releases up to `MAX_RELEASE_PERIODS` by itself.
    /// @param maxPeriods Most grid periods to release.
    /// @return amount Income released.
    function release(uint256 maxPeriods) external nonReentrant returns (uint256 amount) {
        return _release(maxPeriods);
    }

    /// @notice Divides among the members whatever the treasury holds beyond what it owes (a stray
    /// transfer, a positive rebase, a surplus swept in from the commune's other contracts). Anyone may.
    /// @return amount The surplus divided.
    function sweep() external nonReentrant returns (uint256 amount) {
        amount = surplus();
        if (amount == 0) revert TreasuryNothingToSweep();
        _release(MAX_RELEASE_PERIODS);
        totalIncome += amount;
        emit SurplusSwept(msg.sender, amount);
        _distribute(address(this), amount);
    }

    // ------------------------------------------------------------ membership

    /// @notice Starts a new member's entitlement at the current income per share. Only the commune.
    /// Every begun grid period is released first (or the call reverts with TreasuryReleasePending).
    /// @param member The member admitted.
    function onJoin(address member) external {
        _onlyCommune();
        _releaseAll();
        _checkpoint[member] = incomePerShare;
    }

    /// @notice Keeps a leaving member's accrued income claimable. Only the commune, before the burn.
    /// Every begun grid period is released first (or the call reverts with TreasuryReleasePending).
    /// @param member The member leaving.
    function onLeave(address member) external {
        _onlyCommune();
        _releaseAll();
        _owed[member] += incomePerShare - _checkpoint[member];
        _checkpoint[member] = incomePerShare;
    }

    // ---------------------------------------------------------------- payouts

    /// @notice Sends the caller everything they are owed from member income (after releasing the
    /// grid periods that have begun).
    /// @return amount Settlement-token base units sent.
    function claimPayout() external nonReentrant returns (uint256 amount) {
        _release(MAX_RELEASE_PERIODS);
        amount = _released(msg.sender);
        if (amount == 0) revert TreasuryNothingToClaim(msg.sender);
        if (commune().isMember(msg.sender)) _checkpoint[msg.sender] = incomePerShare;
        _owed[msg.sender] = 0;
        _claimed[msg.sender] += amount;
        totalClaimed += amount;
        emit PayoutClaimed(msg.sender, amount);
        token().payOut(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice The membership contract.
    /// @return The commune.
    function commune() public view returns (Commune) {
        return Commune(CommuneArgs.commune());
    }

    /// @notice The settlement token.
    /// @return The token.
    function token() public view returns (IERC20) {
        return IERC20(CommuneArgs.token());
    }

    /// @notice The common stock, the only reporter of rent.
    /// @return The common stock.
    function stock() public view returns (address) {
        return CommuneArgs.stock();
    }

    /// @notice Length of one grid period, seconds: the commune's rent period.
    /// @return Seconds.
    function periodSeconds() public view returns (uint256) {
        return CommuneArgs.periodSeconds();
    }

    /// @notice Start of grid period 0: the treasury's creation time.
    /// @return Block time, seconds.
    function gridOrigin() public view returns (uint256) {
        return CommuneArgs.gridOrigin();
    }

    /// @notice The grid period a block time falls in.
    /// @param time A block time, not before `gridOrigin`.
    /// @return The grid period (0 is the one the treasury was created in).
    function periodAt(uint256 time) public view returns (uint256) {
        (uint256 origin, uint256 period) = CommuneArgs.grid();
        return (time - origin) / period;
    }

    /// @notice The grid period of the current block.
    /// @return The grid period.
    function currentPeriod() public view returns (uint256) {
        return periodAt(block.timestamp);
    }

    /// @notice The member income parts of the current (or last) rental agreement of `assetId`.
    /// @param assetId The asset.
    /// @return The agreement's record (incomeFrom 2**32 - 1 while none of its payments left the
    /// members anything).
    function agreementIncome(uint256 assetId) external view returns (Agreement memory) {
        return _agreements[assetId];
    }

    /// @notice What the rate of released income changes by when grid period `period` begins.
    /// @param period A grid period.
    /// @return Settlement-token base units per period, signed.
    function rateChangeAt(uint256 period) external view returns (int256) {
        return _rateChange[period];
    }

    /// @notice Settlement tokens the treasury owes: claimable payouts, the carry and scheduled income.
    /// @return Base units.
    function owedTokens() public view returns (uint256) {
        return totalIncome - totalClaimed;
    }

    /// @notice Settlement tokens held beyond what the treasury owes (what `sweep` would divide).
    /// @return Base units.
    function surplus() public view returns (uint256) {
        uint256 held = token().balanceOf(address(this));
        uint256 owed = owedTokens();
        return held > owed ? held - owed : 0;
    }

    /// @notice Payout `account` can claim now: what is released, and for a member their share of
    /// the begun periods the next call releases (up to MAX_RELEASE_PERIODS of them).
    /// @param account Any address.
    /// @return Settlement-token base units.
    function claimable(address account) public view returns (uint256) {
        uint256 amount = _released(account);
        Commune commune_ = commune();
        if (!commune_.isMember(account)) return amount;
        (uint256 pending,,) = _pendingRelease(MAX_RELEASE_PERIODS);
        return pending > 0 ? amount + (pending + carry) / commune_.memberCount() : amount;
    }

    /// @notice Income of begun grid periods not yet released, as far as one call releases
    /// (MAX_RELEASE_PERIODS periods).
    /// @return amount Settlement-token base units the next release divides.
    function pendingIncome() external view returns (uint256 amount) {
        (amount,,) = _pendingRelease(MAX_RELEASE_PERIODS);
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

    /// @notice Rent `member` has paid, bond service included, less refunds.
    /// @param member Any address.
    /// @return Settlement-token base units.
    function rentPaid(address member) external view returns (uint256) {
        return _rentPaid[member];
    }

    /// @notice Rent paid minus payouts received: positive is a net cost, negative a net gain.
    /// @param member Any address.
    /// @return Settlement-token base units, signed.
    function netPosition(address member) external view returns (int256) {
        return SafeCast.toInt256(_rentPaid[member]) - SafeCast.toInt256(_claimed[member] + claimable(member));
    }

    // --------------------------------------------------------------- internal

    /// @dev What `account` is owed of released income.
    function _released(address account) private view returns (uint256) {
        uint256 accrued = commune().isMember(account) ? incomePerShare - _checkpoint[account] : 0;
        return _owed[account] + accrued;
    }

    function _onlyStock() private view {
        address stock_ = CommuneArgs.stock();
        if (msg.sender != stock_) revert TreasuryUnauthorized(msg.sender, stock_);
    }

    function _onlyCommune() private view {
        address commune_ = CommuneArgs.commune();
        if (msg.sender != commune_) revert TreasuryUnauthorized(msg.sender, commune_);
    }

    /// @dev Schedules `income` in `periods` equal parts, the part of the i-th starting in the grid
    /// period of `firstPeriodStart + i * periodSeconds`: parts of begun periods and the remainder of
    /// the cut are divided now, the others wait in the difference array.
    /// Emits {IncomeScheduled} when parts wait, {IncomeDistributed} when some are divided now.
    function _schedule(uint256 income, uint256 firstPeriodStart, uint256 periods) private {
        uint256 part = income / periods;
        uint256 now_ = currentPeriod();
        uint256 first = periodAt(firstPeriodStart);
        uint256 begun = first > now_ ? 0 : Math.min(periods, now_ - first + 1);
        uint256 waiting = periods - begun;
        uint256 atOnce = income - part * waiting;
        if (waiting > 0 && part > 0) {
            first += begun;
            int256 change = SafeCast.toInt256(part);
            _rateChange[first] += change;
            _rateChange[first + waiting] -= change;
            scheduledIncome += part * waiting;
            emit IncomeScheduled(first, waiting, part);
        }
        if (atOnce > 0) _distribute(msg.sender, atOnce);
    }

    /// @dev Takes `part` off each of `periods` grid periods from `firstPeriod` on (none begun).
    /// @return The income taken off.
    function _unschedule(uint256 part, uint256 firstPeriod, uint256 periods) private returns (uint256) {
        int256 change = SafeCast.toInt256(part);
        _rateChange[firstPeriod] -= change;
        _rateChange[firstPeriod + periods] += change;
        return part * periods;
    }

    /// @dev Releases up to `maxPeriods` begun grid periods. Emits {IncomeReleased} and
    /// {IncomeDistributed} when they carried income.
    function _release(uint256 maxPeriods) private returns (uint256 amount) {
        uint256 through;
        uint256 rate;
        (amount, through, rate) = _pendingRelease(maxPeriods);
        if (through == releasedThrough) return 0;
        releasedThrough = through;
        if (rate != releaseRate) releaseRate = rate;
        if (amount > 0) {
            scheduledIncome -= amount;
            emit IncomeReleased(through, amount);
            _distribute(address(this), amount);
        }
    }

    /// @dev What releasing up to `maxPeriods` begun grid periods would divide, the last period it
    /// would release and the rate in force then.
    function _pendingRelease(uint256 maxPeriods) private view returns (uint256 amount, uint256 through, uint256 rate) {
        through = releasedThrough;
        rate = releaseRate;
        // Saturating: any `maxPeriods` (type(uint256).max included) releases at most what has begun.
        uint256 target = through + Math.min(currentPeriod() - through, maxPeriods);
        while (through < target) {
            ++through;
            // Never negative: a part's removal is scheduled only after (or with) its addition.
            rate = SafeCast.toUint256(SafeCast.toInt256(rate) + _rateChange[through]);
            amount += rate;
        }
    }

    /// @dev Releases every begun grid period, or reverts with TreasuryReleasePending when more than
    /// `MAX_RELEASE_PERIODS` are pending (call `release` first).
    function _releaseAll() private {
        _release(MAX_RELEASE_PERIODS);
        uint256 now_ = currentPeriod();
        if (releasedThrough < now_) revert TreasuryReleasePending(releasedThrough, now_);
    }

    /// @dev Divides `amount` equally among the current members; the remainder is carried.
    /// Emits {IncomeDistributed}.
    function _distribute(address from, uint256 amount) private {
        uint256 members = commune().memberCount();
        uint256 pool = amount + carry;
        uint256 perShare = members == 0 ? 0 : pool / members;
        uint256 remainder = pool - perShare * members;
        incomePerShare += perShare;
        if (remainder != carry) carry = remainder;
        emit IncomeDistributed(from, amount, perShare, members, remainder);
    }
}
