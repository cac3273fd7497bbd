"""The same deployment and client code on a real anvil node started from node_modules."""

from __future__ import annotations

import pytest

from vcengine.chains import AnvilChain, anvil_binary
from vcengine.client import ContractReverted
from vcengine.commune import CommuneClient

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def anvil():
    chain = AnvilChain()
    yield chain
    chain.close()


def test_membership_flow_on_anvil(anvil, artifacts):
    a, b, c, worker, capitalist = anvil.accounts[:5]
    commune = CommuneClient.deploy(anvil, a, founders=[a.address, b.address, c.address], labour_threshold=10,
                                   quorum_cap=2, artifacts=artifacts)
    claim = commune.submit_labour(10, "ipfs://anvil-timesheet", sender=worker).claim_id
    assert not commune.attest(claim, sender=a).counted
    assert commune.attest(claim, sender=b).counted
    share = commune.join(sender=worker).share_id
    assert commune.owner_of(share) == worker.address and commune.member_count() == 4

    with pytest.raises(ContractReverted) as info:
        commune.join(sender=capitalist)
    assert info.value.name == "LabourBelowThreshold"
    assert info.value.args_dict == {"worker": capitalist.address, "counted": 0, "threshold": 10}

    with pytest.raises(ContractReverted) as info:
        commune.transfer_from(worker.address, capitalist.address, share, sender=worker)
    assert info.value.name == "CommuneShareNotTransferable" and info.value.args_dict == {"shareId": share}

    with pytest.raises(ContractReverted) as info:
        commune.send_value(capitalist, 10**18)
    assert info.value.name == ""  # no payable entry: an empty revert
    assert anvil.w3.eth.get_balance(commune.address) == 0

    # a custom error whose first argument is a string decodes exactly
    with pytest.raises(ContractReverted) as info:
        commune.transact("submitLabour", 2**64, "x", sender=worker)
    assert info.value.name == "CommuneInvalidParameter" and info.value.args_dict == {"name": "units", "value": 2**64}

    commune.leave(sender=worker)
    assert commune.member_count() == 3 and commune.balance_of(worker.address) == 0


def test_state_file_keeps_the_commune_across_a_restart(tmp_path, artifacts):
    state = tmp_path / "anvil-state.json"
    with AnvilChain(state_file=state) as first:
        founder = first.accounts[0]
        commune = CommuneClient.deploy(first, founder, founders=[founder.address], artifacts=artifacts)
        address = commune.address
    assert state.is_file() and state.stat().st_size > 0
    with AnvilChain(state_file=state) as second:
        again = CommuneClient(second, address, artifacts)
        assert again.member_count() == 1 and again.is_member(second.accounts[0].address)


def test_anvil_binary_is_the_platform_binary_not_the_node_wrapper():
    path = anvil_binary()
    assert path.name == "anvil" and "node_modules/.bin" not in str(path) and path.parent.name == "bin"


def test_whole_demo_runs_on_anvil(anvil, artifacts):
    """The same deployment, clients, keeper and time controls on a real node."""
    from vcengine.demo import run_demo

    report = run_demo(anvil, artifacts=artifacts)
    failed = [s for s in report.steps if not s.ok]
    assert report.ok, failed
    assert {a["state"] for a in report.assets} == {"rented", "failed", "liquidated"}
