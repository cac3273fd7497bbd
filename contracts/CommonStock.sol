// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";

import {BondSeries} from "./BondSeries.sol";
import {Commune} from "./Commune.sol";
import {Treasury} from "./Treasury.sol";
import {Amortization} from "./libraries/Amortization.sol";
import {CommuneArgs} from "./libraries/CommuneArgs.sol";
import {RateBook} from "./libraries/RateBook.sol";
import {BondAuction} from "./stock/BondAuction.sol";
import {Liquidation} from "./stock/Liquidation.sol";
import {RentalMarket} from "./stock/RentalMarket.sol";
import {StockLedger} from "./stock/StockLedger.sol";

/// @title CommonStock: the commune's assets, the bonds that finance them, and their rental
/// @notice The commune does not coordinate production; it only acquires the assets members ask
/// for and allocates them. A member requests an asset (price, vendor) and offers a rental agreement
/// (rent per period, number of periods). The commune sells a series of bonds for the price in a
/// public auction that sets the interest rate. If it clears and the rent can carry the debt, the
/// vendor is paid, the asset joins the common stock and the member rents it. Rent redeems the
/// bonds first; the rest is member income, divided equally by the treasury as the periods it pays
/// for begin. An asset returned or reclaimed from a defaulting renter goes to a rental auction among
/// members; one nobody wants is liquidated in a public sale, bondholders first.
///
/// Lifecycle (`AssetState`), and nothing else:
///
///     Auction --settle--> Rented | Failed
///     Rented --returnAsset / reclaim--> RentalAuction
///     RentalAuction --settleRental--> Rented (highest member bid) | Liquidation (no bid)
///     Liquidation --settleLiquidation--> Liquidated (the buyer takes title) | Liquidation (no bid: reopened,
///                                        the reserve a quarter lower each time, zero after LIQUIDATION_STEPS)
///
/// Financing (`Debt`) runs beside it: from settlement the series is Outstanding until interest and
/// principal are paid (then Redeemed: the asset is fully owned by the commune), or until a
/// liquidation's proceeds fall short (the rest is written off: the bondholders' loss, pro rata).
///
/// Rate auction. Anyone may bid until the close by escrowing `amount` and naming the lowest rate
/// they accept, `rateBps` (basis points per period, at most `rateCapBps`). Bids are kept by rate
/// tick in a two-level prefix book (`RateBook`), so bidding and settling cost the same for ten bids
/// or a hundred thousand. After the close anyone may settle:
///
///     clearing rate r* = the lowest rate such that  sum(amount of bids with rate <= r*) >= price
///
/// If the book holds less than the price, or the offered rent cannot repay the price with interest
/// at r* within the offered term (see `Amortization`), the auction fails and every bid is refunded
/// in full. Otherwise every winner is paid the one rate r*:
///
///     rate <  r*   filled in full
///     rate == r*   filled pro rata to the principal still needed, N = price - sum(rate < r*),
///                  out of the tick's total T, by cumulative rounding in bid order:
///                      fill_k = floor((C_k + a_k) * N / T) - floor(C_k * N / T)
///                  where C_k is the amount bid at r* before bid k. Each fill is within one base
///                  unit of a_k * N / T, and the fills sum to exactly N.
///     rate >  r*   not filled
///
/// so the vendor receives exactly the price. Nobody is paid a rate below their own, and nobody
/// lends more than they bid. Bidders pull what is theirs with `claim` (bonds for the fill, tokens
/// for the rest) and the vendor pulls the price with `withdraw`: settlement pushes nothing.
///
/// Debt and rent. Period k of the series starts at `debt.start + k * periodSeconds` (k = 0, 1, ...).
/// At the start of each period, interest ceil(principal * r* / 10_000) accrues (simple interest:
/// accrued interest bears none). Every payment to the bonds pays accrued interest first, then
/// principal; the rest of a rent payment, and all rent once the series is redeemed, is member
/// income. Rent for period k of a rental agreement is due at `rental.start + k * periodSeconds`;
/// the renter may pay any number of periods ahead. Every rental starts with its first period paid
/// from escrow: the requester escrows it with the request, a rental auction's winner with the bid.
/// Rent not paid `graceSeconds` after it falls due, or the end of the agreement's term, lets anyone
/// reclaim the asset.
///
/// Re-rental. While bonds are outstanding, a rental bid must repay them by the same amortisation
/// rule as a request, within its term and within what is left of the series' own schedule:
/// `repays(principal + interest owed at the auction's close, r*, rent, min(periods, left))`, where
/// `left` is the request's term less the series periods fully elapsed at the close, and 1 once that
/// term has run out (counting the accrued interest as principal, so the rule errs on the
/// bondholders' side). `settleRental` checks the winning bid again against the debt and the
/// schedule as they stand when it runs; a bid that no longer repays is credited back and the
/// auction reopens. So a re-rental's due dates all fall within the series' schedule: a renter who
/// returns the asset early and bids again faces a shorter schedule each time, and once it has run
/// out only a rent that repays everything with its first period (or liquidation) is left.
/// The renter who defaulted on an asset may not bid in its next rental auction, and no member who
/// ever defaulted on it may bid for it while its bonds are outstanding: a default costs the
/// bondholders the interest of the grace period and the auction, so members taking turns to default
/// could otherwise hold the asset at a bare interest-only rent while its debt grows.
///
/// Member income of a rent payment goes to the treasury, which releases it in one equal part per
/// rental period paid for, as each period begins. A renter who returns the asset early is refunded
/// the member income of the periods not yet begun (bond service paid ahead stays with the bonds).
///
/// Money. This contract holds `escrowHeld + creditsHeld` settlement-token base units, and anything
/// beyond that (a stray transfer) anyone may `sweep` into member income: escrow of bids (bond bids
/// not yet claimed, less prices paid to vendors; requesters' first periods while their auctions
/// are open; leading rental and liquidation bids) plus credits not yet withdrawn (vendors' prices,
/// outbid or refused escrow). Rent goes straight from the renter to the series and the treasury.
/// Every transfer is checked to move exactly the amount asked (`SettlementToken`).
///
/// Architecture. A commune's common stock is a clone (EIP-1167) of one implementation per chain,
/// made and initialised by `CommuneFactory`; what it is wired to (the membership contract, the
/// treasury, the settlement token, the BondSeries implementation, the governance address, the rent
/// period) is in the clone's immutable arguments (`CommuneArgs`). Its rules are cut by concern: this
/// contract is the asset registry and its ledger (requests, records, what accounts pull: credits and
/// bid claims, sweeps, parameters and every view);
/// the bond auction (`BondAuction`), the rental market (`RentalMarket`) and liquidation
/// (`Liquidation`) are modules deployed once per chain whose code this contract runs by
/// DELEGATECALL, each user call in exactly one module, on the one storage laid out by
/// `StockLedger` (so an asset's records, its debt and its escrow never cross a contract boundary).
/// The ABI is this contract's: every module function has a declaration here that forwards to it.
///
/// Parameters. The grace period, the sale length, the rate cap and the liquidation reserve are
/// stored in one slot, and only `governance` may change them (`setParameters`; nobody while it is
/// the zero address), within bounds fixed in code that no vote can pass (the constitution: a rate cap
/// of at most MAX_RATE_CAP_BPS, a reserve of at most 100%, every duration from 1 second to
/// MAX_DURATION_SECONDS). A change applies only to what starts after it: an asset's auction keeps the
/// rate cap in force at its request (`Asset.rateCapBps`), a rental agreement the grace period in force
/// at its start (`Rental.graceSeconds`), a liquidation the reserve in force when it opened
/// (`Sale.reserveBps`, lowered by its own reopenings), and a sale the closing time set when it opened.
/// The rent period is fixed for the commune's life: it is the treasury's release grid.
///
/// Settlements that pay escrow on to a series or the treasury (the first period at a bond auction's
/// or rental auction's settlement, a liquidation's proceeds) run in a call of this contract to
/// itself. If the settlement token refuses the payment (a blocklisted series or treasury, a fee
/// switched on), the call is undone and the settlement falls back: the bond auction fails (every
/// bid refunded), a rental auction's or liquidation's leader is credited their escrow and the sale
/// reopens. So no escrow is ever stuck behind a token that refuses to move it.
contract CommonStock is StockLedger, Initializable {
    using RateBook for RateBook.Book;

    /// @notice The bond auction module (bid, settle, claim).
    address public immutable BOND_AUCTION;

    /// @notice The rental market module (rent, returns, reclaims, rental auctions).
    address public immutable RENTAL_MARKET;

    /// @notice The liquidation module (liquidation bids and sales).
    address public immutable LIQUIDATION;

    /// @notice The implementation: the modules it runs, and no initialisation of its own (only
    /// its clones are initialised).
    /// @param bondAuction_ A deployed BondAuction.
    /// @param rentalMarket_ A deployed RentalMarket.
    /// @param liquidation_ A deployed Liquidation.
    constructor(address bondAuction_, address rentalMarket_, address liquidation_) {
        if (bondAuction_.code.length == 0) revert StockInvalidParameter("bondAuction", uint160(bondAuction_));
        if (rentalMarket_.code.length == 0) revert StockInvalidParameter("rentalMarket", uint160(rentalMarket_));
        if (liquidation_.code.length == 0) revert StockInvalidParameter("liquidation", uint160(liquidation_));
        BOND_AUCTION = bondAuction_;
        RENTAL_MARKET = rentalMarket_;
        LIQUIDATION = liquidation_;
        _disableInitializers();
    }

    // ------------------------------------------------------------- parameters

    /// @notice Initialises a commune's common stock with its parameters. Only the clone's factory,
    /// once (a second call reverts with InvalidInitialization).
    /// @param params Period (must be the commune's, from the clone's arguments), grace, sale length,
    /// rate cap and liquidation reserve, each within the constitution's bounds.
    function initialize(Params calldata params) external initializer {
        if (msg.sender != CommuneArgs.factory()) revert StockOnlyFactory(msg.sender);
        _setParameters(params);
    }

    /// @notice Changes the grace period, sale length, rate cap and liquidation reserve of what starts
    /// from now on. Only `governance` (nobody while it is the zero address), within the constitution.
    /// @param params The new parameters; `periodSeconds` must be the commune's (it is fixed).
    function setParameters(Params calldata params) external {
        address governance_ = CommuneArgs.governance();
        if (msg.sender != governance_) revert StockOnlyGovernance(msg.sender, governance_);
        _setParameters(params);
    }

    /// @dev Checks `params` against the constitution's bounds and stores them.
    /// Emits {StockParametersSet}.
    function _setParameters(Params calldata params) private {
        if (params.periodSeconds != _period()) revert StockParameterFixed("periodSeconds", params.periodSeconds);
        if (params.graceSeconds == 0 || params.graceSeconds > MAX_DURATION_SECONDS) {
            revert StockInvalidParameter("graceSeconds", params.graceSeconds);
        }
        if (params.saleSeconds == 0 || params.saleSeconds > MAX_DURATION_SECONDS) {
            revert StockInvalidParameter("saleSeconds", params.saleSeconds);
        }
        if (params.rateCapBps > MAX_RATE_CAP_BPS) revert StockInvalidParameter("rateCapBps", params.rateCapBps);
        if (params.liquidationReserveBps > Amortization.BPS) {
            revert StockInvalidParameter("liquidationReserveBps", params.liquidationReserveBps);
        }
        // Safe casts: every value was bounded just above (100 years < 2**32 seconds).
        _params = Parameters({
            graceSeconds: uint32(params.graceSeconds),
            saleSeconds: uint32(params.saleSeconds),
            rateCapBps: uint16(params.rateCapBps),
            liquidationReserveBps: uint16(params.liquidationReserveBps)
        });
        emit StockParametersSet(
            params.graceSeconds, params.saleSeconds, params.rateCapBps, params.liquidationReserveBps
        );
    }

    /// @notice Length of one rent period, seconds: fixed for the commune's life.
    /// @return Seconds.
    function periodSeconds() external view returns (uint256) {
        return _period();
    }

    /// @notice Grace period of rental agreements that start now, seconds.
    /// @return Seconds.
    function graceSeconds() external view returns (uint256) {
        return _params.graceSeconds;
    }

    /// @notice Length of rental auctions and liquidation sales that open now, seconds.
    /// @return Seconds.
    function saleSeconds() external view returns (uint256) {
        return _params.saleSeconds;
    }

    /// @notice Rate cap of bond auctions requested now, basis points per period.
    /// @return Basis points.
    function rateCapBps() external view returns (uint256) {
        return _params.rateCapBps;
    }

    /// @notice Reserve of liquidations that open now, basis points of the asset's price.
    /// @return Basis points.
    function liquidationReserveBps() external view returns (uint256) {
        return _params.liquidationReserveBps;
    }

    /// @notice The membership contract: only its members request, rent and bid for rentals.
    /// @return The commune.
    function commune() external view returns (Commune) {
        return _commune();
    }

    /// @notice The settlement token: all money of the commune is in this ERC-20.
    /// @return The token.
    function token() external view returns (IERC20) {
        return _token();
    }

    /// @notice The treasury: member income and payouts.
    /// @return The treasury.
    function treasury() external view returns (Treasury) {
        return _treasury();
    }

    /// @notice The BondSeries implementation every series is a clone of.
    /// @return The implementation.
    function seriesImplementation() external view returns (address) {
        return CommuneArgs.seriesImplementation();
    }

    /// @notice The one account that may change the parameters (zero: nobody can).
    /// @return The governance address.
    function governance() external view returns (address) {
        return CommuneArgs.governance();
    }

    /// @notice The factory that created and initialised this common stock.
    /// @return The factory.
    function factory() external view returns (address) {
        return CommuneArgs.factory();
    }

    // -------------------------------------------------------------- requests

    /// @notice Asks the commune to acquire an asset, offering a rental agreement for it, and escrows
    /// the agreement's first period (paid at settlement if the sale clears, credited back otherwise).
    /// @dev The caller must have approved this contract for `rentPerPeriod`.
    /// @param description A hash or URI describing the asset (its keccak256 is stored).
    /// @param price Price of the asset: the face value of its bond series. At most 2**128 - 1.
    /// @param vendor Who sells the asset and receives the price: neither the requester nor a member.
    /// @param rentPerPeriod Rent offered per period. At most 2**128 - 1.
    /// @param periods Term of the rental agreement, 1 to MAX_PERIODS.
    /// @param auctionClosesAt When the bond auction closes (block time, seconds), at most
    /// MAX_DURATION_SECONDS from now.
    /// @return assetId The new asset's id.
    function requestAsset(
        string calldata description,
        uint256 price,
        address vendor,
        uint256 rentPerPeriod,
        uint256 periods,
        uint256 auctionClosesAt
    ) external nonReentrant returns (uint256 assetId) {
        Commune commune_ = _commune();
        if (!commune_.isMember(msg.sender)) revert StockNotMember(msg.sender);
        if (bytes(description).length == 0) revert AssetEmptyDescription();
        if (price == 0 || price > type(uint128).max) revert AssetInvalidPrice(price);
        if (vendor == address(0)) revert AssetZeroVendor();
        if (vendor == msg.sender) revert AssetVendorIsRequester(vendor);
        if (commune_.isMember(vendor)) revert AssetVendorIsMember(vendor);
        if (vendor == address(this) || vendor == CommuneArgs.treasury() || vendor == address(commune_)) {
            revert AssetVendorIsCommuneContract(vendor);
        }
        if (rentPerPeriod == 0 || rentPerPeriod > type(uint128).max) revert AssetInvalidRent(rentPerPeriod);
        if (periods == 0 || periods > MAX_PERIODS) revert AssetInvalidTerm(periods, MAX_PERIODS);
        if (auctionClosesAt <= block.timestamp) revert AuctionCloseInPast(auctionClosesAt, block.timestamp);
        if (auctionClosesAt - block.timestamp > MAX_DURATION_SECONDS) {
            revert AuctionCloseTooLate(auctionClosesAt, block.timestamp + MAX_DURATION_SECONDS);
        }
        assetId = ++assetCount;
        Asset storage asset = _assets[assetId];
        // Safe casts: each value was range-checked above (the closing time is below now + 100 years,
        // and block times are far below 2**63).
        asset.requester = msg.sender;
        asset.auctionClosesAt = uint64(auctionClosesAt);
        asset.state = AssetState.Auction;
        asset.vendor = vendor;
        asset.periods = uint32(periods);
        asset.rateCapBps = _params.rateCapBps;
        asset.price = uint128(price);
        asset.rentPerPeriod = uint128(rentPerPeriod);
        asset.descriptionHash = keccak256(bytes(description));
        ++_commitments[msg.sender];
        escrowHeld += rentPerPeriod;
        _emitRequested(assetId, asset, description);
        _pull(msg.sender, address(this), rentPerPeriod);
    }

    /// @dev Emits {AssetRequested} from the stored record (a separate frame keeps the stack shallow).
    function _emitRequested(uint256 assetId, Asset storage asset, string calldata description) private {
        emit AssetRequested(
            assetId,
            asset.requester,
            asset.vendor,
            asset.price,
            asset.rentPerPeriod,
            asset.periods,
            asset.auctionClosesAt,
            description
        );
    }

    // ------------------------------------------------------------- bond auction

    /// @notice Bids in an asset's bond auction: escrows `amount` and accepts any rate >= `rateBps`.
    /// @dev The caller must have approved this contract for `amount` of the settlement token.
    /// @param assetId The asset.
    /// @param amount Settlement-token base units to lend, escrowed now.
    /// @param rateBps The lowest rate accepted, basis points per period, at most `rateCapBps`.
    /// @return The new bid's id.
    function bid(uint256 assetId, uint256 amount, uint256 rateBps) external returns (uint256) {
        (assetId, amount, rateBps);
        _delegate(BOND_AUCTION);
    }

    /// @notice Settles an asset's bond auction after its close. Anyone may call. If the sale clears,
    /// the asset is bought, the requester's rental starts and its first period is paid from escrow.
    /// @param assetId The asset.
    /// @return True if the sale cleared and the asset is bought; false if it failed.
    function settle(uint256 assetId) external returns (bool) {
        (assetId);
        _delegate(BOND_AUCTION);
    }

    /// @notice Claims a bid after settlement: bonds for the filled part, tokens for the rest.
    /// @param bidId The bid; only its bidder may claim it, once.
    /// @return bonds Bond units minted to the bidder.
    /// @return refund Settlement-token base units returned to the bidder.
    function claim(uint256 bidId) external nonReentrant returns (uint256 bonds, uint256 refund) {
        Bid storage b = _bids[bidId];
        if (b.bidder == address(0)) revert BidUnknown(bidId);
        if (b.bidder != msg.sender) revert BidNotYours(bidId, msg.sender);
        if (b.claimed) revert BidAlreadyClaimed(bidId);
        Asset storage asset = _assets[b.assetId];
        if (asset.state == AssetState.Auction) revert AuctionNotSettled(bidId, b.assetId);

        b.claimed = true;
        bonds = _fill(asset, b);
        refund = b.amount - bonds;
        escrowHeld -= refund;
        emit BidClaimed(bidId, msg.sender, bonds, refund);
        if (bonds > 0) BondSeries(asset.series).mint(msg.sender, bonds);
        if (refund > 0) _pay(msg.sender, refund);
    }

    // -------------------------------------------------------------------- rent

    /// @notice Pays `periods` periods of rent ahead. Bond service first (interest, then principal),
    /// the rest to the members through the treasury, released as those periods begin. Only the renter.
    /// @dev The renter must have approved this contract for `periods * rentPerPeriod`.
    /// @param assetId The asset.
    /// @param periods Periods to pay, from 1 to what the agreement has left.
    /// @return Settlement-token base units paid.
    function payRent(uint256 assetId, uint256 periods) external returns (uint256) {
        (assetId, periods);
        _delegate(RENTAL_MARKET);
    }

    /// @notice Returns a rented asset to the commune, which offers it to the members again. Bond
    /// service already paid stays with the bonds; the member income of periods paid ahead that have
    /// not begun is refunded to the renter. A renter who returns it with a period due and unpaid
    /// has defaulted (as if reclaimed: barred from bidding for it while its bonds are outstanding).
    /// @dev "Not begun" is counted on the commune's grid: a rental period's member income is released
    /// when the grid period its start falls in begins, so a return after that grid boundary and
    /// before the rental period itself starts forfeits that period's member part (see {Treasury-refundRental}).
    /// While the asset's bonds are outstanding no rent of the agreement was member income, so the
    /// treasury is asked for a refund only once they are redeemed.
    /// @param assetId The asset; only its renter may return it.
    function returnAsset(uint256 assetId) external {
        (assetId);
        _delegate(RENTAL_MARKET);
    }

    /// @notice Reclaims an asset whose rent is overdue past the grace period, or whose term has
    /// ended. Anyone may call (the keeper does).
    /// @param assetId The asset.
    function reclaim(uint256 assetId) external {
        (assetId);
        _delegate(RENTAL_MARKET);
    }

    /// @notice Bids in an asset's rental auction (members only): escrows one period's rent.
    /// The highest rent per period at the close wins; an outbid member's escrow is credited back.
    /// @dev The caller must have approved this contract for `rentPerPeriod`.
    /// @param assetId The asset.
    /// @param rentPerPeriod Rent offered per period; more than the leading bid, and while bonds are
    /// outstanding enough to repay them within the term and what is left of the series' schedule
    /// (see the header and {repaymentPeriodsLeft}).
    /// @param periods Term wanted, 1 to MAX_PERIODS.
    function bidRent(uint256 assetId, uint256 rentPerPeriod, uint256 periods) external {
        (assetId, rentPerPeriod, periods);
        _delegate(RENTAL_MARKET);
    }

    /// @notice Settles a rental auction after its close. Anyone may call. The leader becomes the
    /// renter with the first period paid from the escrow; with no bid the asset goes to liquidation.
    /// If the token refuses the first period's payment, or the leading bid no longer repays the
    /// outstanding bonds as they stand now (a late settlement: RentBidDoesNotRepay), the leader is
    /// credited their escrow and the auction reopens ({SettlementRefused} carries the reason).
    /// @param assetId The asset.
    /// @return True if a member now rents it; false if it is offered for liquidation (or reopened).
    function settleRental(uint256 assetId) external returns (bool) {
        (assetId);
        _delegate(RENTAL_MARKET);
    }

    // ------------------------------------------------------------- liquidation

    /// @notice Bids in an asset's liquidation sale (anyone): escrows `amount`. The highest bid at
    /// the close buys the asset; an outbid bidder's escrow is credited back.
    /// @dev The caller must have approved this contract for `amount`.
    /// @param assetId The asset.
    /// @param amount Price offered: more than the current bid and at least the reserve.
    function bidLiquidation(uint256 assetId, uint256 amount) external {
        (assetId, amount);
        _delegate(LIQUIDATION);
    }

    /// @notice Settles a liquidation sale after its close. Anyone may call. The proceeds pay the
    /// series' interest and principal first; any surplus is member income; any shortfall is the
    /// bondholders' loss. The buyer takes title. With no bid the sale reopens with a lower reserve;
    /// if the token refuses to move the proceeds, the buyer is credited their escrow and the sale reopens.
    /// @param assetId The asset.
    /// @return True if sold; false if there was no bid (or the payment was refused) and the sale reopened.
    function settleLiquidation(uint256 assetId) external returns (bool) {
        (assetId);
        _delegate(LIQUIDATION);
    }

    // ------------------------------------------------------------ settlements

    /// @notice The effects of a settlement that pays escrow on (see the header): a bond sale that
    /// clears, a rental auction with a winner, a liquidation sale with a buyer. Only this contract,
    /// from `settle`, `settleRental` and `settleLiquidation`, so that a payment the token refuses
    /// undoes them all. Runs the module of the asset's state.
    /// @param assetId The asset (its state says which settlement).
    /// @param rate The clearing rate (bond sales only).
    /// @param below Sum of the bids below the clearing rate (bond sales only).
    function runSettlement(uint256 assetId, uint256 rate, uint256 below) external {
        _onlySelf();
        AssetState state = _assets[assetId].state;
        bytes memory call;
        address module;
        if (state == AssetState.Auction) {
            (module, call) = (BOND_AUCTION, abi.encodeCall(BondAuction.clearAuction, (assetId, rate, below)));
        } else if (state == AssetState.RentalAuction) {
            (module, call) = (RENTAL_MARKET, abi.encodeCall(RentalMarket.startWinningRental, (assetId)));
        } else {
            (module, call) = (LIQUIDATION, abi.encodeCall(Liquidation.sell, (assetId)));
        }
        (bool ok, bytes memory reason) = module.delegatecall(call);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }

    /// @notice Withdraws everything credited to the caller (a vendor's price, an outbid escrow).
    /// @return amount Settlement-token base units sent to the caller.
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        creditsHeld -= amount;
        emit Withdrawn(msg.sender, amount);
        _pay(msg.sender, amount);
    }

    /// @notice Sends the settlement tokens this contract holds beyond what it owes (escrow plus
    /// credits: a stray transfer, a positive rebase) to the treasury, which divides them among the
    /// members. Anyone may call.
    /// @return amount Settlement-token base units swept.
    function sweep() external nonReentrant returns (uint256 amount) {
        uint256 held = _token().balanceOf(address(this));
        uint256 owed = escrowHeld + creditsHeld;
        if (held <= owed) revert NothingToSweep();
        amount = held - owed;
        emit SurplusSwept(msg.sender, amount);
        Treasury treasury_ = _treasury();
        _pay(address(treasury_), amount);
        treasury_.sweep();
    }

    // ------------------------------------------------------------------- views

    /// @notice An asset's record.
    /// @param assetId The asset.
    /// @return The record (state None when the id does not exist).
    function assetInfo(uint256 assetId) external view returns (Asset memory) {
        return _assets[assetId];
    }

    /// @notice A bid's record.
    /// @param bidId The bid.
    /// @return The record (bidder zero when the id does not exist).
    function bidInfo(uint256 bidId) external view returns (Bid memory) {
        return _bids[bidId];
    }

    /// @notice What a bid receives at claim: bonds and refund. Meaningful once its auction is settled.
    /// @param bidId The bid.
    /// @return bonds Bond units for the filled part.
    /// @return refund Settlement-token base units returned.
    function bidOutcome(uint256 bidId) external view returns (uint256 bonds, uint256 refund) {
        Bid storage b = _bids[bidId];
        if (b.bidder == address(0)) revert BidUnknown(bidId);
        Asset storage asset = _assets[b.assetId];
        if (asset.state == AssetState.Auction) revert AuctionNotSettled(bidId, b.assetId);
        bonds = _fill(asset, b);
        refund = b.amount - bonds;
    }

    /// @notice Sum of bids on `assetId` at rates up to and including `rateBps`.
    /// @param assetId The asset.
    /// @param rateBps A rate, at most the asset's rate cap.
    /// @return Base units.
    function bookDepth(uint256 assetId, uint256 rateBps) external view returns (uint256) {
        uint256 cap = _assets[assetId].rateCapBps;
        if (rateBps > cap) revert BidRateAboveCap(rateBps, cap);
        return _books[assetId].prefix(rateBps);
    }

    /// @notice Sum of bids on `assetId` at exactly `rateBps`.
    /// @param assetId The asset.
    /// @param rateBps A rate.
    /// @return Base units.
    function tickTotal(uint256 assetId, uint256 rateBps) external view returns (uint256) {
        return _books[assetId].amountAt(rateBps);
    }

    /// @notice Settlement tokens credited to `account` and not yet withdrawn.
    /// @param account Any address.
    /// @return Base units.
    function credits(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @notice The asset's debt to its bondholders (interest accrued up to the last payment).
    /// @param assetId The asset.
    /// @return The debt record.
    function debtInfo(uint256 assetId) external view returns (Debt memory) {
        return _debts[assetId];
    }

    /// @notice What the asset owes its bondholders right now: principal plus interest accrued to
    /// the current period.
    /// @param assetId The asset.
    /// @return principal Outstanding principal.
    /// @return interest Accrued, unpaid interest.
    function debtOwed(uint256 assetId) external view returns (uint256 principal, uint256 interest) {
        return _debtAt(assetId, block.timestamp);
    }

    /// @notice Whether the asset's bonds are all redeemed: the asset is fully owned by the commune.
    /// @param assetId The asset.
    /// @return True once principal and interest are paid.
    function isFullyOwned(uint256 assetId) external view returns (bool) {
        return _debts[assetId].redeemed;
    }

    /// @notice While an asset's rental auction is open and its bonds are outstanding, the most periods
    /// a rental bid may count on to repay them: what is left at the auction's close of the series'
    /// schedule (the request's term from its settlement), at least 1.
    /// @param assetId The asset (in a rental auction).
    /// @return The periods left.
    function repaymentPeriodsLeft(uint256 assetId) external view returns (uint256) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.RentalAuction) revert RentalAuctionNotOpen(assetId, uint8(asset.state));
        return _periodsLeft(assetId, asset.periods, _sales[assetId].closesAt);
    }

    /// @notice The asset's current (or last) rental agreement.
    /// @param assetId The asset.
    /// @return The agreement.
    function rentalInfo(uint256 assetId) external view returns (Rental memory) {
        return _rentals[assetId];
    }

    /// @notice When a rented asset becomes reclaimable, and why.
    /// @param assetId The asset (must be rented).
    /// @return at Block time from which anyone may reclaim it.
    /// @return reason Defaulted if rent will then be overdue past grace, TermEnded if all is paid.
    function reclaimableAt(uint256 assetId) external view returns (uint256 at, RentalEnd reason) {
        Asset storage asset = _assets[assetId];
        if (asset.state != AssetState.Rented) revert AssetNotRented(assetId, uint8(asset.state));
        return _reclaimableAt(_rentals[assetId]);
    }

    /// @notice The asset's open rental auction or liquidation sale.
    /// @param assetId The asset.
    /// @return The sale (leader zero when nobody has bid).
    function saleInfo(uint256 assetId) external view returns (Sale memory) {
        return _sales[assetId];
    }

    /// @notice Who bought the asset at liquidation (zero while it is in the common stock).
    /// @param assetId The asset.
    /// @return The title holder.
    function titleHolder(uint256 assetId) external view returns (address) {
        return _titleHolder[assetId];
    }

    /// @notice The least price a liquidation bid for the asset may offer now: the reserve in force
    /// when its liquidation opened, lowered by a LIQUIDATION_STEPS-th for each reopening without a bid
    /// (zero after LIQUIDATION_STEPS). Zero outside a liquidation.
    /// @param assetId The asset.
    /// @return Settlement-token base units.
    function liquidationReserve(uint256 assetId) external view returns (uint256) {
        return _liquidationReserve(assetId, _sales[assetId]);
    }

    /// @notice Whether `member` ever defaulted on a rental of `assetId` (and so may not bid for it
    /// while its bonds are outstanding).
    /// @param assetId The asset.
    /// @param member Any address.
    /// @return True after a default.
    function hasDefaulted(uint256 assetId, address member) external view returns (bool) {
        return _defaulted[assetId][member];
    }

    /// @notice Assets `member` has requested, rents, or leads the rental auction of: a member with
    /// any cannot leave the commune.
    /// @param member Any address.
    /// @return Count.
    function commitments(address member) external view returns (uint256) {
        return _commitments[member];
    }

    // ---------------------------------------------------------------- internal

    /// @dev Runs this call's calldata in `module` (DELEGATECALL: this contract's storage, address,
    /// caller and value) and returns or reverts with exactly what it returned.
    function _delegate(address module) private {
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
