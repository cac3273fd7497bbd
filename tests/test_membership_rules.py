"""Membership rules of `Commune`: one share per member, earned by attested labour, never transferable.

Each refusal is asserted by its exact custom error and arguments, and that the state did not move.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

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
def test_constructor_refuses_bad_parameters(chain, artifacts, founders, threshold, cap, error, args):
    addr = {"a0": chain.accounts[0].address}
    founders = [addr[f] for f in founders]
    args = {k: addr.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
    # Send the raw constructor (the Python client would catch these before sending).
    # ContractClient.deploy is the unvalidated base that CommuneClient.deploy wraps.
    deploy = lambda: ContractClient.deploy.__func__(  # noqa: E731
        CommuneClient, chain, chain.accounts[0], "VC", "VC", founders, threshold, cap, ZERO, ZERO, artifacts=artifacts)
    expect_revert(deploy, error, **args)


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
    founder, worker = chain.accounts[0], chain.accounts[1]
    solo = CommuneClient.deploy(chain, founder, founders=[founder.address], labour_threshold=5, quorum_cap=3,
                                artifacts=artifacts)
    assert solo.quorum() == 1
    claim = solo.submit_labour(5, "ipfs://solo", sender=worker).claim_id
    assert solo.attest(claim, sender=founder).counted
    solo.join(sender=worker)
    assert solo.quorum() == 2


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


def test_last_member_may_leave(chain, artifacts):
    founder = chain.accounts[0]
    solo = CommuneClient.deploy(chain, founder, founders=[founder.address], artifacts=artifacts)
    solo.leave(sender=founder)
    assert solo.member_count() == 0 and solo.quorum() == 0


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
    """Every ERC-721 entry point that could move a share or grant a right to move it is overridden."""
    names = {i["name"] for i in artifacts["Commune"].abi if i["type"] == "function"
             and i["stateMutability"] in ("nonpayable", "payable")}
    assert names == {"submitLabour", "attest", "join", "leave", "transferFrom", "safeTransferFrom",
                     "approve", "setApprovalForAll"}


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
