"""Risk 3: a member that is a smart-contract wallet, whose share can be sold by selling the wallet.

The finding: a share is soulbound to an address, but when that address is a contract wallet its owner
can hand the wallet, and with it the share and everything it earns, to anyone. The fix documents the
limit and adds `eoaOnly` (CommuneParams(eoa_only=True)): founders without code, joiners who sign the
transaction themselves (msg.sender == tx.origin, no code), else CommuneContractAccount(account).
"""

from __future__ import annotations

import pytest

from adversarial import UNIT, World, arts, deploy, deploy_contract, expect_revert, module_chain  # noqa: F401
from vcengine.client import ContractReverted
from vcengine.deploy import CommuneParams, deploy_commune


def calldata(client, function: str, *args) -> bytes:
    return bytes.fromhex(client.contract.encode_abi(function, args=list(args))[2:])


def execute(wallet, target, function: str, *args, sender):
    return wallet.transact("execute", target.address, calldata(target, function, *args), sender=sender)


@pytest.fixture(scope="module")
def normal_world(module_chain, arts):
    """A commune of accounts[0..2] (quorum cap 2, threshold 10) and a ContractWallet owned by accounts[5]."""
    d = deploy(module_chain, arts, fund=7, quorum_cap=2)
    wallet = deploy_contract(module_chain, module_chain.accounts[5], "ContractWallet",
                             module_chain.accounts[5].address, artifacts=arts)
    return World(d, wallet=wallet)


@pytest.fixture
def normal(normal_world):
    return normal_world.reset()


@pytest.fixture(scope="module")
def eoa_world(module_chain, arts):
    """The same commune with eoa_only=True, and a wallet owned by accounts[5]."""
    d = deploy(module_chain, arts, fund=7, quorum_cap=2, eoa_only=True)
    wallet = deploy_contract(module_chain, module_chain.accounts[5], "ContractWallet",
                             module_chain.accounts[5].address, artifacts=arts)
    return World(d, wallet=wallet)


@pytest.fixture
def eoa(eoa_world):
    return eoa_world.reset()


def wallet_earns_labour(w) -> int:
    """The wallet submits 10 units through `execute`; founders accounts[0] and [1] attest (quorum 2)."""
    d, a = w.d, w.chain.accounts
    execute(w.wallet, d.commune, "submitLabour", 10, "ipfs://wallet-timesheet", sender=a[5])
    claim = d.commune.claim_count()
    assert d.commune.labour_claim(claim).worker == w.wallet.address
    d.commune.attest(claim, sender=a[0])
    assert d.commune.attest(claim, sender=a[1]).counted
    assert d.commune.counted_labour(w.wallet.address) == 10
    return claim


def test_a_contract_wallet_earns_a_share_and_whoever_owns_the_wallet_controls_it(normal):
    """The documented trust limit (old and new code alike in a commune without eoaOnly): the wallet
    earns a share by labour and joins through `execute`; 400 of income gives each of the four members
    100. accounts[5] then hands the wallet to accounts[7]: the old owner can no longer act
    (ContractWalletNotOwner), the "new owner" claims the share's 100 into the wallet and takes it out,
    and acts as the member (here: attests labour)."""
    w = normal
    d, a = w.d, w.chain.accounts
    wallet = w.wallet
    wallet_earns_labour(w)
    execute(wallet, d.commune, "join", sender=a[5])
    assert d.commune.is_member(wallet.address) and d.commune.member_count() == 4
    d.treasury.deposit_income(400 * UNIT, sender=a[6])
    assert d.treasury.claimable(wallet.address) == 100 * UNIT
    wallet.transact("transferOwnership", a[7].address, sender=a[5])
    expect_revert(lambda: execute(wallet, d.treasury, "claimPayout", sender=a[5]),
                  "ContractWalletNotOwner", caller=a[5].address, owner=a[7].address)
    execute(wallet, d.treasury, "claimPayout", sender=a[7])
    funds = d.token.balance_of(a[7].address)
    execute(wallet, d.token, "transfer", a[7].address, 100 * UNIT, sender=a[7])
    assert d.token.balance_of(a[7].address) - funds == 100 * UNIT
    claim = d.commune.submit_labour(3, "ipfs://someone", sender=a[8]).claim_id
    execute(wallet, d.commune, "attest", claim, sender=a[7])
    assert d.commune.has_attested(claim, wallet.address)


def test_in_an_eoa_only_commune_the_wallet_cannot_join(eoa):
    """Old code: no eoaOnly; any contract with counted labour joined. Now the wallet's join, through
    `execute` (msg.sender is the wallet, tx.origin accounts[5]), reverts CommuneContractAccount(wallet)
    although its 10 units are counted; a worker who signs its own transaction joins."""
    w = eoa
    d, a = w.d, w.chain.accounts
    assert d.commune.eoa_only() is True
    wallet_earns_labour(w)
    expect_revert(lambda: execute(w.wallet, d.commune, "join", sender=a[5]),
                  "CommuneContractAccount", account=w.wallet.address)
    assert not d.commune.is_member(w.wallet.address) and d.commune.counted_labour(w.wallet.address) == 10
    claim = d.commune.submit_labour(10, "ipfs://eoa", sender=a[6]).claim_id
    d.commune.attest(claim, sender=a[0])
    d.commune.attest(claim, sender=a[1])
    assert d.commune.join(sender=a[6]).share_id == 4


def test_in_an_eoa_only_commune_a_founder_with_code_is_refused_at_deployment(eoa, arts):
    """Old code: any founder address was admitted. Now the membership clone's initialiser reverts
    CommuneContractAccount(founder) for the founder that has code, and the factory's create with it
    (the error surfaces from the factory call); the same founders without eoaOnly create."""
    w = eoa
    a = w.chain.accounts
    founders = [a[0].address, w.wallet.address]
    with pytest.raises(ContractReverted) as info:
        deploy_commune(w.chain, a[0], CommuneParams(founders=founders, eoa_only=True), artifacts=arts)
    assert (info.value.contract, info.value.name, info.value.args_dict) == (
        "CommuneFactory", "CommuneContractAccount", {"account": w.wallet.address})
    d = deploy_commune(w.chain, a[0], CommuneParams(founders=founders), artifacts=arts)
    assert d.commune.is_member(w.wallet.address)
