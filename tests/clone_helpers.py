"""Communes made as the factory makes them, without the Python client's checks, and clones made by hand.

The hand-made clones are built here from the published EIP-1167 bytes and the argument table of
`contracts/libraries/CommuneArgs.sol`, independently of the factory, so a test can give a commune a
governance account (the factory gives none yet) or a factory that is an ordinary account.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_bytes, to_checksum_address
from web3.utils.address import get_create_address

from vcengine.client import ErrorDecoder, _send
from vcengine.compiler import CompileResult
from vcengine.deploy import CommuneFactoryClient, CommuneParams, _create_config, chain_factory

#: EIP-1167: the minimal proxy's runtime code around the 20-byte implementation address.
PROXY_HEAD = bytes.fromhex("363d3d373d3d3d363d73")
PROXY_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
ZERO = "0x" + "00" * 20


def factory(chain, sender, artifacts: CompileResult) -> CommuneFactoryClient:
    return CommuneFactoryClient(chain, chain_factory(chain, sender, artifacts).factory, artifacts)


def raw_membership(chain, sender, artifacts, founders, threshold=10, cap=2, eoa_only=False, name="VC", symbol="VC"):
    """``CommuneFactory.createMembership`` sent as given (the Python client would check these first)."""
    return factory(chain, sender, artifacts).transact("createMembership", name, symbol, founders, threshold, cap,
                                                      eoa_only, sender=sender)


def raw_create(chain, sender, artifacts, params: CommuneParams, token: str):
    """``CommuneFactory.create`` sent as given."""
    return factory(chain, sender, artifacts).transact("create", _create_config(params, list(params.founders), token),
                                                      sender=sender)


def clone_args(*, factory: str, commune: str, treasury: str, stock: str, token: str, series: str, governance: str,
               grid_origin: int, period: int, decimals: int, eoa_only: bool) -> bytes:
    """The 154 bytes of CommuneArgs, by its table (addresses, then uint64, uint32, uint8, bool)."""
    out = b"".join(to_bytes(hexstr=a) for a in (factory, commune, treasury, stock, token, series, governance))
    out += grid_origin.to_bytes(8, "big") + period.to_bytes(4, "big") + bytes([decimals, int(eoa_only)])
    assert len(out) == 154
    return out


def clone_runtime(implementation: str, args: bytes) -> bytes:
    return PROXY_HEAD + to_bytes(hexstr=implementation) + PROXY_TAIL + args


def deploy_clone(chain, sender, implementation: str, args: bytes) -> str:
    """A clone of ``implementation`` with ``args``, created by ``sender`` with a plain CREATE
    (initcode: PUSH2 size, RETURNDATASIZE, DUP2, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURN)."""
    runtime = clone_runtime(implementation, args)
    initcode = bytes.fromhex("61") + len(runtime).to_bytes(2, "big") + bytes.fromhex("3d81600a3d39f3") + runtime
    receipt = _send(chain, {"data": "0x" + initcode.hex()}, sender, 0, ErrorDecoder([]), "clone", "constructor")
    address = receipt["contractAddress"]
    assert bytes(chain.w3.eth.get_code(address)) == runtime
    return address


def hand_made_commune(chain, owner, artifacts: CompileResult, token: str, founders: list[str], *,
                      governance: str | None = None, period: int = 30 * 24 * 3600, grace: int = 7 * 24 * 3600,
                      sale: int = 3 * 24 * 3600, rate_cap: int = 1_000, reserve: int = 0,
                      threshold: int = 10, cap: int = 2) -> dict[str, Any]:
    """A commune whose three clones ``owner`` creates and initialises itself (it is their "factory"),
    on the chain's implementations; ``governance`` (default: ``owner``) may change its parameters."""
    made = chain_factory(chain, owner, artifacts)
    nonce = chain.w3.eth.get_transaction_count(owner.address, "pending")
    commune_at, treasury_at, stock_at = (to_checksum_address(get_create_address(owner.address, nonce + i))
                                         for i in range(3))
    token_decimals = chain.w3.eth.contract(address=token, abi=artifacts["TestStablecoin"].abi).functions.decimals().call()
    args = clone_args(factory=owner.address, commune=commune_at, treasury=treasury_at, stock=stock_at, token=token,
                      series=made.series_implementation, governance=governance or owner.address,
                      grid_origin=chain.now() + 1, period=period, decimals=token_decimals, eoa_only=False)
    addresses = [deploy_clone(chain, owner, made.implementations[name], args)
                 for name in ("Commune", "Treasury", "CommonStock")]
    assert addresses == [commune_at, treasury_at, stock_at]
    from vcengine.commune import CommuneClient
    from vcengine.stock import CommonStockClient
    from vcengine.treasury import TreasuryClient

    commune = CommuneClient(chain, commune_at, artifacts)
    stock = CommonStockClient(chain, stock_at, artifacts)
    commune.transact("initialize", "VC", "VC", founders, threshold, cap, sender=owner)
    stock.transact("initialize", (period, grace, sale, rate_cap, reserve), sender=owner)
    return {"commune": commune, "treasury": TreasuryClient(chain, treasury_at, artifacts), "stock": stock,
            "args": args}


__all__ = ["ZERO", "PROXY_HEAD", "PROXY_TAIL", "clone_args", "clone_runtime", "deploy_clone", "factory",
           "hand_made_commune", "raw_create", "raw_membership"]
