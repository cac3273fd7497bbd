"""Adversarial ERC-20 test doubles (contracts/mocks) and the pre-deployment token probe.

The mocks' unit tests run on the embedded chain; expected values are worked out by hand in the
comments. The probe's tests run on the embedded chain and on anvil (``-m anvil``).
"""

from __future__ import annotations

import re

import pytest
from eth_utils import function_signature_to_4byte_selector, keccak

from vcengine.chains import AnvilChain, Chain, TesterChain
from vcengine.client import ContractClient, ContractReverted, InputError, revert_data
from vcengine.paths import CONTRACTS_DIR
from vcengine.token import TestStablecoinClient
from vcengine.token_probe import TokenProbeUnavailable, probe_address, probe_token

MOCKS = ["FeeOnTransferToken", "RebasingToken", "HookToken", "FalseReturningToken", "BlocklistToken", "ContractWallet"]
UNIT = 10**6  # every mock has 6 decimals


class FeeToken(ContractClient):
    CONTRACT = "FeeOnTransferToken"


class RebasingToken(ContractClient):
    CONTRACT = "RebasingToken"


class HookToken(ContractClient):
    CONTRACT = "HookToken"


class FalseToken(ContractClient):
    CONTRACT = "FalseReturningToken"


class BlocklistToken(ContractClient):
    CONTRACT = "BlocklistToken"


class Wallet(ContractClient):
    CONTRACT = "ContractWallet"


class Spreader(ContractClient):
    CONTRACT = "TokenSpreader"


def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


def calldata(client: ContractClient, function: str, *args) -> bytes:
    return bytes.fromhex(client.contract.encode_abi(function, args=list(args))[2:])


# ------------------------------------------------------------------------- NatSpec


def test_new_contracts_carry_natspec_on_every_external_function_and_error(artifacts):
    """What tests/test_cli_networks_scripts_natspec.py checks (it skips mocks/), for every new contract."""
    sources = "\n".join(p.read_text() for p in CONTRACTS_DIR.rglob("*.sol"))
    for name in [*MOCKS, "TokenProbe"]:
        art = artifacts[name]
        documented = set(art.userdoc.get("methods", {})) | set(art.devdoc.get("methods", {}))
        assert not [sig for sig in art.method_identifiers if sig not in documented], name
        for item in art.abi:
            if item["type"] == "error" and re.search(rf"\berror {item['name']}\(", sources):
                sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                assert (art.userdoc.get("errors", {}).get(sig) or [{}])[0].get("notice"), f"{name}: {sig}"
    assert artifacts["TokenProbe"].source == "contracts/probes/TokenProbe.sol"


# ------------------------------------------------------------------ fee on transfer


def test_fee_on_transfer_debits_the_whole_amount_and_delivers_less(chain: Chain, artifacts):
    a, b, c, collector = chain.accounts[:4]
    token = FeeToken.deploy(chain, a, collector.address, artifacts=artifacts)
    assert token.call("decimals") == 6 and token.call("feeBps") == 0  # dormant at deployment
    token.transact("faucet", a.address, 1_000_000, sender=a)

    token.transact("transfer", b.address, 100_000, sender=a)  # fee off: 100,000 arrive
    assert token.call("balanceOf", b.address) == 100_000 and token.call("balanceOf", collector.address) == 0

    token.transact("setFeeBps", 100, sender=c)  # anyone may, in the mock: 1%
    tx = token.transact("transfer", b.address, 250_000, sender=a)
    # fee = 250,000 * 100 / 10,000 = 2,500; b gets 250,000 - 2,500 = 247,500; a: 900,000 - 250,000 = 650,000
    assert token.call("balanceOf", a.address) == 650_000
    assert token.call("balanceOf", b.address) == 100_000 + 247_500
    assert token.call("balanceOf", collector.address) == 2_500
    assert [(e.args["to"], e.args["value"]) for e in tx.events if e.name == "Transfer"] == [
        (collector.address, 2_500), (b.address, 247_500)]

    token.transact("approve", c.address, 40_000, sender=a)
    token.transact("transferFrom", a.address, c.address, 40_000, sender=c)
    # fee = 40,000 * 100 / 10,000 = 400; c gets 39,600; a: 650,000 - 40,000 = 610,000; allowance spent
    assert token.call("balanceOf", c.address) == 39_600 and token.call("balanceOf", a.address) == 610_000
    assert token.call("balanceOf", collector.address) == 2_900 and token.call("allowance", a.address, c.address) == 0

    token.transact("transfer", b.address, 99, sender=a)  # fee = 99 * 100 / 10,000 = 0.99, rounded down to 0
    assert token.call("balanceOf", b.address) == 347_500 + 99 and token.call("feeOn", 99) == 0
    assert token.call("totalSupply") == 1_000_000  # fees move tokens, they mint or burn none

    with pytest.raises(ContractReverted) as info:
        token.transact("transfer", b.address, 609_902, sender=a)  # a holds 610,000 - 99 = 609,901
    assert info.value.name == "ERC20InsufficientBalance"
    assert info.value.args_dict == {"sender": a.address, "balance": 609_901, "needed": 609_902}
    with pytest.raises(ContractReverted) as info:
        token.transact("setFeeBps", 10_001, sender=a)
    assert info.value.name == "FeeOnTransferTokenFeeTooHigh" and info.value.args_dict == {"feeBps": 10_001, "maxBps": 10_000}


# ------------------------------------------------------------------------ rebasing


def test_rebasing_scales_every_balance_and_rounds_transfers_down(chain: Chain, artifacts):
    a, b = chain.accounts[:2]
    token = RebasingToken.deploy(chain, a, artifacts=artifacts)
    token.transact("faucet", a.address, 1_000_000, sender=a)  # index 1e18: 1,000,000 shares
    assert token.call("sharesOf", a.address) == 1_000_000 and token.call("balanceOf", a.address) == 1_000_000

    token.transact("rebase", 3, 2, sender=b)  # index 1.5e18: 1,000,000 shares are 1,500,000 base units
    assert token.call("index") == 15 * 10**17 and token.call("balanceOf", a.address) == 1_500_000
    assert token.call("totalSupply") == 1_500_000

    token.transact("transfer", b.address, 1_000_000, sender=a)
    # shares moved = 1,000,000 * 1e18 / 1.5e18 = 666,666.67, rounded down to 666,666
    # b: 666,666 * 1.5 = 999,999 (one short); a: 333,334 shares * 1.5 = 500,001 (lost 999,999)
    assert token.call("sharesOf", b.address) == 666_666 and token.call("balanceOf", b.address) == 999_999
    assert token.call("sharesOf", a.address) == 333_334 and token.call("balanceOf", a.address) == 500_001

    token.transact("rebase", 1, 3, sender=a)  # negative: index 1.5e18 / 3 = 0.5e18
    # a: 333,334 * 0.5 = 166,667; b: 666,666 * 0.5 = 333,333; supply 1,000,000 * 0.5 = 500,000
    assert token.call("balanceOf", a.address) == 166_667 and token.call("balanceOf", b.address) == 333_333
    assert token.call("totalSupply") == 500_000

    with pytest.raises(ContractReverted) as info:  # 166,668 > 166,667, even though 333,336 shares > 333,334 held
        token.transact("transfer", b.address, 166_668, sender=a)
    assert info.value.args_dict == {"sender": a.address, "balance": 166_667, "needed": 166_668}
    with pytest.raises(ContractReverted) as info:
        token.transact("rebase", 1, 0, sender=a)
    assert info.value.name == "RebasingTokenInvalidRebase"
    with pytest.raises(ContractReverted) as info:
        token.transact("rebase", 0, 1, sender=a)  # index 0 would erase every balance
    assert info.value.args_dict == {"numerator": 0, "denominator": 1}


# ---------------------------------------------------------------------------- hook


def test_hook_re_enters_a_guarded_contract_and_records_what_it_got(chain: Chain, artifacts):
    """A hook inside the treasury's safeTransferFrom re-enters depositIncome: the guard refuses it,
    the outer deposit goes through, and the token recorded the refusal."""
    from vcengine.deploy import CommuneParams, deploy_commune

    founder, payer = chain.accounts[0], chain.accounts[3]
    token = HookToken.deploy(chain, founder, artifacts=artifacts)
    d = deploy_commune(chain, founder, CommuneParams(founders=[founder.address]), token_address=token.address,
                       artifacts=artifacts)
    token.transact("faucet", payer.address, 1_000, sender=payer)  # a mint: no hook
    token.transact("approve", d.treasury.address, 1_000, sender=payer)  # an approval: no hook
    assert token.call("hookCalls") == 0

    reenter = calldata(d.treasury, "depositIncome", 1)
    token.transact("setHook", d.treasury.address, reenter, sender=payer)
    assert token.call("hookData") == reenter
    tx = d.treasury.deposit_income(100, sender=payer)

    assert token.call("hookCalls") == 1
    assert token.call("lastHookSuccess") is False
    assert token.call("lastHookReturn") == selector("ReentrancyGuardReentrantCall()")  # no arguments
    # the outer deposit went through: 100 held, 900 left
    assert token.call("balanceOf", d.treasury.address) == 100 and token.call("balanceOf", payer.address) == 900
    assert d.treasury.total_income() == 100 and tx.gas_used > 0


def test_hook_does_not_run_while_a_hook_runs(chain: Chain, artifacts):
    """The hook makes the token pay out of its own balance: that transfer calls no second hook."""
    a, b, c = chain.accounts[:3]
    token = HookToken.deploy(chain, a, artifacts=artifacts)
    token.transact("faucet", a.address, 50, sender=a)
    token.transact("faucet", token.address, 10, sender=a)
    token.transact("setHook", token.address, calldata(token, "transfer", c.address, 1), sender=a)

    token.transact("transfer", b.address, 5, sender=a)  # hook: the token sends 1 of its 10 to c, once
    assert token.call("hookCalls") == 1 and token.call("lastHookSuccess") is True
    assert token.call("lastHookReturn") == (1).to_bytes(32, "big")  # transfer returned true
    assert [token.call("balanceOf", x) for x in (a.address, b.address, c.address, token.address)] == [45, 5, 1, 9]

    token.transact("setHook", "0x" + "00" * 20, b"", sender=a)  # off
    token.transact("transfer", b.address, 5, sender=a)
    assert token.call("hookCalls") == 1 and token.call("balanceOf", c.address) == 1


# ------------------------------------------------------------------- false returns


def test_false_returning_token_says_no_without_reverting(chain: Chain, artifacts):
    a, b, c = chain.accounts[:3]
    token = FalseToken.deploy(chain, a, artifacts=artifacts)
    token.transact("faucet", a.address, 1_000, sender=a)
    defaults = dict(chain.call_defaults)  # eth_call from accounts[0], i.e. from a

    def answer(function: str, *args, sender=a) -> bool:
        return token.contract.functions[function](*args).call({**defaults, "from": sender.address})

    assert answer("transfer", b.address, 1_001) is False  # short balance: false, not a revert
    assert answer("transfer", b.address, 1_000) is True
    assert answer("transferFrom", a.address, c.address, 1, sender=c) is False  # no allowance
    token.transact("transfer", b.address, 1_001, sender=a)  # mined, moved nothing
    assert token.call("balanceOf", a.address) == 1_000 and token.call("balanceOf", b.address) == 0

    token.transact("approve", c.address, 500, sender=a)
    assert answer("transferFrom", a.address, c.address, 501, sender=c) is False  # 501 > allowance 500
    token.transact("transferFrom", a.address, c.address, 200, sender=c)
    assert token.call("balanceOf", c.address) == 200 and token.call("allowance", a.address, c.address) == 300

    token.transact("setRefuseAll", True, sender=b)
    assert answer("transfer", b.address, 1) is False and answer("transferFrom", a.address, c.address, 1, sender=c) is False
    token.transact("transfer", b.address, 1, sender=a)
    assert token.call("balanceOf", a.address) == 800

    # a caller that checks the return value, as SafeERC20 does, refuses the false
    spreader = Spreader.deploy(chain, a, artifacts=artifacts)
    token.transact("approve", spreader.address, 10, sender=a)
    with pytest.raises(ContractReverted) as info:
        spreader.transact("spread", token.address, [b.address], 1, sender=a)
    assert info.value.name == "SafeERC20FailedOperation" and info.value.args_dict == {"token": token.address}


# ---------------------------------------------------------------------- blocklist


def test_blocklist_refuses_transfers_from_and_to_a_blocked_address(chain: Chain, artifacts):
    a, b, c = chain.accounts[:3]
    token = BlocklistToken.deploy(chain, a, artifacts=artifacts)
    token.transact("faucet", a.address, 1_000, sender=a)
    token.transact("transfer", b.address, 100, sender=a)

    token.transact("setBlocked", b.address, True, sender=c)
    assert token.call("blocked", b.address) is True
    for sender, to in ((a, b), (b, a)):  # to a blocked address, and from one
        with pytest.raises(ContractReverted) as info:
            token.transact("transfer", to.address, 1, sender=sender)
        assert info.value.name == "BlocklistTokenBlocked" and info.value.args_dict == {"account": b.address}
    token.transact("approve", c.address, 50, sender=b)  # approvals are not moves
    with pytest.raises(ContractReverted) as info:
        token.transact("transferFrom", b.address, c.address, 50, sender=c)
    assert info.value.args_dict == {"account": b.address}
    with pytest.raises(ContractReverted) as info:
        token.transact("faucet", b.address, 1, sender=a)  # nor may it be minted to
    assert info.value.name == "BlocklistTokenBlocked"

    token.transact("setBlocked", b.address, False, sender=c)
    token.transact("transferFrom", b.address, c.address, 50, sender=c)
    assert [token.call("balanceOf", x.address) for x in (a, b, c)] == [900, 50, 50]


# ------------------------------------------------------------------ contract wallet


def test_a_share_held_by_a_contract_wallet_is_sold_with_the_wallet(chain: Chain, commune, artifacts):
    founder_a, founder_b, _, seller, buyer = chain.accounts[:5]
    wallet = Wallet.deploy(chain, seller, seller.address, artifacts=artifacts)
    assert wallet.call("owner") == seller.address

    tx = wallet.transact("execute", commune.address, calldata(commune, "submitLabour", 10, "ipfs://wallet-work"),
                         sender=seller)
    receipt = chain.w3.eth.get_transaction_receipt(tx.tx_hash)
    claim = next(e for e in commune.decode_events(receipt) if e.name == "LabourSubmitted").args["claimId"]
    commune.attest(claim, sender=founder_a)
    commune.attest(claim, sender=founder_b)  # counted: 10 units, quorum 2
    wallet.transact("execute", commune.address, calldata(commune, "join"), sender=seller)
    assert commune.is_member(wallet.address) and commune.balance_of(wallet.address) == 1

    with pytest.raises(ContractReverted) as info:  # the commune's refusal is bubbled up unchanged
        wallet.transact("execute", commune.address, calldata(commune, "join"), sender=seller)
    assert info.value.name == "CommuneAlreadyMember" and info.value.args_dict == {"account": wallet.address}

    # the sale: one transaction, no share moves, the commune sees nothing
    tx = wallet.transact("transferOwnership", buyer.address, sender=seller)
    assert tx.event("OwnershipTransferred").args == {"previousOwner": seller.address, "newOwner": buyer.address}
    assert wallet.call("owner") == buyer.address and commune.is_member(wallet.address)
    with pytest.raises(ContractReverted) as info:
        wallet.transact("execute", commune.address, calldata(commune, "leave"), sender=seller)
    assert info.value.name == "ContractWalletNotOwner"
    assert info.value.args_dict == {"caller": seller.address, "owner": buyer.address}
    with pytest.raises(ContractReverted) as info:
        wallet.transact("transferOwnership", "0x" + "00" * 20, sender=buyer)
    assert info.value.name == "ContractWalletZeroOwner"

    wallet.transact("execute", commune.address, calldata(commune, "leave"), sender=buyer)  # the buyer acts as the member
    assert not commune.is_member(wallet.address)


# ====================================================================== the probe

ADVICE = "the commune's contracts would refuse every payment; choose a token that moves exactly the amount asked"


@pytest.fixture(scope="module", params=["tester", pytest.param("anvil", marks=pytest.mark.anvil)])
def node(request, session_chain):
    if request.param == "tester":
        yield session_chain
    else:
        chain = AnvilChain()
        yield chain
        chain.close()


@pytest.fixture
def on(node):
    """The chain under test (embedded or anvil), returned to its state before the test afterwards."""
    snap = node.snapshot()
    yield node
    node.revert(snap)


def footprint(chain: Chain, token: ContractClient, probe: str) -> dict:
    """Everything a probe could leave behind if it sent anything or kept any state."""
    people = [a.address for a in chain.accounts[:6]]
    return {
        "block": chain.w3.eth.block_number,
        "nonces": [chain.w3.eth.get_transaction_count(p) for p in people],
        "eth": [chain.w3.eth.get_balance(p) for p in people],
        "tokens": [token.call("balanceOf", p) for p in [*people, probe]],
        "supply": token.call("totalSupply"),
        "probe code": bytes(chain.w3.eth.get_code(probe)),
        "probe slot 0 mapping": bytes(chain.w3.eth.get_storage_at(token.address, _solidity_slot(probe, 0))),
    }


def _solidity_slot(holder: str, slot: int) -> int:
    return int.from_bytes(keccak(bytes(12) + bytes.fromhex(holder[2:]) + slot.to_bytes(32, "big")), "big")


def test_a_plain_stablecoin_passes_with_nobody_holding_any(on: Chain, artifacts):
    token = TestStablecoinClient.deploy(on, on.accounts[0], artifacts=artifacts)
    assert token.total_supply() == 0  # no one holds any: the probe needs no tokens and no faucet
    before = footprint(on, token, probe_address(token.address))
    result = probe_token(on, token.address, artifacts=artifacts)
    assert footprint(on, token, result.probe_address) == before  # nothing sent, nothing kept
    assert [token.balance_of(m.receiver) for m in (result.transfer, result.transfer_from)] == [0, 0]

    assert result.ok and result.amount == 10**6  # one whole token by default (6 decimals)
    for move in (result.transfer, result.transfer_from):
        assert (move.debited, move.delivered, move.succeeded, move.approved) == (10**6, 10**6, True, True)
    assert result.transfer.receiver != result.transfer_from.receiver
    assert result.balance_slot.slot == _solidity_slot(result.probe_address, 0)  # OpenZeppelin's _balances
    assert result.balance_slot.found_by == ("Solidity mapping at slot 0" if isinstance(on, TesterChain) else "access list")
    assert result.message == (f"settlement token {token.address} moves exactly the amount asked: 1000000 base units "
                              "debited and delivered by transfer and by transferFrom")


def test_fee_on_transfer_passes_dormant_and_is_refused_at_one_percent(on: Chain, artifacts):
    a, collector = on.accounts[0], on.accounts[5]
    token = FeeToken.deploy(on, a, collector.address, artifacts=artifacts)
    assert probe_token(on, token.address, 100 * UNIT, artifacts=artifacts).ok  # fee off, like USDT's today

    token.transact("setFeeBps", 100, sender=a)
    before = footprint(on, token, probe_address(token.address))
    result = probe_token(on, token.address, 100 * UNIT, artifacts=artifacts)
    assert footprint(on, token, result.probe_address) == before
    assert [token.call("balanceOf", m.receiver) for m in (result.transfer, result.transfer_from)] == [0, 0]
    assert not result.ok
    # 100 bps of 100,000,000 = 1,000,000: the sender loses 100,000,000, the receiver gets 99,000,000
    for move in (result.transfer, result.transfer_from):
        assert move.succeeded and (move.debited, move.delivered) == (100_000_000, 99_000_000)
    assert result.transfer.sender_before == 200_000_000  # the probe was given twice the amount
    assert result.transfer_from.sender_after == 0
    assert result.message == (f"settlement token {token.address} delivers 99000000 of 100000000 base units on transfer "
                              f"and on transferFrom (a fee-on-transfer or rebasing token): {ADVICE}")
    assert token.call("balanceOf", collector.address) == 0  # the fees it took were never real


def test_rebasing_token_is_refused_once_a_rebase_makes_transfers_short(on: Chain, artifacts):
    a = on.accounts[0]
    token = RebasingToken.deploy(on, a, artifacts=artifacts)
    assert probe_token(on, token.address, artifacts=artifacts).ok  # index 1e18: one share per unit
    token.transact("rebase", 2, 1, sender=a)  # index 2e18: 1,000,000 units are exactly 500,000 shares
    assert probe_token(on, token.address, artifacts=artifacts).ok

    token.transact("rebase", 3, 4, sender=a)  # index 1.5e18
    before = footprint(on, token, probe_address(token.address))
    result = probe_token(on, token.address, artifacts=artifacts)
    assert footprint(on, token, result.probe_address) == before
    # given 2,000,000 shares = 3,000,000 units; a move of 1,000,000 units is 666,666 shares (rounded
    # down), worth 999,999 units to the receiver; the sender keeps 1,333,334 shares = 2,000,001 units
    assert result.balance_slot.value == 2_000_000
    assert (result.transfer.sender_before, result.transfer.sender_after) == (3_000_000, 2_000_001)
    for move in (result.transfer, result.transfer_from):
        assert (move.debited, move.delivered) == (999_999, 999_999)
    assert not result.ok
    assert result.message == (f"settlement token {token.address} delivers 999999 of 1000000 base units and debits "
                              f"the sender 999999 on transfer and on transferFrom (a fee-on-transfer or rebasing token): {ADVICE}")


def test_negative_rebase_the_probe_writes_enough_shares(on: Chain, artifacts):
    a = on.accounts[0]
    token = RebasingToken.deploy(on, a, artifacts=artifacts)
    token.transact("rebase", 1, 4, sender=a)  # index 0.25e18: a share is worth a quarter unit
    result = probe_token(on, token.address, 1_000, artifacts=artifacts)
    # 2,000 shares give 500 units, short of 2,000: scaled to 2,000 * 2,000 // 500 + 1 = 8,001 shares = 2,000 units
    assert result.balance_slot.value == 8_001 and result.transfer.sender_before == 2_000
    assert result.ok  # 1,000 units are exactly 4,000 shares at this index


def test_blocklist_and_hook_tokens_pass_false_returning_one_is_refused(on: Chain, artifacts):
    a = on.accounts[0]
    blocklist = BlocklistToken.deploy(on, a, artifacts=artifacts)
    blocklist.transact("setBlocked", a.address, True, sender=a)  # someone else is blocked: the probe is not
    assert probe_token(on, blocklist.address, artifacts=artifacts).ok
    probe = probe_address(blocklist.address)
    blocklist.transact("setBlocked", probe, True, sender=a)  # now the probe itself is: both moves revert
    result = probe_token(on, blocklist.address, artifacts=artifacts)
    assert result.transfer.reverted and result.transfer_from.reverted and not result.ok
    assert result.reasons == {"transfer": f"BlocklistTokenBlocked(account={probe})",
                              "transferFrom": f"BlocklistTokenBlocked(account={probe})"}
    assert result.message == (f"settlement token {blocklist.address} reverts a move of 1000000 base units from a holder "
                              f"of enough (BlocklistTokenBlocked(account={probe})) on transfer and on transferFrom: {ADVICE}")
    hook = HookToken.deploy(on, a, artifacts=artifacts)
    assert probe_token(on, hook.address, artifacts=artifacts).ok

    false = FalseToken.deploy(on, a, artifacts=artifacts)
    assert probe_token(on, false.address, artifacts=artifacts).ok
    false.transact("setRefuseAll", True, sender=a)
    result = probe_token(on, false.address, artifacts=artifacts)
    assert not result.ok and not result.transfer.succeeded and not result.transfer.reverted
    assert (result.transfer.debited, result.transfer.delivered) == (0, 0)
    assert result.message == (f"settlement token {false.address} returns false for a move of 1000000 base units from a "
                              f"holder of enough on transfer and on transferFrom: {ADVICE}")


def test_call_with_overrides_runs_injected_code_and_bubbles_reverts(on: Chain, artifacts):
    """The chain method itself: code and storage overrides for one call, reverts readable by revert_data."""
    token = TestStablecoinClient.deploy(on, on.accounts[0], artifacts=artifacts)
    probe = probe_address(token.address)
    code = artifacts["TokenProbe"].deployed_bytecode
    version = on.call_with_overrides({"to": probe, "data": "0x" + selector("probeVersion()").hex()}, {probe: {"code": code}})
    assert version == keccak(text="vcengine.TokenProbe.v1")

    slot = "0x" + _solidity_slot(on.accounts[1].address, 0).to_bytes(32, "big").hex()
    balance_of = calldata(token, "balanceOf", on.accounts[1].address)
    out = on.call_with_overrides({"to": token.address, "data": "0x" + balance_of.hex()},
                                 {token.address: {"stateDiff": {slot: "0x" + (1234).to_bytes(32, "big").hex()}}})
    assert int.from_bytes(out, "big") == 1234 and token.balance_of(on.accounts[1].address) == 0

    eoa = on.accounts[2].address  # "probing" an account without code: balanceOf answers nothing
    with pytest.raises(Exception) as info:
        on.call_with_overrides({"to": probe, "data": "0x" + (selector("probe(address,uint256)") + bytes(12)
                                                               + bytes.fromhex(eoa[2:]) + (1).to_bytes(32, "big")).hex()},
                               {probe: {"code": code}})
    data = revert_data(info.value)
    assert data is not None and data[:4] == selector("TokenProbeBalanceUnreadable(address,address,bytes)")
    assert on.w3.eth.get_code(probe) == b""


def test_messages_name_each_kind_of_inexact_move():
    """The message from measured balances alone (no chain): each path's problem, grouped."""
    from vcengine.token_probe import BalanceSlot, MoveResult, TokenProbeResult

    def move(path, debited, delivered, approved=True):
        return MoveResult(path, 100, "0x" + "00" * 19 + "01", approved, False, True, b"", 1_000, 1_000 - debited,
                          0, delivered)

    def message(transfer, transfer_from):
        slot = BalanceSlot("0x" + "00" * 19 + "aa", 0, "access list", 200)
        return TokenProbeResult("0xTOKEN", 100, "0xPROBE", slot, transfer, transfer_from, {}).message

    assert message(move("transfer", 100, 99), move("transferFrom", 100, 100)) == (
        f"settlement token 0xTOKEN delivers 99 of 100 base units on transfer (a fee-on-transfer or rebasing token): {ADVICE}")
    assert message(move("transfer", 101, 100), move("transferFrom", 101, 100)) == (
        "settlement token 0xTOKEN debits the sender 101 base units for 100 on transfer and on transferFrom "
        f"(a token that charges the sender more than the amount): {ADVICE}")
    assert message(move("transfer", 100, 100), move("transferFrom", 100, 101)) == (
        "settlement token 0xTOKEN delivers 101 of 100 base units on transferFrom (a token that moves another amount "
        f"than asked, e.g. a rebasing token or a transfer hook): {ADVICE}")
    assert message(move("transfer", 100, 100), move("transferFrom", 0, 0, approved=False)) == (
        f"settlement token 0xTOKEN refuses to approve 100 base units on transferFrom: {ADVICE}")


# ------------------------------------------------------------ nodes that cannot probe


def test_a_node_without_state_overrides_is_named(chain: Chain, artifacts, monkeypatch):
    token = TestStablecoinClient.deploy(chain, chain.accounts[0], artifacts=artifacts)

    def rejects(tx, overrides):  # a node that refuses the third eth_call parameter
        raise ValueError("{'code': -32602, 'message': 'too many arguments, want at most 2'}")

    monkeypatch.setattr(chain, "call_with_overrides", rejects)
    with pytest.raises(TokenProbeUnavailable, match=r"does not support eth_call state overrides \(.*too many arguments"):
        probe_token(chain, token.address, artifacts=artifacts)

    def ignores(tx, overrides):  # a node that drops it and runs the call on the real state
        return bytes(chain.w3.eth.call({**chain.call_defaults, **tx}))

    monkeypatch.setattr(chain, "call_with_overrides", ignores)
    with pytest.raises(TokenProbeUnavailable, match="ignored the eth_call state override"):
        probe_token(chain, token.address, artifacts=artifacts)


def test_a_token_whose_balance_slot_is_not_found_is_named(chain: Chain, artifacts, monkeypatch):
    import vcengine.token_probe as tp

    token = TestStablecoinClient.deploy(chain, chain.accounts[0], artifacts=artifacts)
    monkeypatch.setattr(tp, "MAPPING_SLOTS", 0)  # no access list on the embedded chain, and no layout to try
    with pytest.raises(TokenProbeUnavailable, match=f"could not find where settlement token {token.address} keeps balances"):
        probe_token(chain, token.address, artifacts=artifacts)


def test_bad_input_is_refused_before_any_call(chain: Chain, artifacts):
    token = TestStablecoinClient.deploy(chain, chain.accounts[0], artifacts=artifacts)
    with pytest.raises(InputError, match="has no code"):
        probe_token(chain, chain.accounts[1].address, artifacts=artifacts)
    with pytest.raises(InputError, match="probe amount must be between 1 and"):
        probe_token(chain, token.address, 0, artifacts=artifacts)
