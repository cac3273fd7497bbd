"""``vc deploy``: a complete commune through the CommuneFactory, recorded in deployments/NETWORK.json."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vcengine.cli import handle_errors, json_option
from vcengine.client import InputError
from vcengine.commands.common import Session, account_options, check_address, network_option, parse_duration
from vcengine.deploy import CommuneParams, check_founders, check_params, create_commune, deploy_factory
from vcengine.deployments import record_path, write_record
from vcengine.token import TestStablecoinClient


@click.command()
@network_option
@account_options
@click.option("--founder", "founders", multiple=True, metavar="ADDRESS|NAME|N",
              help="A founder (repeat for each): an address, a keystore account, or a test account index.")
@click.option("--token", "token_address", default=None, metavar="ADDRESS",
              help="Settlement token (any ERC-20). Default on local networks: deploy a test stablecoin.")
@click.option("--period", default="30d", show_default=True, help="Rent period length (e.g. 30d, 1w, 3600).")
@click.option("--grace", default="7d", show_default=True, help="How long rent may be overdue before reclaim.")
@click.option("--sale", default="3d", show_default=True, help="How long rental auctions and liquidation sales run.")
@click.option("--labour-threshold", default=10, show_default=True, help="Labour units a share costs.")
@click.option("--quorum-cap", default=3, show_default=True, help="Most attestations a labour claim needs.")
@click.option("--rate-cap-bps", default=1_000, show_default=True,
              help="Highest bond rate a bid may name, basis points per period (at most 4095).")
@click.option("--reserve-bps", default=0, show_default=True, help="Least liquidation price, bps of the asset's price.")
@click.option("--name", default="Venture Commune Share", show_default=True, help="ERC-721 name of the share.")
@click.option("--symbol", default="VCS", show_default=True, help="ERC-721 symbol of the share.")
@click.option("--eoa-only", is_flag=True,
              help="Admit only externally owned accounts as members (founders without code, joiners who sign "
                   "themselves); see the README's trust model for its limits (EIP-7702).")
@click.option("--skip-token-probe", is_flag=True,
              help="Deploy on --token without first checking that it moves exactly the amount asked "
                   "(only where the node cannot run the check; the contracts refuse inexact moves anyway).")
@click.option("--factory", "factory_address", default=None, metavar="ADDRESS",
              help="Use this CommuneFactory (default: the one recorded for the network, else deploy one).")
@click.option("--force", is_flag=True, help="Deploy even if deployments/NETWORK.json exists (it is replaced).")
@json_option
@handle_errors
def deploy(network_name: str, account: str | None, account_index: int | None, password_file: Path | None,
           founders: tuple[str, ...], token_address: str | None, period: str, grace: str, sale: str,
           labour_threshold: int, quorum_cap: int, rate_cap_bps: int, reserve_bps: int, name: str, symbol: str,
           eoa_only: bool, skip_token_probe: bool, factory_address: str | None, force: bool, as_json: bool) -> None:
    """Deploy a commune (membership, treasury, common stock) in one factory transaction."""
    session = Session.start(network_name, as_json)
    params_in = {"period": parse_duration(period, "--period"), "grace": parse_duration(grace, "--grace"),
                 "sale": parse_duration(sale, "--sale")}
    if token_address is not None:
        token_address = check_address(token_address, "--token")
    if factory_address is not None:
        factory_address = check_address(factory_address, "--factory")
    if not founders:
        raise InputError("name at least one --founder: the initial workers, one share each")
    path = record_path(session.network.name)
    previous = json.loads(path.read_text()) if path.is_file() else None
    chain = session.chain
    if previous and not force:
        commune_at = previous["contracts"]["Commune"]["address"]
        if previous.get("chain_id") == chain.chain_id and chain.w3.eth.get_code(commune_at):
            raise InputError(f"a commune is already deployed on network {session.network.name!r} at {commune_at} "
                             f"({path}); pass --force to deploy another one and replace the record")
    founder_addresses = [session.address_of(f, "--founder") for f in founders]
    params = CommuneParams(founders=founder_addresses, labour_threshold=labour_threshold, quorum_cap=quorum_cap,
                           period_seconds=params_in["period"], grace_seconds=params_in["grace"],
                           sale_seconds=params_in["sale"], rate_cap_bps=rate_cap_bps,
                           liquidation_reserve_bps=reserve_bps, name=name, symbol=symbol, eoa_only=eoa_only)
    check_params(params)
    check_founders(params.founders)
    if token_address is None and not session.network.has_test_accounts:
        raise InputError(f"network {session.network.name!r} is not local: pass --token ADDRESS (the settlement "
                         f"token, e.g. a stablecoin); test stablecoins are for local networks only")
    if token_address is not None and not chain.w3.eth.get_code(token_address):
        raise InputError(f"--token {token_address} has no code on network {session.network.name!r}")
    if token_address is not None and not skip_token_probe:
        _probe(session, token_address)
    if factory_address is not None and not chain.w3.eth.get_code(factory_address):
        raise InputError(f"--factory {factory_address} has no code on network {session.network.name!r}")
    sender = session.signer(account, account_index, password_file)
    artifacts = session.artifacts

    if eoa_only:
        with_code = [f for f in founder_addresses if chain.w3.eth.get_code(f)]
        if with_code:
            raise InputError(f"--eoa-only: founder {with_code[0]} has code (a contract or a delegated account); "
                             f"an EOA-only commune admits externally owned accounts only")

    # ---- everything is checked: send
    factory: dict = {}
    if factory_address is None and previous and previous.get("chain_id") == chain.chain_id:
        recorded = previous.get("factory", {}).get("address")
        if recorded and chain.w3.eth.get_code(recorded):
            factory_address = recorded
            factory = {k: v for k, v in previous["factory"].items() if k != "test_token"}
    if factory_address is None:
        made = deploy_factory(chain, sender, artifacts)
        factory = {"address": made.factory, "deployers": made.deployers,
                   "series_implementation": made.series_implementation, "gas": made.gas}
        session.say(f"factory deployed at {made.factory} (gas {sum(made.gas.values()):,} for it, its three "
                    f"deployers and the bond series implementation)")
    elif not factory:
        factory = {"address": factory_address}
    test_token = token_address is None
    if test_token:
        token = TestStablecoinClient.deploy(chain, sender, artifacts=artifacts)
        session.say(f"test stablecoin deployed at {token.address} (open faucet: `vc faucet AMOUNT`)")
        token_address = token.address
    factory["test_token"] = test_token
    deployment, tx = create_commune(chain, sender, params, factory["address"], token_address, artifacts)
    session._deployment = deployment
    session.report_tx("create commune", tx)
    written = write_record(session.network.name, chain, deployment, tx.block_number, tx.tx_hash, factory, artifacts)
    for label, address in deployment.contracts().items():
        session.say(f"  {label:<26} {address}")
    session.say(f"deployed on {session.network.name} (chain id {chain.chain_id}, block {tx.block_number}); "
                f"record: {written}")
    session.finish({"record": str(written), "chain_id": chain.chain_id, "block": tx.block_number,
                    "contracts": deployment.contracts(), "factory": factory["address"],
                    "gas": {"create": tx.gas_used, **factory.get("gas", {})}})


def _probe(session: Session, token: str) -> None:
    """Refuse a settlement token that does not move exactly the amount asked (fee, rebase), checked
    by `eth_call` with state overrides: nothing is sent and the deployer needs no balance."""
    from vcengine.token_probe import TokenProbeUnavailable, probe_token

    try:
        result = probe_token(session.chain, token, artifacts=session.artifacts)
    except TokenProbeUnavailable as exc:
        raise InputError(f"--token {token} could not be checked on network {session.network.name!r}: {exc}; "
                         f"pass --skip-token-probe to deploy anyway (the contracts still refuse every "
                         f"transfer that moves another amount than asked)") from None
    if not result.ok:
        raise InputError(f"--token {token} refused: {result.message}")
    session.say(f"settlement token checked: {result.message}")
