// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

/// @title RateBook: bid amounts by interest-rate tick, with prefix sums that ignore the bid count
/// @notice A two-level prefix structure over rate ticks (one tick = one basis point per period):
/// the amount at each tick, and the amount in each bucket of BUCKET_TICKS consecutive ticks.
/// Both levels store two uint128 lanes per storage slot.
///
///     add(r, v):          amount(r) += v, bucket(r / 32) += v           2 slot writes
///     lowerBound(P):      smallest r with sum(amount(0..r)) >= P        <= (cap/32 + 1)/2 + 16 slot reads
///
/// Neither grows with the number of bids: a book of a hundred thousand bids costs what a book of
/// ten costs. (A Fenwick tree gives logarithmic reads but writes log2(ticks) fresh slots per bid at
/// a new rate; bids are many and settlement is one, so bids are made cheap.)
///
/// Lanes hold at most the sum of all amounts in the book, which the caller keeps below 2**128.
library RateBook {
    /// @notice Ticks per bucket.
    uint256 internal constant BUCKET_TICKS = 32;

    struct Book {
        mapping(uint256 pair => uint256 lanes) ticks;
        mapping(uint256 pair => uint256 lanes) buckets;
    }

    /// @dev Adds `amount` at `tick` and returns the tick's amount before.
    /// Requirement: the book's total stays below 2**128.
    function add(Book storage book, uint256 tick, uint256 amount) internal returns (uint256 before) {
        before = _lane(book.ticks, tick);
        _addLane(book.ticks, tick, amount);
        _addLane(book.buckets, tick / BUCKET_TICKS, amount);
    }

    /// @dev Amount at exactly `tick`.
    function amountAt(Book storage book, uint256 tick) internal view returns (uint256) {
        return _lane(book.ticks, tick);
    }

    /// @dev Sum of amounts at ticks 0..tick inclusive.
    function prefix(Book storage book, uint256 tick) internal view returns (uint256 sum) {
        uint256 bucket = tick / BUCKET_TICKS;
        for (uint256 k = 0; k < bucket; ++k) {
            sum += _lane(book.buckets, k);
        }
        for (uint256 t = bucket * BUCKET_TICKS; t <= tick; ++t) {
            sum += _lane(book.ticks, t);
        }
    }

    /// @dev The smallest tick whose prefix sum reaches `target`, and the sum strictly below it.
    /// Requirement: 0 < target <= total amount at ticks 0..maxTick (else returns maxTick + 1).
    /// @return tick The clearing tick.
    /// @return below Sum of amounts at ticks below `tick` (always < target).
    function lowerBound(Book storage book, uint256 maxTick, uint256 target)
        internal
        view
        returns (uint256 tick, uint256 below)
    {
        uint256 lastBucket = maxTick / BUCKET_TICKS;
        for (uint256 k = 0; k <= lastBucket; ++k) {
            uint256 inBucket = _lane(book.buckets, k);
            if (below + inBucket >= target) {
                // The clearing tick is in bucket k: walk its ticks. The bucket's ticks sum to
                // `inBucket`, so the walk returns by its last tick; the bound makes that explicit.
                uint256 end = (k + 1) * BUCKET_TICKS;
                for (tick = k * BUCKET_TICKS; tick < end; ++tick) {
                    uint256 atTick = _lane(book.ticks, tick);
                    if (below + atTick >= target) return (tick, below);
                    below += atTick;
                }
            }
            below += inBucket;
        }
        return (maxTick + 1, below);
    }

    /// @dev Lane `index` of a pair-packed map: the low 128 bits for even indices, high for odd.
    function _lane(mapping(uint256 => uint256) storage lanes, uint256 index) private view returns (uint256) {
        return uint128(lanes[index >> 1] >> ((index & 1) << 7));
    }

    /// @dev Adds to lane `index`. Checked: a lane never exceeds the book total (< 2**128), so the
    /// low lane never carries into the high one, and the slot itself cannot overflow.
    function _addLane(mapping(uint256 => uint256) storage lanes, uint256 index, uint256 amount) private {
        lanes[index >> 1] += amount << ((index & 1) << 7);
    }
}
