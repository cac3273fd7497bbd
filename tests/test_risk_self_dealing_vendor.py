"""Risk 9: a self-dealing vendor.

The finding: the vendor of a requested asset could be the requester, or another member: a member
could have the commune borrow the price from bondholders and pay it to themselves (or a friend in the
commune) for an asset that may not exist, then default. The fix refuses both at the request:
AssetVendorIsRequester(vendor) and AssetVendorIsMember(vendor); and, found in review, one of the
commune's own contracts, whose credit could never be withdrawn: AssetVendorIsCommuneContract(vendor).
"""

from __future__ import annotations

import pytest

from adversarial import HOUR, UNIT, World, arts, deploy, expect_revert, module_chain, vendor  # noqa: F401
from vcengine.client import ContractReverted, InputError


@pytest.fixture(scope="module")
def vendor_world(module_chain, arts):
    return World(deploy(module_chain, arts, fund=4))


@pytest.fixture
def w(vendor_world):
    return vendor_world.reset()


def raw_request(w, requester, vendor_address):
    """requestAsset sent straight to the contract (the Python client refuses some of these first)."""
    closes = w.chain.now() + 1 + HOUR
    return w.d.stock.transact("requestAsset", "ipfs://asset", 1_000 * UNIT, vendor_address, 300 * UNIT, 4, closes,
                              sender=requester)


def test_the_requester_as_vendor_is_refused(w):
    """Old code: accepted; the requester would be credited the 1,000 at settlement. Now
    AssetVendorIsRequester(vendor), and the Python client refuses it before sending anything."""
    a = w.chain.accounts
    expect_revert(lambda: raw_request(w, a[0], a[0].address), "AssetVendorIsRequester", vendor=a[0].address)
    block = w.chain.w3.eth.block_number
    with pytest.raises((InputError, ContractReverted)):
        w.d.stock.request_asset("ipfs://asset", 1_000 * UNIT, a[0].address, 300 * UNIT, 4, w.chain.now() + HOUR,
                                sender=a[0], approve=False)
    assert w.chain.w3.eth.block_number == block
    assert w.d.stock.asset_count() == 0 and w.d.stock.escrow_held() == 0


@pytest.mark.parametrize("member", [1, 2])
def test_another_member_as_vendor_is_refused(w, member):
    """Old code: accepted; the member-vendor would be credited the price. Now AssetVendorIsMember(vendor)."""
    a = w.chain.accounts
    expect_revert(lambda: raw_request(w, a[0], a[member].address), "AssetVendorIsMember", vendor=a[member].address)
    assert w.d.stock.asset_count() == 0


@pytest.mark.parametrize("contract", ["stock", "treasury", "commune"])
def test_the_communes_own_contract_as_vendor_is_refused(w, contract):
    """Found in review: the vendor could be one of the commune's own contracts, which can never
    withdraw a credit: the price would be stuck in the stock for good. Now
    AssetVendorIsCommuneContract(vendor), and the Python client refuses it before sending anything."""
    d, a = w.d, w.chain.accounts
    address = getattr(d, contract).address
    expect_revert(lambda: raw_request(w, a[0], address), "AssetVendorIsCommuneContract", vendor=address)
    block = w.chain.w3.eth.block_number
    with pytest.raises(InputError, match="own"):
        d.stock.request_asset("ipfs://asset", 1_000 * UNIT, address, 300 * UNIT, 4, w.chain.now() + HOUR,
                              sender=a[0], approve=False)
    assert w.chain.w3.eth.block_number == block and d.stock.asset_count() == 0


def test_an_outside_vendor_is_accepted_and_a_former_member_counts_as_outside(w):
    """The check is membership at the request: accounts[10] (never a member) is accepted, and so is
    accounts[2] once it has left (the documented limit: the commune cannot tell a friend from a stranger)."""
    d, a = w.d, w.chain.accounts
    first = raw_request(w, a[0], vendor(d)).event("AssetRequested").args
    assert (first["requester"], first["vendor"]) == (a[0].address, vendor(d))
    d.commune.leave(sender=a[2])
    second = raw_request(w, a[1], a[2].address).event("AssetRequested").args
    assert second["vendor"] == a[2].address
    assert d.stock.escrow_held() == 600 * UNIT
