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
    """P6: while bonds are outstanding, rent pays the bondholders first (the first period, paid at
    settlement, and the next, paid by the renter: 600 in all against 1,000 owed)."""
    d, a = _commune(artifacts)
    asset = _finance(d, a[0], a[4])
    d.stock.pay_rent(asset, 1, sender=a[0])
    paid = d.stock.series(asset).total_paid()
    assert paid == 600 * UNIT, f"P6: the bonds received {paid} of two 300 rents while 1,000 is owed"
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
    """P5: a bond transfer moves future payments only; holders are never owed more than was paid.
    Three rents of 300 reach the series (the first at settlement): the seller keeps the first two
    and 60% of the third, the buyer of 40% gets 40% of the third."""
    d, a = _commune(artifacts)
    asset = _finance(d, a[0], a[4])
    series = d.stock.series(asset)
    d.stock.pay_rent(asset, 1, sender=a[0])
    series.transfer(a[5].address, 400 * UNIT, sender=a[4])
    d.stock.pay_rent(asset, 1, sender=a[0])
    owed = series.pay_withdrawable(a[4].address) + series.pay_withdrawable(a[5].address)
    assert owed == series.total_paid(), f"P5: holders are owed {owed} of {series.total_paid()} paid"
    assert series.pay_withdrawable(a[4].address) == 780 * UNIT, \
        f"P5: the seller is owed {series.pay_withdrawable(a[4].address)}, expected all of the first 600 and 60% of the next 300"
    assert series.pay_withdrawable(a[5].address) == 120 * UNIT, \
        f"P5: the buyer of 40% is owed {series.pay_withdrawable(a[5].address)} of the next 300"


def probe_fee_token(artifacts: Any) -> None:
    """P5: a settlement token that delivers less than asked (a 1% fee) is refused at the transfer."""
    chain = TesterChain()
    a = chain.accounts
    probe = _mock_on(chain, a[0], artifacts, "FeeOnTransferToken", a[9].address)
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2),
                       token_address=probe.address, artifacts=artifacts)
    for x in a[:5]:
        probe.transact("faucet", x.address, 10**12, sender=x)
    asset = d.stock.request_asset("ipfs://probe", 1_000 * UNIT, a[10].address, 300 * UNIT, 4, chain.now() + 3_600,
                                  sender=a[0]).asset_id
    probe.transact("setFeeBps", 100, sender=a[0])
    assert _reverts(lambda: d.stock.bid(asset, 600 * UNIT, 200, sender=a[4]), "SettlementTokenInexact"), \
        "P5: a bid that delivered 99% of its escrow was booked in full"
    assert d.token.balance_of(d.stock.address) == d.stock.escrow_held() + d.stock.credits_held(), \
        "P5: the stock holds other than its escrow plus its credits"


def _mock_on(chain: Any, sender: Any, artifacts: Any, name: str, *args: Any) -> Any:
    """Deploy a test double (a mutant's build carries the project's mocks)."""
    from vcengine.client import ContractClient

    client = type(f"{name}Client", (ContractClient,), {"CONTRACT": name})
    return client.deploy(chain, sender, *args, artifacts=artifacts)


def probe_accrual_cast(artifacts: Any) -> None:
    """P6: the accrued-period counter never wraps: with one-second periods, 2**32 periods after
    settlement the debt's accrual is refused (SafeCast) instead of counting interest again."""
    chain = TesterChain()
    a = chain.accounts
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2,
                                                  period_seconds=1, grace_seconds=1, sale_seconds=1),
                       artifacts=artifacts)
    for x in a[:5]:
        d.test_token.faucet(x.address, 10**12, sender=x)
    # 10,000 at 0% repaid by 10 a period over 1,200 periods: the debt is outstanding for long.
    asset = d.stock.request_asset("ipfs://probe", 10_000, a[10].address, 10, 1_200, chain.now() + 10,
                                  sender=a[0]).asset_id
    d.stock.bid(asset, 10_000, 0, sender=a[4])
    chain.advance_time(10)
    d.stock.settle(asset, sender=a[0])
    chain.advance_time(2**32)
    assert _reverts(lambda: d.stock.pay_rent(asset, 1, sender=a[0]), "SafeCastOverflowedUintDowncast"), \
        "P6: the accrued-period counter wrapped at 2**32 periods"


def probe_eoa_only(artifacts: Any) -> None:
    """P3: a commune that admits only externally owned accounts refuses a contract wallet's join."""
    chain = TesterChain()
    a = chain.accounts
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2, eoa_only=True),
                       artifacts=artifacts)
    wallet = _mock_on(chain, a[5], artifacts, "ContractWallet", a[5].address)
    claim = d.commune.contract.encode_abi("submitLabour", args=[10, "ipfs://wallet-work"])
    wallet.transact("execute", d.commune.address, claim, sender=a[5])
    claim_id = d.commune.claim_count()
    d.commune.attest(claim_id, sender=a[0])
    d.commune.attest(claim_id, sender=a[1])
    join = d.commune.contract.encode_abi("join", args=[])
    assert _reverts(lambda: wallet.transact("execute", d.commune.address, join, sender=a[5]),
                    "CommuneContractAccount"), "P3: a contract wallet joined an EOA-only commune"


def probe_refused_settlement(artifacts: Any) -> None:
    """P5 and P10: when the token refuses a rental auction's first payment (the series is blocklisted),
    the leader's escrow is credited back, never stuck."""
    chain = TesterChain()
    a = chain.accounts
    token = _mock_on(chain, a[0], artifacts, "BlocklistToken")
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2),
                       token_address=token.address, artifacts=artifacts)
    for x in a[:5]:
        token.transact("faucet", x.address, 10**12, sender=x)
    asset = _finance(d, a[0], a[4])
    d.stock.return_asset(asset, sender=a[0])
    d.stock.bid_rent(asset, 400 * UNIT, 3, sender=a[1])
    token.transact("setBlocked", d.stock.asset(asset).series, True, sender=a[0])
    chain.advance_time(d.params.sale_seconds)
    d.stock.settle_rental(asset, sender=a[2])
    assert d.stock.credits(a[1].address) == 400 * UNIT, \
        f"P5: the leader's escrow is not withdrawable after a refused payment (credits {d.stock.credits(a[1].address)})"


def probe_repeat_defaulter(artifacts: Any) -> None:
    """P6: no member who defaulted on an asset may rent it again while its bonds are outstanding
    (members taking turns to default cannot hold it at an interest-only rent while its debt grows)."""
    d, a = _commune(artifacts)
    stock, chain = d.stock, d.chain
    asset = _finance(d, a[0], a[4])  # a[0] rents; its first period was paid at settlement

    def default_now() -> None:
        chain.advance_time(stock.reclaimable_at(asset)[0] - chain.now())
        stock.reclaim(asset, sender=a[8])

    default_now()
    stock.bid_rent(asset, 400 * UNIT, 3, sender=a[1])
    chain.advance_time(d.params.sale_seconds)
    stock.settle_rental(asset, sender=a[8])
    default_now()  # a[1] defaults too
    assert _reverts(lambda: stock.bid_rent(asset, 400 * UNIT, 3, sender=a[0]), "RentBidByDefaulter"), \
        "P6: a member who defaulted on an asset rents it again while its bonds are outstanding"


def probe_overdue_return(artifacts: Any) -> None:
    """P6: returning an asset with a period due and unpaid is a default: the renter may not rent it
    again while its bonds are outstanding (else return-before-reclaim repeats the default loop)."""
    d, a = _commune(artifacts)
    stock, chain = d.stock, d.chain
    asset = _finance(d, a[0], a[4])
    chain.advance_time(stock.rental(asset).start + d.params.period_seconds - chain.now())  # period 1 due
    stock.return_asset(asset, sender=a[0])
    assert stock.has_defaulted(asset, a[0].address), \
        "P6: a renter who returned the asset with rent due and unpaid is not a defaulter"


def probe_join_release(artifacts: Any) -> None:
    """P4: a join first releases the begun periods' income among the members before it; the joiner gets
    none of it and none of it is owed to nobody."""
    d, a = _commune(artifacts)
    stock, treasury, chain = d.stock, d.treasury, d.chain
    asset = _finance(d, a[0], a[4], price=100 * UNIT, rent=300 * UNIT)  # the first period redeems it
    assert stock.is_fully_owned(asset)
    stock.pay_rent(asset, 3, sender=a[0])  # periods 1 to 3: 300 each, none begun
    claim = d.commune.submit_labour(10, "ipfs://w", sender=a[5]).claim_id
    d.commune.attest(claim, sender=a[1])
    d.commune.attest(claim, sender=a[2])
    before = [treasury.claimable(x.address) for x in a[:3]]
    chain.advance_time(treasury.grid_origin() + d.params.period_seconds - chain.now())  # grid period 1 begins
    d.commune.join(sender=a[5])
    after = [treasury.claimable(x.address) for x in a[:3]]
    assert [y - x for x, y in zip(before, after)] == [100 * UNIT] * 3, \
        f"P4: a period's 300 divided among the members before a join gave them {after} from {before}"
    owed = sum(treasury.claimable(x.address) for x in a[:6]) + treasury.carry() + treasury.scheduled_income()
    assert owed == treasury.owed_tokens(), f"P4: {treasury.owed_tokens() - owed} base units owed to nobody"


# ------------------------------------------------------------ clones and parameters

_PROXY_HEAD = bytes.fromhex("363d3d373d3d3d363d73")  # EIP-1167 around the implementation's address
_PROXY_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")


def _hand_made_clones(d: Deployment, owner: Any, governance: str, period: int) -> tuple[Any, Any]:
    """A commune's membership contract and common stock cloned by `owner` with its own arguments
    (`CommuneArgs`' table: `owner` is their factory, `governance` may change parameters), not yet
    initialised; built from the EIP-1167 bytes independently of the factory."""
    from eth_utils import to_bytes, to_checksum_address
    from web3.utils.address import get_create_address

    from vcengine.client import ErrorDecoder, _send
    from vcengine.commune import CommuneClient
    from vcengine.deploy import chain_factory
    from vcengine.stock import CommonStockClient

    chain, artifacts = d.chain, d.commune.artifacts
    made = chain_factory(chain, owner, artifacts)
    nonce = chain.w3.eth.get_transaction_count(owner.address, "pending")
    at = [to_checksum_address(get_create_address(owner.address, nonce + i)) for i in range(3)]
    args = b"".join(to_bytes(hexstr=x) for x in (owner.address, at[0], at[1], at[2], d.token.address,
                                                 made.series_implementation, governance))
    args += (chain.now() + 1).to_bytes(8, "big") + period.to_bytes(4, "big") + bytes([6, 0])
    for name in ("Commune", "Treasury", "CommonStock"):
        runtime = _PROXY_HEAD + to_bytes(hexstr=made.implementations[name]) + _PROXY_TAIL + args
        initcode = bytes.fromhex("61") + len(runtime).to_bytes(2, "big") + bytes.fromhex("3d81600a3d39f3") + runtime
        _send(chain, {"data": "0x" + initcode.hex()}, owner, 0, ErrorDecoder([]), "clone", "constructor")
    return CommuneClient(chain, at[0], artifacts), CommonStockClient(chain, at[2], artifacts)


def probe_parameter_bounds(artifacts: Any) -> None:
    """P12: the factory cannot create a commune with a parameter out of bounds (a quorum cap of 0, a
    grace period of 0), and governance cannot set one."""
    from vcengine.deploy import CommuneFactoryClient, _create_config, chain_factory

    chain = TesterChain()
    a = chain.accounts
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2),
                       artifacts=artifacts)
    factory = CommuneFactoryClient(chain, chain_factory(chain, a[0], artifacts).factory, artifacts)
    founders = [x.address for x in a[:3]]
    assert _reverts(lambda: factory.transact("createMembership", "VC", "VC", founders, 10, 0, False, sender=a[0]),
                    "CommuneInvalidParameter"), "P12: a membership created with a quorum cap of 0"
    bad = CommuneParams(founders=founders, quorum_cap=2, grace_seconds=0)
    assert _reverts(lambda: factory.transact("create", _create_config(bad, founders, d.token.address), sender=a[0]),
                    "StockInvalidParameter"), "P12: a commune created with a grace period of 0"
    commune, stock = _hand_made_clones(d, a[0], a[0].address, 1_000)
    commune.transact("initialize", "VC", "VC", founders, 10, 2, sender=a[0])
    stock.transact("initialize", (1_000, 300, 200, 1_000, 0), sender=a[0])
    assert _reverts(lambda: commune.transact("setParameters", 10, 0, sender=a[0]), "CommuneInvalidParameter"), \
        "P12: governance set a quorum cap of 0"
    assert _reverts(lambda: stock.transact("setParameters", (1_000, 0, 200, 1_000, 0), sender=a[0]),
                    "StockInvalidParameter"), "P12: governance set a grace period of 0"


def probe_only_factory(artifacts: Any) -> None:
    """P1/P12: only a clone's factory initialises it (a fresh clone, not yet initialised, refuses
    anyone else), and only once."""
    chain = TesterChain()
    a = chain.accounts
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2),
                       artifacts=artifacts)
    founders = [x.address for x in a[:3]]
    commune, stock = _hand_made_clones(d, a[0], a[0].address, 1_000)
    assert _reverts(lambda: commune.transact("initialize", "VC", "VC", [a[5].address], 1, 1, sender=a[5]),
                    "CommuneOnlyFactory"), "P1: a stranger initialised a membership clone"
    assert _reverts(lambda: stock.transact("initialize", (1_000, 300, 200, 1_000, 0), sender=a[5]),
                    "StockOnlyFactory"), "P12: a stranger initialised a common stock clone"
    commune.transact("initialize", "VC", "VC", founders, 10, 2, sender=a[0])
    assert _reverts(lambda: commune.transact("initialize", "VC", "VC", founders, 10, 2, sender=a[0]),
                    "InvalidInitialization"), "P1: a membership clone initialised twice"


def probe_snapshots(artifacts: Any) -> None:
    """P11: a parameter change leaves what exists on its terms: a bond auction keeps the rate cap of
    its request, a rental the grace period of its start, a liquidation the reserve it opened with."""
    chain = TesterChain()
    a = chain.accounts
    d = deploy_commune(chain, a[0], CommuneParams(founders=[x.address for x in a[:3]], quorum_cap=2),
                       artifacts=artifacts)
    founders = [x.address for x in a[:3]]
    period, grace, sale = 1_000, 300, 200
    commune, stock = _hand_made_clones(d, a[0], a[0].address, period)
    commune.transact("initialize", "VC", "VC", founders, 10, 2, sender=a[0])
    stock.transact("initialize", (period, grace, sale, 1_000, 5_000), sender=a[0])
    for x in (a[0], a[4]):
        d.test_token.faucet(x.address, 10**12, sender=x)
    asset = stock.request_asset("ipfs://probe", 1_000, a[10].address, 200, 10, chain.now() + 10,
                                sender=a[0]).asset_id
    stock.transact("setParameters", (period, grace, sale, 100, 5_000), sender=a[0])
    stock.bid(asset, 1_000, 500, sender=a[4])  # within the request's cap (1,000), above the live one (100)
    chain.advance_time(10)
    stock.settle(asset, sender=a[0])
    assert stock.call("assetInfo", asset)[3] == 3, "P11: the auction did not clear under its own rate cap"
    stock.transact("setParameters", (period, grace * 30, sale, 100, 5_000), sender=a[0])
    chain.advance_time(period + grace)  # the rental's grace (300), not the live one (9,000)
    stock.reclaim(asset, sender=a[5])
    chain.advance_time(sale + 1)
    stock.settle_rental(asset, sender=a[5])  # no bid: a liquidation opens with the reserve in force (50%)
    stock.transact("setParameters", (period, grace, sale, 1_000, 0), sender=a[0])
    assert stock.liquidation_reserve(asset) == 500, "P11: a liquidation's reserve follows the live parameter"
