"""Property probes: short scenarios on a freshly deployed commune that assert one property each.

They run against any build of the contracts (the mutants' included) and raise AssertionError
naming the property and what the chain did.
"""

from __future__ import annotations

from typing import Any

from vcengine.chains import TesterChain
from vcengine.client import ContractReverted
from vcengine.deploy import DAY, CommuneParams, Deployment, deploy_commune

UNIT = 10**6


def _commune(artifacts: Any) -> tuple[Deployment, list]:
    chain = TesterChain()
    a = chain.accounts
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2),
                       artifacts=artifacts)
    for x in a[:9]:
        d.test_token.faucet(x.address, 10**12, sender=x)
    return d, a


def _reverts(action: Any, name: str) -> bool:
    try:
        action()
    except ContractReverted as exc:
        return exc.name == name
    return False


def _finance(d: Deployment, renter: Any, lender: Any, price: int = 1_000 * UNIT, rent: int = 300 * UNIT) -> int:
    stock = d.stock
    asset = stock.request_asset("ipfs://probe", price, d.chain.accounts[10].address, rent, 4,
                                d.chain.now() + 3_600, sender=renter).asset_id
    bid = stock.bid(asset, price, 200, sender=lender).bid_id
    d.chain.advance_time(3_600)
    stock.settle(asset, sender=renter)
    stock.claim(bid, sender=lender)
    return asset


def abi_nonpayable(artifacts: Any) -> None:
    """P3: no function of the membership contract accepts value."""
    payable = [f.get("name", f["type"]) for f in artifacts["Commune"].abi if f.get("stateMutability") == "payable"]
    assert not payable, f"P3: payable membership entry points: {payable}"


def probe_commitments(artifacts: Any) -> None:
    """P10: a member who rents an asset cannot leave."""
    d, a = _commune(artifacts)
    _finance(d, a[0], a[4])
    assert _reverts(lambda: d.commune.leave(sender=a[0]), "CommuneMemberCommitted"), \
        "P10: a renting member left the commune"


def probe_payouts(artifacts: Any) -> None:
    """P4: equal division with the remainder carried; later members get nothing earlier; leavers keep theirs."""
    d, a = _commune(artifacts)
    t = d.treasury
    t.deposit_income(100, sender=a[5])  # 3 members: 33 each, 1 carried
    assert t.carry() == 1, f"P4: remainder not carried (carry {t.carry()})"
    claim = d.commune.submit_labour(10, "ipfs://w", sender=a[3]).claim_id
    d.commune.attest(claim, sender=a[0])
    d.commune.attest(claim, sender=a[1])
    d.commune.join(sender=a[3])
    assert t.claimable(a[3].address) == 0, f"P4: a new member was owed {t.claimable(a[3].address)} of earlier income"
    d.commune.leave(sender=a[2])
    assert t.claimable(a[2].address) == 33, f"P4: a leaver kept {t.claimable(a[2].address)} of 33"
    t.deposit_income(29, sender=a[5])  # (29 + 1) / 3 = 10
    owed = [t.claimable(x.address) for x in (a[0], a[1], a[3])]
    assert owed == [43, 43, 10], f"P4: entitlements {owed}, expected [43, 43, 10]"
    held = d.token.balance_of(t.address)
    assert held == sum(owed) + 33 + t.carry(), f"P5: treasury holds {held}, owes {sum(owed) + 33 + t.carry()}"


def probe_rent(artifacts: Any) -> None:
    """P6: while bonds are outstanding, rent pays the bondholders first."""
    d, a = _commune(artifacts)
    asset = _finance(d, a[0], a[4])
    d.stock.pay_rent(asset, 1, sender=a[0])
    paid = d.stock.series(asset).total_paid()
    assert paid == 300 * UNIT, f"P6: the bonds received {paid} of a 300 rent while 1,000 is owed"
    assert d.treasury.total_income() == 0, f"P6: members received {d.treasury.total_income()} before the bondholders"


def probe_auction(artifacts: Any) -> None:
    """P9: bids at the clearing rate share the principal still needed pro rata; the vendor gets the price."""
    d, a = _commune(artifacts)
    stock = d.stock
    asset = stock.request_asset("ipfs://probe", 100, a[10].address, 60, 2, d.chain.now() + 3_600, sender=a[0]).asset_id
    bids = [stock.bid(asset, 50, 9, sender=a[i]).bid_id for i in (4, 5, 6)]
    d.chain.advance_time(3_600)
    stock.settle(asset, sender=a[0])
    fills = [stock.bid_outcome(b)[0] for b in bids]
    assert fills == [33, 33, 34], f"P9: fills at the clearing rate {fills}, expected [33, 33, 34]"


def probe_rental(artifacts: Any) -> None:
    """P10 and P7: only members bid for rentals; nobody reclaims before the grace period."""
    d, a = _commune(artifacts)
    asset = _finance(d, a[0], a[4])
    d.stock.pay_rent(asset, 1, sender=a[0])
    assert _reverts(lambda: d.stock.reclaim(asset, sender=a[8]), "ReclaimNotDue"), \
        "P7: an asset whose rent is paid was reclaimed"
    d.stock.return_asset(asset, sender=a[0])
    assert _reverts(lambda: d.stock.bid_rent(asset, 100 * UNIT, 3, sender=a[5]), "StockNotMember"), \
        "P10: a non-member bid for a rental"


def probe_bonds(artifacts: Any) -> None:
    """P5: a bond transfer moves future payments only; holders are never owed more than was paid."""
    d, a = _commune(artifacts)
    asset = _finance(d, a[0], a[4])
    series = d.stock.series(asset)
    d.stock.pay_rent(asset, 1, sender=a[0])
    series.transfer(a[5].address, 400 * UNIT, sender=a[4])
    d.stock.pay_rent(asset, 1, sender=a[0])
    owed = series.pay_withdrawable(a[4].address) + series.pay_withdrawable(a[5].address)
    assert owed == series.total_paid(), f"P5: holders are owed {owed} of {series.total_paid()} paid"
    assert series.pay_withdrawable(a[4].address) == 480 * UNIT, \
        f"P5: the seller is owed {series.pay_withdrawable(a[4].address)}, expected all of the first 300 and 60% of the next"
    assert series.pay_withdrawable(a[5].address) == 120 * UNIT, \
        f"P5: the buyer of 40% is owed {series.pay_withdrawable(a[5].address)} of the next 300"
