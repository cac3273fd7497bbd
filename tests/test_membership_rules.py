"""Membership rules of `Commune`: one share per member, earned by attested labour, never transferable.

Each refusal is asserted by its exact custom error and arguments, and that the state did not move.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from clone_helpers import raw_membership
from vcengine.client import ContractClient, ContractReverted, InputError
from vcengine.commune import INTERFACE_ERC165, INTERFACE_ERC721, INTERFACE_ERC5192, ZERO_ADDRESS, CommuneClient

ZERO = ZERO_ADDRESS


def expect_revert(action: Callable[[], Any], error: str, /, **args: Any) -> ContractReverted:
    with pytest.raises(ContractReverted) as info:
        action()
    assert info.value.name == error, str(info.value)
    for key, value in args.items():
        assert info.value.args_dict[key] == value, str(info.value)
    return info.value


def earn_share(commune: CommuneClient, worker, attesters, units: int = 10) -> int:
    claim = commune.submit_labour(units, "ipfs://evidence", sender=worker).claim_id
    for member in attesters:
        commune.attest(claim, sender=member)
    return commune.join(sender=worker).share_id


# ------------------------------------------------------------------ deployment


def test_founders_hold_one_share_each(commune, accounts):
    founders = accounts[:3]
    assert commune.member_count() == 3
    assert [commune.share_of(f.address) for f in founders] == [1, 2, 3]
    for f in founders:
        assert commune.balance_of(f.address) == 1
        assert commune.is_member(f.address)
    assert commune.balance_of(accounts[3].address) == 0
    assert commune.labour_threshold() == 10 and commune.quorum_cap() == 2
    assert commune.quorum() == 2


def test_founding_emits_locked_and_joined_for_each_founder(commune):
    names = [e.name for e in commune.deploy_receipt.events]
    assert names.count("Locked") == 3 and names.count("MemberJoined") == 3 and names.count("Transfer") == 3


@pytest.mark.parametrize(
    "founders, threshold, cap, error, args",
    [
        ([], 10, 2, "CommuneNoFounders", {}),
        (["a0"], 0, 2, "CommuneInvalidParameter", {"name": "labourThreshold", "value": 0}),
        (["a0"], 10, 0, "CommuneInvalidParameter", {"name": "quorumCap", "value": 0}),
        (["a0"], 10, 2**24, "CommuneInvalidParameter", {"name": "quorumCap", "value": 2**24}),
        (["a0", "a0"], 10, 2, "CommuneAlreadyMember", {"account": "a0"}),
    ],
)
def test_initialiser_refuses_bad_parameters(chain, artifacts, founders, threshold, cap, error, args):
    addr = {"a0": chain.accounts[0].address}
    founders = [addr[f] for f in founders]
    args = {k: addr.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
    # Straight to the factory (the Python client would catch these before sending): the clone's
    # initialiser refuses them, and the whole creation is undone.
    expect_revert(lambda: raw_membership(chain, chain.accounts[0], artifacts, founders, threshold, cap), error, **args)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"founders": []}, "at least one address"),
        ({"founders": ["0x1234"]}, "founder must be a 20-byte hex address"),
        ({"labour_threshold": 0}, "labour threshold must be between 1"),
        ({"quorum_cap": -1}, "quorum cap must be between 1"),
    ],
)
def test_client_deploy_validates_before_sending(chain, artifacts, kwargs, message):
    block = chain.w3.eth.block_number
    params = {"founders": [chain.accounts[0].address], **kwargs}
    with pytest.raises(InputError, match=message):
        CommuneClient.deploy(chain, chain.accounts[0], artifacts=artifacts, **params)
    assert chain.w3.eth.block_number == block  # nothing was sent


def test_share_interfaces(commune):
    assert commune.supports_interface(INTERFACE_ERC165)
    assert commune.supports_interface(INTERFACE_ERC721)
    assert commune.supports_interface(INTERFACE_ERC5192)
    assert not commune.supports_interface(bytes.fromhex("ffffffff"))
    assert commune.locked(1) is True
    expect_revert(lambda: commune.locked(99), "ERC721NonexistentToken", tokenId=99)


# ----------------------------------------------------------------------- labour


def test_labour_flow_admits_worker_with_exactly_one_share(commune, accounts):
    a, b, _, worker = accounts[:4]
    submitted = commune.submit_labour(10, "ipfs://timesheet", sender=worker)
    assert submitted.claim_id == 1
    ev = submitted.tx.event("LabourSubmitted").args
    assert ev["worker"] == worker.address and ev["units"] == 10 and ev["evidence"] == "ipfs://timesheet"
    claim = commune.labour_claim(1)
    assert (claim.worker, claim.units, claim.attestations, claim.counted) == (worker.address, 10, 0, False)
    assert claim.evidence_hash == commune.chain.w3.keccak(text="ipfs://timesheet")

    first = commune.attest(1, sender=a)
    assert (first.attestations, first.counted) == (1, False)
    assert commune.counted_labour(worker.address) == 0
    second = commune.attest(1, sender=b)
    assert (second.attestations, second.counted) == (2, True)
    assert second.tx.event("LabourCounted").args["countedLabour"] == 10
    assert commune.counted_labour(worker.address) == 10

    joined = commune.join(sender=worker)
    assert joined.share_id == 4
    assert [e.name for e in joined.tx.events] == ["Transfer", "Locked", "MemberJoined"]
    assert commune.balance_of(worker.address) == 1 and commune.owner_of(4) == worker.address
    assert commune.member_count() == 4 and commune.counted_labour(worker.address) == 0


def test_labour_from_several_claims_adds_up_and_excess_is_kept(commune, accounts):
    a, b, _, worker = accounts[:4]
    for units in (4, 9):
        claim = commune.submit_labour(units, "ipfs://part", sender=worker).claim_id
        commune.attest(claim, sender=a)
        commune.attest(claim, sender=b)
    assert commune.counted_labour(worker.address) == 13
    commune.join(sender=worker)
    assert commune.counted_labour(worker.address) == 3


def test_quorum_is_capped_by_member_count(chain, artifacts):
    """quorumFor(worker) = min(cap, members who may attest): the worker never attests their own claim."""
    founder, worker = chain.accounts[0], chain.accounts[1]
    solo = CommuneClient.deploy(chain, founder, founders=[founder.address], labour_threshold=5, quorum_cap=3,
                                artifacts=artifacts)
    assert solo.quorum() == 1 and solo.quorum_for(worker.address) == 1
    assert solo.quorum_for(founder.address) == 0  # nobody else could attest the founder's claim
    claim = solo.submit_labour(5, "ipfs://solo", sender=worker).claim_id
    assert solo.attest(claim, sender=founder).counted
    solo.join(sender=worker)
    # two members: an outsider's claim needs min(3, 2) = 2, a member's own claim min(3, 2 - 1) = 1
    assert solo.quorum() == 2 and solo.quorum_for(chain.accounts[2].address) == 2
    assert solo.quorum_for(founder.address) == solo.quorum_for(worker.address) == 1


def test_a_members_own_claim_counts_with_the_other_members_attestation(chain, artifacts):
    """In a two-member commune a member's claim is counted by the one member who may attest it
    (the quorum excludes the worker), while an outsider's claim needs both."""
    a, b, outsider = chain.accounts[:3]
    pair = CommuneClient.deploy(chain, a, founders=[a.address, b.address], labour_threshold=10, quorum_cap=2,
                                artifacts=artifacts)
    own = pair.submit_labour(7, "ipfs://own", sender=a).claim_id
    attested = pair.attest(own, sender=b)
    assert (attested.attestations, attested.counted) == (1, True)
    assert pair.counted_labour(a.address) == 7
    theirs = pair.submit_labour(7, "ipfs://outside", sender=outsider).claim_id
    assert not pair.attest(theirs, sender=a).counted
    assert pair.attest(theirs, sender=b).counted and pair.counted_labour(outsider.address) == 7


@pytest.mark.parametrize(
    "units, evidence, error",
    [(0, "ipfs://x", "LabourZeroUnits"), (5, "", "LabourEmptyEvidence")],
)
def test_submit_refuses_empty_claims_on_chain(commune, accounts, units, evidence, error):
    # Call the contract directly: the client refuses these before sending (tested below).
    expect_revert(lambda: commune.transact("submitLabour", units, evidence, sender=accounts[3]), error)
    assert commune.claim_count() == 0


def test_submit_refuses_units_beyond_uint64(commune, accounts):
    expect_revert(lambda: commune.transact("submitLabour", 2**64, "x", sender=accounts[3]),
                  "CommuneInvalidParameter", name="units", value=2**64)


@pytest.mark.parametrize(
    "units, evidence, message",
    [
        (0, "ipfs://x", "labour units must be between 1"),
        (-3, "ipfs://x", "labour units must be between 1"),
        (2**64, "ipfs://x", "labour units must be between 1"),
        ("10", "ipfs://x", "labour units must be a whole number"),
        (5, "", "evidence must be a non-empty"),
        (5, "   ", "evidence must be a non-empty"),
    ],
)
def test_client_validates_labour_before_sending(commune, accounts, units, evidence, message):
    block = commune.chain.w3.eth.block_number
    with pytest.raises(InputError, match=message):
        commune.submit_labour(units, evidence, sender=accounts[3])
    assert commune.chain.w3.eth.block_number == block


def test_attest_by_non_member(commune, accounts):
    worker, outsider = accounts[3], accounts[4]
    claim = commune.submit_labour(10, "ipfs://x", sender=worker).claim_id
    expect_revert(lambda: commune.attest(claim, sender=outsider), "CommuneNotMember", account=outsider.address)
    assert commune.labour_claim(claim).attestations == 0


def test_self_attestation(commune, accounts):
    member = accounts[0]
    claim = commune.submit_labour(10, "ipfs://x", sender=member).claim_id
    expect_revert(lambda: commune.attest(claim, sender=member), "LabourSelfAttestation",
                  claimId=claim, attester=member.address)
    assert not commune.has_attested(claim, member.address)


def test_double_attestation(commune, accounts):
    claim = commune.submit_labour(10, "ipfs://x", sender=accounts[3]).claim_id
    commune.attest(claim, sender=accounts[0])
    expect_revert(lambda: commune.attest(claim, sender=accounts[0]), "LabourAlreadyAttested",
                  claimId=claim, attester=accounts[0].address)
    assert commune.labour_claim(claim).attestations == 1


def test_attestation_after_count_is_refused(commune, accounts):
    claim = commune.submit_labour(10, "ipfs://x", sender=accounts[3]).claim_id
    commune.attest(claim, sender=accounts[0])
    commune.attest(claim, sender=accounts[1])
    expect_revert(lambda: commune.attest(claim, sender=accounts[2]), "LabourAlreadyCounted", claimId=claim)
    assert commune.counted_labour(accounts[3].address) == 10  # counted once, not twice


@pytest.mark.parametrize("claim_id", [0, 7])
def test_attest_unknown_claim(commune, accounts, claim_id):
    if claim_id == 0:  # the client refuses id 0 before sending; the contract refuses it too
        with pytest.raises(InputError, match="claim id"):
            commune.attest(0, sender=accounts[0])
        expect_revert(lambda: commune.transact("attest", 0, sender=accounts[0]), "LabourUnknownClaim", claimId=0)
    else:
        expect_revert(lambda: commune.attest(claim_id, sender=accounts[0]), "LabourUnknownClaim", claimId=claim_id)


# ------------------------------------------------------------------ admission


def test_join_short_of_threshold(commune, accounts):
    a, b, _, worker = accounts[:4]
    claim = commune.submit_labour(9, "ipfs://x", sender=worker).claim_id
    commune.attest(claim, sender=a)
    commune.attest(claim, sender=b)
    expect_revert(lambda: commune.join(sender=worker), "LabourBelowThreshold",
                  worker=worker.address, counted=9, threshold=10)
    assert not commune.is_member(worker.address)


def test_join_with_claimed_but_unattested_labour(commune, accounts):
    worker = accounts[3]
    claim = commune.submit_labour(1_000, "ipfs://x", sender=worker).claim_id
    commune.attest(claim, sender=accounts[0])  # one of two needed
    expect_revert(lambda: commune.join(sender=worker), "LabourBelowThreshold",
                  worker=worker.address, counted=0, threshold=10)


def test_join_twice(commune, accounts):
    worker = accounts[3]
    earn_share(commune, worker, accounts[:2], units=20)
    expect_revert(lambda: commune.join(sender=worker), "CommuneAlreadyMember", account=worker.address)
    assert commune.balance_of(worker.address) == 1 and commune.member_count() == 4


def test_founder_cannot_join_again(commune, accounts):
    expect_revert(lambda: commune.join(sender=accounts[0]), "CommuneAlreadyMember", account=accounts[0].address)


def test_join_with_value_is_refused(commune, accounts):
    worker = accounts[3]
    expect_revert(lambda: commune.transact("join", sender=worker, value=10**18), "")
    assert not commune.is_member(worker.address)


# ----------------------------------------------------------------------- exit


def test_leave_burns_the_share(commune, accounts):
    leaver = accounts[2]
    tx = commune.leave(sender=leaver)
    assert [e.name for e in tx.events] == ["Transfer", "MemberLeft"]
    assert tx.event("MemberLeft").args == {"member": leaver.address, "shareId": 3}
    assert not commune.is_member(leaver.address) and commune.balance_of(leaver.address) == 0
    assert commune.member_count() == 2
    expect_revert(lambda: commune.owner_of(3), "ERC721NonexistentToken", tokenId=3)


def test_leave_twice(commune, accounts):
    commune.leave(sender=accounts[2])
    expect_revert(lambda: commune.leave(sender=accounts[2]), "CommuneNotMember", account=accounts[2].address)


def test_non_member_cannot_leave(commune, accounts):
    expect_revert(lambda: commune.leave(sender=accounts[4]), "CommuneNotMember", account=accounts[4].address)


def test_rejoining_needs_new_labour_and_gets_a_new_share(commune, accounts):
    a, b, _, worker = accounts[:4]
    first = earn_share(commune, worker, [a, b])
    commune.leave(sender=worker)
    expect_revert(lambda: commune.join(sender=worker), "LabourBelowThreshold", counted=0)
    second = earn_share(commune, worker, [a, b])
    assert second != first and commune.balance_of(worker.address) == 1


def test_last_member_cannot_leave(chain, artifacts):
    """The rule changed: income would be owed to nobody, so the last member stays (CommuneLastMember)."""
    founder, other = chain.accounts[0], chain.accounts[1]
    pair = CommuneClient.deploy(chain, founder, founders=[founder.address, other.address], artifacts=artifacts)
    pair.leave(sender=other)
    expect_revert(lambda: pair.leave(sender=founder), "CommuneLastMember", member=founder.address)
    assert pair.member_count() == 1 and pair.is_member(founder.address) and pair.quorum() == 1


# ---------------------------------------------------------------------- eoaOnly


class Wallet(ContractClient):
    CONTRACT = "ContractWallet"


def _calldata(client: ContractClient, function: str, *args) -> bytes:
    return bytes.fromhex(client.contract.encode_abi(function, args=list(args))[2:])


def test_eoa_only_refuses_a_founder_with_code(chain, artifacts):
    founder = chain.accounts[0]
    wallet = Wallet.deploy(chain, founder, founder.address, artifacts=artifacts)
    expect_revert(lambda: raw_membership(chain, founder, artifacts, [founder.address, wallet.address], eoa_only=True),
                  "CommuneContractAccount", account=wallet.address)
    # without eoaOnly a contract may found (and hold a share)
    open_commune = CommuneClient.deploy(chain, founder, founders=[founder.address, wallet.address], artifacts=artifacts)
    assert open_commune.is_member(wallet.address) and not open_commune.eoa_only()


def test_deploy_commune_passes_eoa_only_on(chain, artifacts):
    from vcengine.deploy import CommuneParams, deploy_commune

    founder = chain.accounts[0]
    d = deploy_commune(chain, founder, CommuneParams(founders=[founder.address], eoa_only=True), artifacts=artifacts)
    assert d.commune.eoa_only() and d.commune.is_member(founder.address)


def test_eoa_only_refuses_a_contract_joining_and_admits_an_eoa(chain, artifacts):
    a, b, owner, worker = chain.accounts[:4]
    commune = CommuneClient.deploy(chain, a, founders=[a.address, b.address], labour_threshold=10, quorum_cap=2,
                                   eoa_only=True, artifacts=artifacts)
    assert commune.eoa_only()
    wallet = Wallet.deploy(chain, owner, owner.address, artifacts=artifacts)
    tx = wallet.transact("execute", commune.address, _calldata(commune, "submitLabour", 10, "ipfs://wallet-work"),
                         sender=owner)
    receipt = chain.w3.eth.get_transaction_receipt(tx.tx_hash)
    claim = next(e for e in commune.decode_events(receipt) if e.name == "LabourSubmitted").args["claimId"]
    commune.attest(claim, sender=a)
    commune.attest(claim, sender=b)
    assert commune.counted_labour(wallet.address) == 10  # labour may be counted; the share is refused
    expect_revert(lambda: wallet.transact("execute", commune.address, _calldata(commune, "join"), sender=owner),
                  "CommuneContractAccount", account=wallet.address)
    assert not commune.is_member(wallet.address) and commune.member_count() == 2
    earn_share(commune, worker, [a, b])  # an externally owned account signing its own join is admitted
    assert commune.is_member(worker.address) and commune.member_count() == 3


# ------------------------------------------------------------ non-transferable


@pytest.mark.parametrize(
    "entry, error",
    [
        ("transferFrom", "CommuneShareNotTransferable"),
        ("safeTransferFrom(address,address,uint256)", "CommuneShareNotTransferable"),
        ("safeTransferFrom(address,address,uint256,bytes)", "CommuneShareNotTransferable"),
        ("approve", "CommuneShareApprovalDisabled"),
        ("setApprovalForAll", "CommuneShareApprovalDisabled"),
    ],
)
@pytest.mark.parametrize("caller_index", [0, 4])  # the owner, and a stranger
def test_every_transfer_and_approval_entry_point_reverts(commune, accounts, entry, error, caller_index):
    owner, buyer, caller = accounts[0], accounts[4], accounts[caller_index]
    args = {
        "transferFrom": (owner.address, buyer.address, 1),
        "safeTransferFrom(address,address,uint256)": (owner.address, buyer.address, 1),
        "safeTransferFrom(address,address,uint256,bytes)": (owner.address, buyer.address, 1, b"\x01"),
        "approve": (buyer.address, 1),
        "setApprovalForAll": (buyer.address, True),
    }[entry]
    expected = {"shareId": 1} if error == "CommuneShareNotTransferable" else {"operator": buyer.address}
    expect_revert(lambda: commune.transact(entry, *args, sender=caller), error, **expected)
    assert commune.owner_of(1) == owner.address and commune.balance_of(buyer.address) == 0
    assert commune.call("getApproved", 1) == "0x" + "00" * 20
    assert not commune.call("isApprovedForAll", owner.address, buyer.address)


def test_abi_transfer_entry_points_are_all_covered(artifacts):
    """Every ERC-721 entry point that could move a share or grant a right to move it is overridden.
    (`sweep` moves stray settlement tokens to the treasury, never a share; `initialize` is the clone's
    one-time set-up by its factory; `setParameters` changes the threshold and the quorum cap.)"""
    names = {i["name"] for i in artifacts["Commune"].abi if i["type"] == "function"
             and i["stateMutability"] in ("nonpayable", "payable")}
    assert names == {"submitLabour", "attest", "join", "leave", "sweep", "transferFrom", "safeTransferFrom",
                     "approve", "setApprovalForAll", "initialize", "setParameters"}


# ---------------------------------------------------------------- no payments


def test_no_function_is_payable_and_there_is_no_receive(artifacts):
    abi = artifacts["Commune"].abi
    assert not [i for i in abi if i.get("stateMutability") == "payable"]
    assert not [i for i in abi if i["type"] in ("receive", "fallback")]


def test_plain_eth_is_refused(commune, accounts):
    w3 = commune.chain.w3
    expect_revert(lambda: commune.send_value(accounts[4], 10**18), "")
    assert w3.eth.get_balance(commune.address) == 0
    assert commune.member_count() == 3 and not commune.is_member(accounts[4].address)


def test_eth_with_a_call_is_refused(commune, accounts):
    claim = commune.submit_labour(10, "ipfs://x", sender=accounts[3]).claim_id
    expect_revert(lambda: commune.transact("attest", claim, sender=accounts[0], value=1), "")
    expect_revert(lambda: commune.transact("submitLabour", 5, "x", sender=accounts[4], value=1), "")
    assert commune.labour_claim(claim).attestations == 0
