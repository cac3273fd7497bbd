"""``vc deploy``: a complete commune through the CommuneFactory, recorded in deployments/NETWORK.json.

Before anything is sent: every option is checked, the plan (each transaction with its estimated
gas and cost) is printed for ``--dry-run`` and for networks that are not local, a non-local network
and a ``--force`` over a live commune ask for confirmation (``--yes``). While sending, each piece of
the factory is recorded as soon as it is mined, so an interrupted deployment resumes without paying
for them again. The record that is replaced is kept as a dated backup.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from vcengine.cli import handle_errors, json_option
from vcengine.client import InputError, _fees
from vcengine.commands.common import (Session, account_options, check_address, confirm, network_option,
                                      parse_duration, yes_option)
from vcengine.deploy import (CommuneParams, PlannedTx, check_founders, check_params, create_commune, deploy_factory,
                             plan_deployment)
from vcengine.deployments import (live_commune, read_previous, record_factory_piece, record_path, recorded_pieces,
                                  write_record)
from vcengine.token import TestStablecoinClient
from vcengine.display import ether as eth  # the one ETH formatter (money.py takes it from here too)
from vcengine.units import format_amount

#: Note printed by every deployment on the embedded chain.
TESTER_NOTE = ("network 'tester' is the embedded chain of this process: the commune lives only as long as this "
               "process (commands run after it in the same Python process see it; the next shell command starts "
               "an empty chain). For a chain that persists, run `vc node start` and deploy with `--network local`.")


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
@click.option("--force", is_flag=True,
              help="Deploy even if deployments/NETWORK.json names a live commune (the record is replaced; the old "
                   "one is kept as deployments/NETWORK.YYYYMMDDTHHMMSSZ.json). Asks for confirmation.")
@click.option("--dry-run", is_flag=True,
              help="Print every transaction that would be sent, with its estimated gas and cost; send nothing.")
@yes_option
@json_option
@handle_errors
def deploy(network_name: str, account: str | None, account_index: int | None, password_file: Path | None,
           founders: tuple[str, ...], token_address: str | None, period: str, grace: str, sale: str,
           labour_threshold: int, quorum_cap: int, rate_cap_bps: int, reserve_bps: int, name: str, symbol: str,
           eoa_only: bool, skip_token_probe: bool, factory_address: str | None, force: bool, dry_run: bool,
           as_json: bool) -> None:
    """Deploy a commune (membership, treasury, common stock) in one factory transaction."""
    session = Session.start(network_name, as_json)
    network = session.network
    params_in = {"period": parse_duration(period, "--period"), "grace": parse_duration(grace, "--grace"),
                 "sale": parse_duration(sale, "--sale")}
    if token_address is not None:
        token_address = check_address(token_address, "--token")
    if factory_address is not None:
        factory_address = check_address(factory_address, "--factory")
    if not founders:
        raise InputError("name at least one --founder: the initial workers, one share each")
    chain = session.chain
    previous = read_previous(network.name)
    live = live_commune(previous, chain)
    if live and not force:
        raise InputError(f"a commune is already deployed on network {network.name!r} at {live} "
                         f"({record_path(network.name)}); pass --force to deploy another one and replace the "
                         f"record (the old one is kept as a dated backup)")
    founder_addresses = [session.address_of(f, "--founder") for f in founders]
    params = CommuneParams(founders=founder_addresses, labour_threshold=labour_threshold, quorum_cap=quorum_cap,
                           period_seconds=params_in["period"], grace_seconds=params_in["grace"],
                           sale_seconds=params_in["sale"], rate_cap_bps=rate_cap_bps,
                           liquidation_reserve_bps=reserve_bps, name=name, symbol=symbol, eoa_only=eoa_only)
    check_params(params)
    check_founders(params.founders)
    if token_address is None and not network.has_test_accounts:
        raise InputError(f"network {network.name!r} is not local: pass --token ADDRESS (the settlement "
                         f"token, e.g. a stablecoin); test stablecoins are for local networks only")
    if token_address is not None and not chain.w3.eth.get_code(token_address):
        raise InputError(f"--token {token_address} has no code on network {network.name!r}")
    if token_address is not None and not skip_token_probe:
        _probe(session, token_address)
    if factory_address is not None and not chain.w3.eth.get_code(factory_address):
        raise InputError(f"--factory {factory_address} has no code on network {network.name!r}")
    if eoa_only:
        with_code = [f for f in founder_addresses if chain.w3.eth.get_code(f)]
        if with_code:
            raise InputError(f"--eoa-only: founder {with_code[0]} has code (a contract or a delegated account); "
                             f"an EOA-only commune admits externally owned accounts only")
    deployer = signer_address(session, account, account_index, password_file)
    artifacts = session.artifacts
    pieces = {} if factory_address else recorded_pieces(network.name, chain, artifacts, previous)
    reused_factory = factory_address is None and "CommuneFactory" in pieces
    planned_factory = factory_address or pieces.get("CommuneFactory")

    # ---- the plan: printed for a dry run and before sending anything to a network that is not local
    costly = network.kind not in ("tester", "local")
    plan_out: dict = {}
    if dry_run or costly:
        plan = plan_deployment(chain, deployer, params, artifacts, factory=planned_factory, token=token_address,
                               pieces=pieces)
        plan_out = _show_plan(session, plan, deployer, dry_run)
        if dry_run:
            session.finish({"dry_run": True, "chain_id": chain.chain_id, **plan_out,
                            "founders": founder_addresses, "factory": planned_factory,
                            "token": token_address, "test_token": token_address is None,
                            "persists": network.kind != "tester"})
            return
        if not plan_out["enough_eth"]:
            raise InputError(f"the deployer {deployer} holds {eth(plan_out['deployer_balance_wei'])}, less than the "
                             f"{eth(plan_out['cost_wei'])} the deployment may cost at the current fees: nothing was "
                             f"sent; fund it, or wait for lower fees")
    questions = []
    if costly:
        questions.append(f"deploy on network {network.name!r} (chain id {chain.chain_id}) from {deployer}: "
                         f"{len(plan_out['steps'])} transactions, about {plan_out['gas']:,} gas, at most "
                         f"{eth(plan_out['cost_wei'])} at the current fees")
    if live:
        questions.append(f"replace the record of the live commune {live} ({record_path(network.name)}, kept as "
                         f"a dated backup)")
    if questions:
        confirm("; and ".join(questions) + "?")
    sender = session.signer(account, account_index, password_file)

    # ---- everything is checked: send
    if factory_address is None and not reused_factory:
        made = deploy_factory(chain, sender, artifacts, existing=pieces,
                              on_deployed=lambda label, at, gas: record_factory_piece(network.name, chain, label,
                                                                                       at, gas))
        factory = {"address": made.factory, "implementations": made.implementations,
                   "series_implementation": made.series_implementation, "gas": made.gas}
        resumed = f"; {len(pieces)} pieces reused from an interrupted deployment" if pieces else ""
        session.say(f"factory deployed at {made.factory} (gas {sum(made.gas.values()):,} for it and the code "
                    f"every commune clones: the common stock's modules and the implementations{resumed})")
    elif reused_factory:
        factory = {"address": pieces["CommuneFactory"], "series_implementation": pieces.get("BondSeries"),
                   "implementations": {k: v for k, v in pieces.items() if k not in ("CommuneFactory", "BondSeries")}}
        session.say(f"factory {factory['address']} reused (recorded for network {network.name!r})")
    else:
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
    written = write_record(network.name, chain, deployment, tx.block_number, tx.tx_hash, factory, artifacts)
    backup = json.loads(written.read_text()).get("replaces")
    backup_path = str(written.with_name(backup)) if backup else None
    for label, address in deployment.contracts().items():
        session.say(f"  {label:<26} {address}")
    session.say(f"deployed on {network.name} (chain id {chain.chain_id}, block {tx.block_number}); "
                f"record: {written}" + (f"; the previous record is kept as {backup_path}" if backup_path else ""))
    if network.kind == "tester":
        session.say(f"[yellow]note:[/] {TESTER_NOTE}")
    session.finish({"record": str(written), "backup": backup_path, "chain_id": chain.chain_id,
                    "block": tx.block_number, "contracts": deployment.contracts(), "factory": factory["address"],
                    "factory_reused": factory_address is not None or reused_factory,
                    "gas": {"create": tx.gas_used, **factory.get("gas", {})}, "persists": network.kind != "tester"})


def signer_address(session: Session, account: str | None, account_index: int | None,
                      password_file: Path | None) -> str:
    """The address of the signer the options name, without decrypting a keystore (a dry run, or
    a recipient named by ``--account``, needs no password)."""
    if account is not None and account_index is not None or account is None and account_index is None:
        return session.signer(account, account_index, password_file).address  # its message names the options
    if account_index is not None or (account is not None and account.isdigit()):
        return session.test_account(account_index if account_index is not None else int(account)).address  # type: ignore[arg-type]
    from vcengine.accounts import find_account

    return find_account(account)[1]  # type: ignore[arg-type]


def _show_plan(session: Session, plan: list[PlannedTx], deployer: str, dry_run: bool) -> dict:
    """Print the transactions of ``plan`` with their gas and cost at the node's current fees;
    returns the same for ``--json``."""
    chain = session.chain
    fees = _fees(chain.w3)
    max_fee = fees["maxFeePerGas"]
    balance = chain.w3.eth.get_balance(deployer)
    total = sum(step.gas for step in plan)
    steps = [{"step": i, "label": step.label, "kind": step.kind, "address": step.address, "gas": step.gas,
              "cost_eth": format_amount(step.gas * max_fee, 18), "cost_wei": step.gas * max_fee,
              "estimated_by": step.estimated_by, "how": step.how} for i, step in enumerate(plan, 1)]
    title = ("dry run: nothing is sent" if dry_run else "to be sent") + (
        f" on network {session.network.name!r} (chain id {chain.chain_id}) from {deployer}")
    table = Table(title=title, title_justify="left")
    for column in ("#", "transaction", "contract address", "gas", "cost (ETH)", "estimated by"):
        table.add_column(column, justify="right" if column in ("#", "gas", "cost (ETH)") else "left")
    for row in steps:
        what = f"create {row['label']}" if row["kind"] == "create" else f"call {row['label']}"
        table.add_row(str(row["step"]), what, row["address"], f"{row['gas']:,}", eth(row["cost_wei"], ""),
                      row["estimated_by"])
    session.console.print(table)
    for key, how in {step.estimated_by: step.how for step in plan}.items():
        session.say(f"  {key}: {how}")
    gwei = format_amount(max_fee, 9, grouping=True)
    session.say(f"total: {total:,} gas, at most {eth(total * max_fee)} at maxFeePerGas {gwei} gwei "
                f"(2 x base fee + tip, as each transaction is sent); the deployer holds {eth(balance)}")
    enough = balance >= total * max_fee
    if not enough:
        session.say("[red]the deployer holds less ETH than the deployment may cost[/]")
    return {"steps": steps, "gas": total, "cost_eth": format_amount(total * max_fee, 18), "cost_wei": total * max_fee,
            "max_fee_per_gas_wei": max_fee, "max_priority_fee_per_gas_wei": fees["maxPriorityFeePerGas"],
            "deployer": deployer, "deployer_balance_eth": format_amount(balance, 18),
            "deployer_balance_wei": balance, "enough_eth": enough}


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
