// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {BondSeries} from "../BondSeries.sol";
import {Commune} from "../Commune.sol";
import {Treasury} from "../Treasury.sol";
import {ICommonStockErrors} from "../interfaces/ICommonStockErrors.sol";
import {ICommonStockEvents} from "../interfaces/ICommonStockEvents.sol";
import {Amortization} from "../libraries/Amortization.sol";
import {CommuneArgs} from "../libraries/CommuneArgs.sol";
import {RateBook} from "../libraries/RateBook.sol";
import {SettlementToken} from "../libraries/SettlementToken.sol";

/// @notice The one settlement step the modules call back into the common stock for.
interface IStockSettlement {
    /// @notice See `CommonStock.runSettlement`.
    function runSettlement(uint256 assetId, uint256 rate, uint256 below) external;
}

/// @title StockLedger: the common stock's books and the debt waterfall every part of it shares
/// @notice The state of a common stock, laid out once for the contract and every module it
/// delegates to (`CommonStock` and `BondAuction`, `RentalMarket`, `Liquidation` all inherit this
/// contract and declare no state of their own, so they read and write the same slots), and the
/// rules that more than one of them applies: how money moves (`SettlementToken`, exactly), how a
/// payment services the debt (interest first, then principal), how rent is split between the bonds
/// and the members, and how a sale's leader is credited back. See `CommonStock` for the rules.
abstract contract StockLedger is ICommonStockErrors, ICommonStockEvents, ReentrancyGuardTransient {
    using SettlementToken for IERC20;
    using RateBook for RateBook.Book;

    /// @notice The parameters in force, packed in one slot (see `CommonStock.setParameters`).
    struct Parameters {
        uint32 graceSeconds;
        uint32 saleSeconds;
        uint16 rateCapBps;
        uint16 liquidationReserveBps;
    }

    /// @notice Longest rental term, in periods (bounds the amortisation check at settlement).
    uint256 public constant MAX_PERIODS = 1_200;

    /// @notice Highest rate cap the constitution allows (bounds the settlement scan of the rate book).
    uint256 public constant MAX_RATE_CAP_BPS = 4_095;

    /// @notice Longest period, grace period, sale or bond auction the constitution allows: 100 years,
    /// in seconds. It keeps every due time and closing time far inside uint40, so no rental can become
    /// impossible to reclaim and no sale can close at once through an overflow.
    uint256 public constant MAX_DURATION_SECONDS = 100 * 365 days;

    /// @notice Reopenings without a bid after which a liquidation's reserve is zero: each reopening
    /// lowers it by the same step, so an asset nobody wants at its reserve is sold to any bid.
    uint256 public constant LIQUIDATION_STEPS = 4;

    Parameters internal _params;

    /// @notice Number of assets ever requested; asset ids run from 1 to this.
    uint256 public assetCount;

    /// @notice Number of bids ever placed; bid ids run from 1 to this.
    uint256 public bidCount;

    /// @notice Settlement tokens held for bids (see `CommonStock`).
    uint256 public escrowHeld;

    /// @notice Settlement tokens credited to accounts and not yet withdrawn.
    uint256 public creditsHeld;

    mapping(uint256 assetId => Asset) internal _assets;
    mapping(uint256 assetId => Debt) internal _debts;
    mapping(uint256 assetId => Rental) internal _rentals;
    mapping(uint256 assetId => Sale) internal _sales;
    mapping(uint256 assetId => address buyer) internal _titleHolder;
    mapping(uint256 bidId => Bid) internal _bids;
    mapping(uint256 assetId => RateBook.Book) internal _books;
    mapping(address account => uint256 amount) internal _credits;
    mapping(address member => uint256 count) internal _commitments;
    mapping(uint256 assetId => mapping(address member => bool)) internal _defaulted;

    // ------------------------------------------------------------------ wiring

    /// @dev The membership contract (an immutable argument of the clone).
    function _commune() internal view returns (Commune) {
        return Commune(CommuneArgs.commune());
    }

    /// @dev The treasury.
    function _treasury() internal view returns (Treasury) {
        return Treasury(CommuneArgs.treasury());
    }

    /// @dev The settlement token.
    function _token() internal view returns (IERC20) {
        return IERC20(CommuneArgs.token());
    }

    /// @dev The rent period, seconds: fixed for the commune's life (the treasury's grid).
    function _period() internal view returns (uint256) {
        return CommuneArgs.periodSeconds();
    }

    // ------------------------------------------------------------ token moves

    /// @dev Token moves, each in one place (see `SettlementToken`): into a commune contract from an
    /// account, from this contract to another commune contract, and out to an account.
    function _pull(address from, address to, uint256 amount) internal {
        _token().pullExact(from, to, amount);
    }

    function _send(address to, uint256 amount) internal {
        _token().sendExact(to, amount);
    }

    function _pay(address to, uint256 amount) internal {
        _token().payOut(to, amount);
    }

    /// @dev Runs a settlement's effects (`runSettlement`, a call of this contract to itself) so that a
    /// payment the token refuses undoes them all; returns whether they happened. Emits
    /// {SettlementRefused} otherwise. A call that ran out of gas is not taken for a refusal (the caller
    /// gave too little gas): the whole settlement reverts instead, so nobody can force a fallback by
    /// starving it.
    function _settleInSelfCall(uint256 assetId, uint256 rate, uint256 below) internal returns (bool) {
        uint256 gasBefore = gasleft();
        (bool ok, bytes memory reason) =
            address(this).call(abi.encodeCall(IStockSettlement.runSettlement, (assetId, rate, below)));
        if (ok) return true;
        if (gasleft() <= gasBefore / 63) revert StockSettlementOutOfGas(assetId);
        emit SettlementRefused(assetId, reason);
        return false;
    }

    /// @dev Reverts StockOnlySelf unless this contract called itself (a settlement's effects).
    function _onlySelf() internal view {
        if (msg.sender != address(this)) revert StockOnlySelf(msg.sender);
    }

    // ------------------------------------------------------------------ rentals

    /// @dev Starts a rental agreement at the current block time with its first period paid from
    /// escrow (`rent`, already counted in `escrowHeld`), under the grace period in force now.
    /// Emits {RentalStarted} and {RentPaid}.
    function _startPaidRental(uint256 assetId, address renter, uint256 rent, uint256 periods) internal {
        // Safe casts: rent < 2**128 and periods <= MAX_PERIODS were checked by the callers.
        _rentals[assetId] = Rental({
            renter: renter,
            start: SafeCast.toUint64(block.timestamp),
            periods: uint32(periods),
            paidPeriods: 1,
            rentPerPeriod: uint128(rent),
            defaulted: false,
            graceSeconds: _params.graceSeconds
        });
        emit RentalStarted(assetId, renter, rent, periods, block.timestamp);
        escrowHeld -= rent;
        _payRent(assetId, renter, 0, 1, rent, address(this));
    }

    /// @dev First time the rental can be reclaimed: its grace past the first unpaid period's due
    /// time, or the end of the term when every period is paid.
    function _reclaimableAt(Rental storage rental) internal view returns (uint256, RentalEnd) {
        uint256 period = _period();
        if (rental.paidPeriods < rental.periods) {
            return (rental.start + uint256(rental.paidPeriods) * period + rental.graceSeconds, RentalEnd.Defaulted);
        }
        return (rental.start + uint256(rental.periods) * period, RentalEnd.TermEnded);
    }

    // -------------------------------------------------------------------- sales

    /// @dev Credits the current leader of a sale with their escrow (they were outbid, or the token
    /// refused their winning payment).
    function _outbid(uint256 assetId, Sale storage sale) internal {
        address leader = sale.leader;
        if (leader == address(0)) return;
        uint256 amount = sale.amount;
        if (_assets[assetId].state == AssetState.RentalAuction) --_commitments[leader];
        escrowHeld -= amount;
        creditsHeld += amount;
        _credits[leader] += amount;
        emit Credited(leader, assetId, amount);
    }

    /// @dev The asset's sale, which must be open for bids: the asset in `phase` (a rental auction or
    /// a liquidation) and its close not reached. Reverts RentalAuctionNotOpen / LiquidationNotOpen,
    /// AuctionClosed.
    function _biddableSale(uint256 assetId, AssetState phase) internal view returns (Sale storage sale) {
        _requirePhase(assetId, phase);
        sale = _sales[assetId];
        if (block.timestamp >= sale.closesAt) revert AuctionClosed(assetId, sale.closesAt);
    }

    /// @dev The asset's sale, which must be ready to settle: the asset in `phase` and its close
    /// reached. Reverts RentalAuctionNotOpen / LiquidationNotOpen, AuctionStillOpen.
    function _settleableSale(uint256 assetId, AssetState phase)
        internal
        view
        returns (Asset storage asset, Sale storage sale)
    {
        asset = _requirePhase(assetId, phase);
        sale = _sales[assetId];
        if (block.timestamp < sale.closesAt) revert AuctionStillOpen(assetId, sale.closesAt);
    }

    /// @dev The asset, which must be in `phase` (RentalAuction or Liquidation).
    function _requirePhase(uint256 assetId, AssetState phase) private view returns (Asset storage asset) {
        asset = _assets[assetId];
        AssetState state = asset.state;
        if (state == phase) return asset;
        if (phase == AssetState.RentalAuction) revert RentalAuctionNotOpen(assetId, uint8(state));
        revert LiquidationNotOpen(assetId, uint8(state));
    }

    /// @dev Clears a sale's leader (after a refused payment; their escrow was credited back).
    function _clearLeader(Sale storage sale) internal {
        sale.leader = address(0);
        sale.amount = 0;
        sale.periods = 0;
    }

    /// @dev Closing time of a sale opened now: the sale length in force now.
    function _saleClose() internal view returns (uint40) {
        // Safe cast: block times are far below 2**39 and saleSeconds <= MAX_DURATION_SECONDS.
        return uint40(block.timestamp + _params.saleSeconds);
    }

    /// @dev Opens (or reopens) the liquidation sale. Emits {LiquidationOpened}.
    function _openLiquidation(uint256 assetId, Sale storage sale) internal {
        uint40 closesAt = _saleClose();
        sale.closesAt = closesAt;
        emit LiquidationOpened(assetId, closesAt, _liquidationReserve(assetId, sale));
    }

    /// @dev The least price a liquidation bid may offer now: the reserve the sale opened with,
    /// lowered by a LIQUIDATION_STEPS-th for each reopening without a bid.
    function _liquidationReserve(uint256 assetId, Sale storage sale) internal view returns (uint256) {
        uint256 steps = LIQUIDATION_STEPS - sale.reopenings;
        return Math.mulDiv(
            _assets[assetId].price, uint256(sale.reserveBps) * steps, Amortization.BPS * LIQUIDATION_STEPS, Math.Rounding.Ceil
        );
    }

    // --------------------------------------------------------------------- debt

    /// @dev What the asset owes at block time `time` (not before its settlement): principal, and
    /// interest accrued to the period `time` falls in.
    function _debtAt(uint256 assetId, uint256 time) internal view returns (uint256 principal, uint256 interest) {
        Debt storage debt = _debts[assetId];
        principal = debt.principal;
        interest = debt.interestOwed;
        if (principal > 0) {
            uint256 started = (time - debt.start) / _period() + 1;
            interest += (started - debt.accruedPeriods) * Amortization.interest(principal, _assets[assetId].clearingRateBps);
        }
    }

    /// @dev The periods of the series' own schedule (the request's term, from its settlement) not yet
    /// fully elapsed at `time`, at least 1: the most periods a rental bid may count on to repay.
    function _periodsLeft(uint256 assetId, uint256 term, uint256 time) internal view returns (uint256) {
        uint256 elapsed = (time - _debts[assetId].start) / _period();
        return elapsed < term ? term - elapsed : 1;
    }

    /// @dev Accrues interest to the current period, then applies up to `amount` to the debt,
    /// interest first, then principal. Marks the series redeemed when both reach zero.
    /// @return toBonds What the bondholders receive (<= amount). Emits {SeriesRedeemed}.
    function _serviceDebt(uint256 assetId, Debt storage debt, uint256 rateBps, uint256 amount)
        internal
        returns (uint256 toBonds)
    {
        uint256 principal = debt.principal;
        uint256 interest = debt.interestOwed;
        if (principal == 0 && interest == 0) return 0; // redeemed, written off, or never financed
        uint256 started = (block.timestamp - debt.start) / _period() + 1;
        if (principal > 0 && started > debt.accruedPeriods) {
            interest += (started - debt.accruedPeriods) * Amortization.interest(principal, rateBps);
        }
        debt.accruedPeriods = SafeCast.toUint32(started);
        uint256 toInterest = Math.min(amount, interest);
        uint256 toPrincipal = Math.min(amount - toInterest, principal);
        toBonds = toInterest + toPrincipal;
        // Principal only falls from a value that fits; interest is checked (it grows with time).
        debt.interestOwed = SafeCast.toUint128(interest - toInterest);
        debt.principal = uint128(principal - toPrincipal);
        if (principal == toPrincipal && interest == toInterest) {
            debt.redeemed = true;
            emit SeriesRedeemed(assetId);
        }
    }

    /// @dev Records a payment of `amount` to the series, then moves it there (from the renter, or from
    /// this contract's escrow), exactly. Booked first, so that a token hook running during the
    /// transfer never finds the arriving tokens unowed.
    function _payBonds(address series, uint256 amount, address from) internal {
        BondSeries(series).pay(amount);
        if (from == address(this)) _send(series, amount);
        else _pull(from, series, amount);
    }

    /// @dev Runs a rent payment of `amount` for rental periods `first` to `first + periods - 1`
    /// through the waterfall: bond service, then member income, which the treasury releases as those
    /// periods begin. Tokens come from `from`: the renter, or this contract's escrow. Emits {RentPaid}.
    function _payRent(uint256 assetId, address renter, uint256 first, uint256 periods, uint256 amount, address from)
        internal
    {
        uint256 toMembers = _serviceRent(assetId, renter, periods, amount, from);
        Treasury treasury = _treasury();
        // The treasury books the rent before its member income arrives (see `_payBonds`).
        treasury.recordRent(assetId, renter, amount, toMembers, _rentals[assetId].start, first, periods);
        if (toMembers > 0) {
            if (from == address(this)) _send(address(treasury), toMembers);
            else _pull(from, address(treasury), toMembers);
        }
    }

    /// @dev The bond service of a rent payment, paid to the series.
    /// @return toMembers What is left for the treasury. Emits {RentPaid}.
    function _serviceRent(uint256 assetId, address renter, uint256 periods, uint256 amount, address from)
        private
        returns (uint256 toMembers)
    {
        Asset storage asset = _assets[assetId];
        uint256 toBonds = _serviceDebt(assetId, _debts[assetId], asset.clearingRateBps, amount);
        toMembers = amount - toBonds;
        emit RentPaid(assetId, renter, periods, amount, toBonds, toMembers);
        if (toBonds > 0) _payBonds(asset.series, toBonds, from);
    }

    // --------------------------------------------------------------------- bids

    /// @dev Bond units a bid is filled with (see `CommonStock` for the rule).
    function _fill(Asset storage asset, Bid storage b) internal view returns (uint256) {
        if (asset.state == AssetState.Failed) return 0;
        uint256 rate = asset.clearingRateBps;
        if (b.rateBps < rate) return b.amount;
        if (b.rateBps > rate) return 0;
        uint256 need = asset.marginNeed;
        uint256 total = asset.marginTotal;
        // Cumulative rounding: the fills of all bids at the clearing rate sum to exactly `need`.
        return Math.mulDiv(b.tickBefore + b.amount, need, total) - Math.mulDiv(b.tickBefore, need, total);
    }
}
