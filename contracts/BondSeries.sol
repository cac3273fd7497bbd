// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IBondSeriesErrors} from "./interfaces/IBondSeriesErrors.sol";
import {IBondIssuer, ISurplusSink} from "./interfaces/ICommuneHooks.sol";
import {SettlementToken} from "./libraries/SettlementToken.sol";

/// @title BondSeries: the bonds that financed one asset of the common stock
/// @notice One ERC-20 per asset. One token unit is one unit of principal, with the settlement
/// token's decimals; the face value of the series, `face`, equals the asset's price. Bonds carry
/// no membership, no vote and no share of member income: they are claims on the asset's rent and,
/// failing that, on its sale.
///
/// Each series is a minimal clone (EIP-1167) of one implementation, deployed by the common stock
/// with its terms appended to the clone's code as immutable arguments (OpenZeppelin
/// `Clones.cloneWithImmutableArgs`), so creating a series writes no storage:
///
///     word 0 = issuer | assetId << 160 | decimals << 224 | rateBps << 232
///     word 1 = face
///     word 2 = settlement token
///
/// Only the issuer mints, once per winning bid, and never more than `face` in total.
///
/// Payments. The issuer pays the series (rent's bond service, liquidation proceeds) and holders
/// pull their part. Payments are shared per unit of *face*, minted or not, through an accumulator
/// (as in funds-distribution tokens, ERC-2222) kept in exact integers:
///
///     accumulated(h)  = floor((balance(h) * totalPaid + correction(h)) / face)
///     withdrawable(h) = accumulated(h) - withdrawn(h)
///
/// which is the floor of the holder's exact pro-rata share of every payment. A transfer of v units
/// moves future payments with the tokens and leaves past ones with the sender:
/// correction(from) += v * totalPaid, correction(to) -= v * totalPaid. A mint carries no
/// correction, so a winner who claims their bonds late receives every payment made on those units
/// since settlement. No loop over holders anywhere. Each holder's floor leaves under one base unit
/// in the series; that dust stays here (`totalPaid - totalWithdrawn` covers every claim).
///
/// Bounds: face < 2**128 (the common stock checks the price); each product balance * totalPaid is
/// converted to int256 with a check (it fits while totalPaid < 2**127, far beyond any token's supply).
///
/// Money. The series owes `totalPaid - totalWithdrawn`; anything it holds beyond that (a stray
/// transfer, a positive rebase) anyone may `sweep` to the commune's treasury as member income.
contract BondSeries is ERC20, IBondSeriesErrors {
    using SettlementToken for IERC20;

    /// @notice Settlement-token units paid to the series in total.
    uint256 public totalPaid;

    /// @notice Settlement-token units withdrawn by holders in total.
    uint256 public totalWithdrawn;

    mapping(address holder => int256 correction) private _corrections;
    mapping(address holder => uint256 amount) private _withdrawn;

    /// @notice Emitted when the issuer pays the series.
    /// @param amount Settlement-token units paid.
    /// @param totalPaid Total paid afterwards.
    event Paid(uint256 amount, uint256 totalPaid);

    /// @notice Emitted when a holder withdraws payments.
    /// @param holder The holder.
    /// @param amount Settlement-token units sent.
    event PaymentWithdrawn(address indexed holder, uint256 amount);

    /// @notice Emitted when tokens held beyond what the holders are owed are swept to the treasury.
    /// @param caller Who swept.
    /// @param amount Settlement-token units.
    event SurplusSwept(address indexed caller, uint256 amount);

    constructor() ERC20("", "") {}

    /// @notice Packs a series' terms into the immutable arguments of its clone.
    /// @param issuer_ The common stock (the only minter).
    /// @param assetId_ The asset financed (< 2**64).
    /// @param face_ Face value: the asset's price.
    /// @param rateBps_ The clearing rate, basis points per period (< 2**16).
    /// @param decimals_ Decimals of the settlement token.
    /// @return The bytes to pass to `Clones.cloneWithImmutableArgs`.
    /// @param token_ The settlement token the series is paid in.
    function encodeTerms(
        address issuer_,
        uint256 assetId_,
        uint256 face_,
        uint256 rateBps_,
        uint8 decimals_,
        address token_
    ) external pure returns (bytes memory) {
        return abi.encode(
            uint256(uint160(issuer_)) | (assetId_ << 160) | (uint256(decimals_) << 224) | (rateBps_ << 232),
            face_,
            token_
        );
    }

    /// @notice The common stock that issued this series (the only minter).
    function issuer() public view returns (address) {
        return address(uint160(_word0()));
    }

    /// @notice The asset of the common stock this series financed.
    function assetId() public view returns (uint256) {
        return uint64(_word0() >> 160);
    }

    /// @notice Interest rate of the series, basis points per rent period (the auction's clearing rate).
    function rateBps() public view returns (uint256) {
        return uint16(_word0() >> 232);
    }

    /// @notice Face value of the series: the asset's price, in settlement-token base units.
    function face() public view returns (uint256 face_) {
        (, face_,) = _terms();
    }

    /// @notice The settlement token payments are made in.
    function token() public view returns (IERC20 token_) {
        (,, token_) = _terms();
    }

    /// @notice Mints `amount` bonds to `to`, with every payment made so far on those units.
    /// Only the issuer; never beyond `face` in total.
    /// @param to The winning bidder.
    /// @param amount Bond units (principal).
    function mint(address to, uint256 amount) external {
        (uint256 word0, uint256 face_,) = _terms();
        if (msg.sender != address(uint160(word0))) revert BondSeriesOnlyIssuer(msg.sender);
        uint256 supply = totalSupply() + amount;
        if (supply > face_) revert BondSeriesFaceExceeded(supply, face_);
        _mint(to, amount);
    }

    /// @notice Records a payment of `amount` to the holders. Only the issuer, which transfers `amount`
    /// of the settlement token to this series right after, in the same transaction (booked first, so
    /// a token hook during the transfer never finds the arriving tokens unowed).
    /// @param amount Settlement-token units.
    function pay(uint256 amount) external {
        if (msg.sender != issuer()) revert BondSeriesOnlyIssuer(msg.sender);
        uint256 total = totalPaid + amount;
        totalPaid = total;
        emit Paid(amount, total);
    }

    /// @notice Sends the caller every payment accrued on their bonds and not yet withdrawn.
    /// @return amount Settlement-token units sent.
    function withdrawPayments() external returns (uint256 amount) {
        amount = withdrawable(msg.sender);
        if (amount == 0) revert BondSeriesNothingToWithdraw(msg.sender);
        _withdrawn[msg.sender] += amount;
        totalWithdrawn += amount;
        emit PaymentWithdrawn(msg.sender, amount);
        token().payOut(msg.sender, amount);
    }

    /// @notice Sends the settlement tokens this series holds beyond what its holders are owed to the
    /// commune's treasury, which divides them among the members. Anyone may call.
    /// @return amount Settlement-token units swept.
    function sweep() external returns (uint256 amount) {
        IERC20 token_ = token();
        uint256 held = token_.balanceOf(address(this));
        uint256 owed = totalPaid - totalWithdrawn;
        if (held <= owed) revert BondSeriesNothingToSweep();
        amount = held - owed;
        ISurplusSink sink = IBondIssuer(issuer()).treasury();
        emit SurplusSwept(msg.sender, amount);
        token_.payOut(address(sink), amount);
        sink.sweep();
    }

    /// @notice Payments accrued to `holder` and not yet withdrawn.
    /// @param holder Any address.
    /// @return Settlement-token units.
    function withdrawable(address holder) public view returns (uint256) {
        return accumulated(holder) - _withdrawn[holder];
    }

    /// @notice Payments ever accrued to `holder` (withdrawn or not).
    /// @param holder Any address.
    /// @return Settlement-token units.
    function accumulated(address holder) public view returns (uint256) {
        int256 scaled = SafeCast.toInt256(balanceOf(holder) * totalPaid) + _corrections[holder];
        // Never negative: a holder's corrections never exceed what their balance has earned.
        return SafeCast.toUint256(scaled) / face();
    }

    /// @notice Payments accrued to units not yet minted (winners who have not claimed their bonds).
    /// @return Settlement-token units, rounded down.
    function unclaimedPayments() external view returns (uint256) {
        uint256 face_ = face();
        return ((face_ - totalSupply()) * totalPaid) / face_;
    }

    /// @dev Moves future payments with transferred units (see the header). Mints carry none.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        int256 paidOnValue = SafeCast.toInt256(value * totalPaid);
        if (from != address(0)) _corrections[from] += paidOnValue;
        if (to != address(0) && from != address(0)) _corrections[to] -= paidOnValue;
    }

    /// @inheritdoc ERC20
    function name() public view override returns (string memory) {
        return string.concat("Venture Commune Bond #", Strings.toString(assetId()));
    }

    /// @inheritdoc ERC20
    function symbol() public view override returns (string memory) {
        return string.concat("VCB", Strings.toString(assetId()));
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return uint8(_word0() >> 224);
    }

    function _word0() private view returns (uint256 word0) {
        (word0,,) = _terms();
    }

    function _terms() private view returns (uint256 word0, uint256 face_, IERC20 token_) {
        return abi.decode(Clones.fetchCloneArgs(address(this)), (uint256, uint256, IERC20));
    }
}
