"""Adversarial ERC-20 test doubles (contracts/mocks).

The mocks' unit tests run on the embedded chain; expected values are worked out by hand in the
comments.
"""

from __future__ import annotations

import re

import pytest
from eth_utils import function_signature_to_4byte_selector, keccak

from vcengine.chains import Chain
from vcengine.client import ContractClient, ContractReverted
from vcengine.paths import CONTRACTS_DIR

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
    for name in MOCKS:
        art = artifacts[name]
        documented = set(art.userdoc.get("methods", {})) | set(art.devdoc.get("methods", {}))
        assert not [sig for sig in art.method_identifiers if sig not in documented], name
        for item in art.abi:
            if item["type"] == "error" and re.search(rf"\berror {item['name']}\(", sources):
                sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                assert (art.userdoc.get("errors", {}).get(sig) or [{}])[0].get("notice"), f"{name}: {sig}"


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
