// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.30;

import {Amortization} from "contracts/libraries/Amortization.sol";

/// @title In-source assertions for Solidity's SMTChecker (CHC engine), a second line beside the
/// Z3 models: the arithmetic the contracts execute, checked on the Solidity code itself.
contract InterestSMT {
    /// P6: a period's interest is never short of the exact amount, and over it by less than one unit.
    function interestRoundsUp(uint128 principal, uint16 rateBps) external pure {
        uint256 i = Amortization.interest(principal, rateBps);
        assert(i * 10_000 >= uint256(principal) * rateBps);
        assert(i * 10_000 < uint256(principal) * rateBps + 10_000);
    }
}

contract DivisionSMT {
    /// P4: Treasury._distribute divides (amount + carry) among n members; nothing is lost and the
    /// remainder carried is below one unit per member.
    function equalDivision(uint128 amount, uint128 carry, uint64 members) external pure {
        require(members > 0);
        uint256 pool = uint256(amount) + carry;
        uint256 perShare = pool / members;
        uint256 remainder = pool - perShare * members;
        assert(perShare * members + remainder == pool);
        assert(remainder < members);
    }
}

contract FillSMT {
    /// P9: CommonStock._fill at the clearing rate never fills a bid beyond its amount.
    function fillWithinBid(uint64 before, uint64 amount, uint64 need, uint64 total) external pure {
        require(total > 0 && need <= total && uint256(before) + amount <= total);
        uint256 fill = ((uint256(before) + amount) * need) / total - (uint256(before) * need) / total;
        assert(fill <= amount);
    }
}
