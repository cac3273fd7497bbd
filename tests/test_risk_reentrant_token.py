"""Extra risk: a settlement token whose transfers call back into the commune (ERC-777 / ERC-1363 style).

HookToken calls `hookTarget` with `hookData` after every transfer and records the outcome
(lastHookSuccess, lastHookReturn) without propagating it, so a test can re-enter any function of any
commune contract from inside a token transfer and read what happened. The caller of the re-entrant
call is the token contract.

Every external state-changing function of CommonStock, Treasury, BondSeries and Commune is re-entered
from inside a transfer made by that same contract: CommonStock.withdraw (the vendor's credit),
Treasury.claimPayout (a founder's income), BondSeries.withdrawPayments (a lender's payments) and
Commune.sweep (a stray transfer). Each re-entrant call is refused with the error asserted, or (where
it is harmless) succeeds and the books stay exact. Then the attacks that could matter: a hook that
moves more tokens into or out of the measured contract (SettlementTokenInexact), a nested withdrawal
by a bondholder token, surplus sweeps that would re-enter the paying treasury, and the token itself
as a member leaving mid-payout.

Old code: CommonStock's requestAsset and returnAsset were unguarded, nothing measured balances around
a transfer, and there were no sweeps; these pin that every path is now guarded or harmless.
"""

from __future__ import annotations

import pytest

from adversarial import (  # noqa: F401
    GRACE, PERIOD, UNIT, World, arts, assert_books_exact, decode_error, deploy, expect_revert, finance,
    module_chain, series_of, vendor,
)

MAX = 2**63


@pytest.fixture(scope="module")
def hook_world(module_chain, arts):
    """HookToken, hook off during setup. accounts[0] rents asset 1 (1,000 at 2%, lenders accounts[3] and
    [4], 500 each): its series holds 300 (period 0). 300 deposited: 100 for each founder. The vendor is
    credited 1,000. The token contract itself holds 1,000 of its own tokens (for hooks that move them)."""
    chain, a = module_chain, module_chain.accounts
    d = deploy(chain, arts, token="HookToken", fund=9, quorum_cap=2)
    asset = finance(d, a[0], a[3:5])
    d.treasury.deposit_income(300 * UNIT, sender=a[5])
    d.tok.transact("faucet", d.token.address, 1_000 * UNIT, sender=a[9])
    series = series_of(d, asset)
    due = d.stock.rental(asset).start + PERIOD + GRACE
    return World(d, asset=asset, series=series, due=due)


@pytest.fixture
def w(hook_world):
    return hook_world.reset()


def hook(w, target, function: str, *args):
    data = target.contract.encode_abi(function, args=list(args))
    # a gas limit skips the estimate (the embedded chain runs each transaction twice otherwise)
    w.d.tok.transact("setHook", target.address, bytes.fromhex(data[2:]), sender=w.chain.accounts[9], gas=300_000)


def unhook(w):
    w.d.tok.transact("setHook", "0x" + "00" * 20, b"", sender=w.chain.accounts[9])


def hook_outcome(w):
    """(success, error name, error args) of the last hook call; the name is "" when it succeeded."""
    success = w.d.tok.call("lastHookSuccess")
    if success:
        return True, "", {}
    name, args = decode_error(w.d.stock, w.d.tok.call("lastHookReturn"))
    return False, name, args


# The outer call of each context: one transfer by the contract re-entered, and who pays whom how much.
def outer(w, context):
    d, a = w.d, w.chain.accounts
    gas = 2_000_000  # sent without an estimate; a revert would still raise ContractReverted once mined
    if context == "CommonStock":
        d.stock.transact("withdraw", sender=a[10], gas=gas)
    elif context == "Treasury":
        d.treasury.transact("claimPayout", sender=a[0], gas=gas)
    elif context == "BondSeries":
        w.series.transact("withdrawPayments", sender=a[3], gas=gas)
    else:
        d.commune.transact("sweep", sender=a[9], gas=gas)


def outer_payment(w, context):
    """(payer, payee, amount) of the outer call's one transfer, by hand: the vendor's 1,000; accounts[0]'s
    100 of income; accounts[3]'s half of the series' 300; the 30 sent to the Commune."""
    d, a = w.d, w.chain.accounts
    return {"CommonStock": (d.stock.address, vendor(d), 1_000 * UNIT),
            "Treasury": (d.treasury.address, a[0].address, 100 * UNIT),
            "BondSeries": (w.series.address, a[3].address, 150 * UNIT),
            "Commune": (d.commune.address, d.treasury.address, 30 * UNIT)}[context]


def target_of(w, context):
    return {"CommonStock": w.d.stock, "Treasury": w.d.treasury, "BondSeries": w.series,
            "Commune": w.d.commune}[context]


GUARD = ("ReentrancyGuardReentrantCall", {})
TOKEN = "token"  # stands for the token's address in the tables
A0, A3, A5 = "a0", "a3", "a5"


def resolve(w, value):
    names = {TOKEN: w.d.token.address, A0: w.chain.accounts[0].address, A3: w.chain.accounts[3].address,
             A5: w.chain.accounts[5].address, "stock": w.d.stock.address, "commune": w.d.commune.address,
             "vendor": vendor(w.d), "due": w.due}
    if isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, tuple):
        return tuple(resolve(w, v) for v in value)
    if isinstance(value, dict):
        return {k: resolve(w, v) for k, v in value.items()}
    return value


# (context, function, args, expected): expected is (error name, args), or None when the call succeeds.
CASES = [
    # CommonStock, re-entered from withdraw's payout: every guarded function is refused by the guard;
    # runSettlement is for the stock itself; reclaim (unguarded) finds the rental not yet overdue.
    ("CommonStock", "requestAsset", ("ipfs://x", 1, "vendor", 1, 1, MAX), GUARD),
    ("CommonStock", "bid", (1, 1, 0), GUARD),
    ("CommonStock", "settle", (1,), GUARD),
    ("CommonStock", "runSettlement", (1, 0, 0), ("StockOnlySelf", {"caller": TOKEN})),
    ("CommonStock", "claim", (1,), GUARD),
    ("CommonStock", "payRent", (1, 1), GUARD),
    ("CommonStock", "returnAsset", (1,), GUARD),
    ("CommonStock", "reclaim", (1,), ("ReclaimNotDue", {"assetId": 1, "reclaimableAt": "due"})),
    ("CommonStock", "bidRent", (1, 1, 1), GUARD),
    ("CommonStock", "settleRental", (1,), GUARD),
    ("CommonStock", "bidLiquidation", (1, 1), GUARD),
    ("CommonStock", "settleLiquidation", (1,), GUARD),
    ("CommonStock", "withdraw", (), GUARD),
    # the clone's one-time set-up and the governance's parameter change: refused to anyone else
    ("CommonStock", "initialize", ((86_400, 1, 1, 1, 0),), ("InvalidInitialization", {})),
    ("CommonStock", "setParameters", ((86_400, 1, 1, 1, 0),),
     ("StockOnlyGovernance", {"caller": TOKEN, "governance": "0x" + "00" * 20})),
    ("CommonStock", "sweep", (), GUARD),
    # Treasury, re-entered from claimPayout's payout.
    ("Treasury", "claimPayout", (), GUARD),
    ("Treasury", "depositIncome", (1,), GUARD),
    ("Treasury", "release", (1,), GUARD),
    ("Treasury", "sweep", (), GUARD),
    ("Treasury", "recordRent", (1, A0, 1, 1, 0, 0, 1), ("TreasuryUnauthorized", {"caller": TOKEN, "expected": "stock"})),
    ("Treasury", "recordIncome", (1,), ("TreasuryUnauthorized", {"caller": TOKEN, "expected": "stock"})),
    ("Treasury", "refundRental", (1, A0, 1, 1), GUARD),  # guarded too (found in review): the guard answers first
    ("Treasury", "onJoin", (A5,), ("TreasuryUnauthorized", {"caller": TOKEN, "expected": "commune"})),
    ("Treasury", "onLeave", (A0,), ("TreasuryUnauthorized", {"caller": TOKEN, "expected": "commune"})),
    # BondSeries (no guard: state is written before every transfer), re-entered from withdrawPayments.
    ("BondSeries", "withdrawPayments", (), ("BondSeriesNothingToWithdraw", {"holder": TOKEN})),
    ("BondSeries", "sweep", (), ("BondSeriesNothingToSweep", {})),
    ("BondSeries", "mint", (A5, 1), ("BondSeriesOnlyIssuer", {"caller": TOKEN})),
    ("BondSeries", "pay", (1,), ("BondSeriesOnlyIssuer", {"caller": TOKEN})),
    ("BondSeries", "transfer", (A5, 1), ("ERC20InsufficientBalance", {"sender": TOKEN, "balance": 0, "needed": 1})),
    ("BondSeries", "approve", (A5, 1), None),
    ("BondSeries", "transferFrom", (A3, A5, 1),
     ("ERC20InsufficientAllowance", {"spender": TOKEN, "allowance": 0, "needed": 1})),
    # Commune (no guard), re-entered from sweep's payout to the treasury.
    ("Commune", "submitLabour", (1, "ipfs://from-the-token"), None),
    ("Commune", "attest", (1,), ("CommuneNotMember", {"account": TOKEN})),
    ("Commune", "join", (), ("LabourBelowThreshold", {"worker": TOKEN, "counted": 0, "threshold": 10})),
    ("Commune", "leave", (), ("CommuneNotMember", {"account": TOKEN})),
    ("Commune", "sweep", (), ("CommuneNothingToSweep", {})),
    ("Commune", "transferFrom", (A0, A5, 1), ("CommuneShareNotTransferable", {"shareId": 1})),
    ("Commune", "safeTransferFrom(address,address,uint256)", (A0, A5, 1), ("CommuneShareNotTransferable", {"shareId": 1})),
    ("Commune", "safeTransferFrom(address,address,uint256,bytes)", (A0, A5, 1, b""),
     ("CommuneShareNotTransferable", {"shareId": 1})),
    ("Commune", "approve", (A5, 1), ("CommuneShareApprovalDisabled", {"operator": A5})),
    ("Commune", "setApprovalForAll", (A5, True), ("CommuneShareApprovalDisabled", {"operator": A5})),
    ("Commune", "initialize", ("VC", "VC", (A5,), 1, 1), ("InvalidInitialization", {})),
    ("Commune", "setParameters", (1, 1), ("CommuneOnlyGovernance", {"caller": TOKEN})),
]


def test_the_table_covers_every_state_changing_function(arts):
    """The table names every external non-view function of the four contracts (from their ABIs)."""
    for contract in ("CommonStock", "Treasury", "BondSeries", "Commune"):
        functions = {f"{i['name']}({','.join(x['type'] for x in i['inputs'])})" for i in arts[contract].abi
                     if i["type"] == "function" and i["stateMutability"] not in ("view", "pure")}
        named = [f for c, f, _, _ in CASES if c == contract]
        covered = {f for f in functions if f in named or f.split("(")[0] in named}
        assert covered == functions, (contract, sorted(functions - covered))
        assert len(named) == len(functions), (contract, named)


@pytest.mark.parametrize("context, function, args, expected", CASES,
                         ids=[f"{c}.{f.split('(')[0]}{'' if '(' not in f else len(a)}" for c, f, a, _ in CASES])
def test_reentry_from_inside_a_transfer_is_refused_or_harmless(w, context, function, args, expected):
    """The outer call succeeds and moves exactly its one payment; the re-entrant call fails with the error
    in the table (and so changed nothing), or succeeds harmlessly and the books stay exact."""
    d, a = w.d, w.chain.accounts
    if context == "Commune":
        d.token.transfer(d.commune.address, 30 * UNIT, sender=a[8])  # the stray tokens Commune.sweep pays out
    payer, payee, amount = outer_payment(w, context)
    before = (d.token.balance_of(payer), d.token.balance_of(payee))
    calls = d.tok.call("hookCalls")
    hook(w, target_of(w, context), function, *resolve(w, args))
    outer(w, context)
    assert d.tok.call("hookCalls") == calls + 1  # one transfer, one re-entrant call
    assert (d.token.balance_of(payer), d.token.balance_of(payee)) == (before[0] - amount, before[1] + amount)
    if expected is not None:
        name, error_args = resolve(w, expected)
        assert hook_outcome(w) == (False, name, error_args)
        return
    assert hook_outcome(w) == (True, "", {})
    if function == "approve":
        assert w.series.call("allowance", d.token.address, a[5].address) == 1
    else:
        assert d.commune.labour_claim(d.commune.claim_count()).worker == d.token.address
    assert_books_exact(d, (d.token.address,))


def test_a_hook_that_moves_more_tokens_in_is_refused_as_inexact(w):
    """The token, inside the renter's rent transfer to the series (300, all principal in period 0), moves
    5 of its own tokens to the series too: the series gained 305, SettlementTokenInexact(token, 300, 305);
    inside a deposit of 100 into the treasury it moves 5 there: (100, 105). Both whole calls revert."""
    d, a = w.d, w.chain.accounts
    hook(w, d.tok, "transfer", w.series.address, 5 * UNIT)
    expect_revert(lambda: d.stock.pay_rent(w.asset, 1, sender=a[0], approve=False), "SettlementTokenInexact",
                  token=d.token.address, expected=300 * UNIT, actual=305 * UNIT)
    hook(w, d.tok, "transfer", d.treasury.address, 5 * UNIT)
    expect_revert(lambda: d.treasury.deposit_income(100 * UNIT, sender=a[5]), "SettlementTokenInexact",
                  token=d.token.address, expected=100 * UNIT, actual=105 * UNIT)
    unhook(w)
    assert_books_exact(d, (d.token.address,))


def test_a_nested_withdrawal_by_a_bondholder_token_makes_the_outer_withdrawal_inexact(w):
    """BondSeries.withdrawPayments has no guard. The token holds 100 bonds (from accounts[4], after the
    series received 300) and the series then receives 300 more (totalPaid 600): accounts[3] may withdraw
    500 * 600 / 1,000 = 300, the token (100 * 600 - 100 * 300) / 1,000 = 30. Re-entering from inside
    accounts[3]'s payout, the token's own withdrawal makes the series lose 330 in that payout: the
    outer withdrawal reverts SettlementTokenInexact(token, 300, 330) and nothing is paid twice."""
    d, a = w.d, w.chain.accounts
    w.series.transfer(d.token.address, 100 * UNIT, sender=a[4])
    d.stock.pay_rent(w.asset, 1, sender=a[0], approve=False)
    assert (w.series.call("withdrawable", a[3].address), w.series.call("withdrawable", d.token.address)) == (
        300 * UNIT, 30 * UNIT)
    hook(w, w.series, "withdrawPayments")
    expect_revert(lambda: w.series.transact("withdrawPayments", sender=a[3]), "SettlementTokenInexact",
                  token=d.token.address, expected=300 * UNIT, actual=330 * UNIT)
    unhook(w)
    w.series.transact("withdrawPayments", sender=a[3])
    assert w.series.call("withdrawable", a[3].address) == 0
    assert_books_exact(d, (d.token.address,))


@pytest.mark.parametrize("sweeper", ["Commune", "BondSeries"])
def test_a_surplus_sweep_cannot_re_enter_the_treasury_mid_payout(w, sweeper):
    """A sweep ends in Treasury.sweep. Called from inside claimPayout's payout (30 stray tokens in the
    Commune, or in the series), it is refused by the treasury's guard: ReentrancyGuardReentrantCall, and
    the 30 stay where they were until swept afterwards (10 more for each founder)."""
    d, a = w.d, w.chain.accounts
    target = d.commune if sweeper == "Commune" else w.series
    d.token.transfer(target.address, 30 * UNIT, sender=a[8])
    hook(w, target, "sweep")
    d.treasury.claim_payout(sender=a[0])
    assert hook_outcome(w) == (False, "ReentrancyGuardReentrantCall", {})
    assert d.token.balance_of(target.address) >= 30 * UNIT
    unhook(w)
    target.transact("sweep", sender=a[9])
    assert [d.treasury.claimable(x.address) for x in a[:3]] == [10 * UNIT, 110 * UNIT, 110 * UNIT]
    assert_books_exact(d, (d.token.address,))


def test_the_token_as_a_member_leaving_mid_payout_leaves_the_books_exact(w):
    """The token earns a share through its own hook calls (it submits 10 units, accounts[0] and [1]
    attest, it joins), 400 is deposited (100 for each of the 4 members), and from inside accounts[0]'s
    payout of its 200 the token leaves: Treasury.onLeave runs in the middle of claimPayout. The token
    keeps its 100, the payout is 200, and the books are exact."""
    d, a = w.d, w.chain.accounts
    trigger = lambda: d.token.transfer(a[8].address, 1, sender=a[7])  # noqa: E731 any transfer runs the hook
    hook(w, d.commune, "submitLabour", 10, "ipfs://token-work")
    trigger()
    claim = d.commune.claim_count()
    d.commune.attest(claim, sender=a[0])
    d.commune.attest(claim, sender=a[1])
    hook(w, d.commune, "join")
    trigger()
    assert d.commune.is_member(d.token.address) and d.commune.member_count() == 4
    unhook(w)
    d.treasury.deposit_income(400 * UNIT, sender=a[5])
    hook(w, d.commune, "leave")
    assert d.treasury.claim_payout(sender=a[0]).amount == 200 * UNIT
    assert hook_outcome(w) == (True, "", {})
    unhook(w)
    assert not d.commune.is_member(d.token.address) and d.commune.member_count() == 3
    assert d.treasury.claimable(d.token.address) == 100 * UNIT
    assert_books_exact(d, (d.token.address,))


@pytest.mark.parametrize("target", ["Treasury", "BondSeries"])
def test_a_sweep_during_an_inbound_payment_finds_nothing_unowed(w, target):
    """Found in review: the stock moved rent into the treasury (and bond service into the series) and
    booked it after, so a hook running during the transfer could call `sweep` and divide the arriving
    tokens as surplus before `recordRent` booked them again: income counted twice, an insolvent
    treasury. Now the payment is booked first: during the transfer the arriving tokens are already
    owed, the sweep finds nothing (TreasuryNothingToSweep / BondSeriesNothingToSweep) and the books stay
    exact. The rent: periods 1..3 (900) after period 0 left 720 of principal: 720 to the bonds, 180 to
    the members (scheduled for periods 1..3: 60 a period)."""
    d, a = w.d, w.chain.accounts
    sink = d.treasury if target == "Treasury" else w.series
    hook(w, sink, "sweep")
    paid = d.stock.pay_rent(w.asset, 3, sender=a[0])
    assert (paid.to_bonds, paid.to_members) == (720 * UNIT, 180 * UNIT)
    success, name, _ = hook_outcome(w)
    assert not success and name == ("TreasuryNothingToSweep" if target == "Treasury" else "BondSeriesNothingToSweep")
    unhook(w)
    assert d.treasury.scheduled_income() == 180 * UNIT  # all three periods to come; nothing divided twice
    assert_books_exact(d)
