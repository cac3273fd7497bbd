"""``vc payout claim``, ``vc bonds claim``, ``vc balance`` (ETH and the commune's tokens) and (local
networks) ``vc faucet`` (test stablecoins, or test ETH with ``--eth``)."""

from __future__ import annotations

from pathlib import Path

import click

from vcengine.cli import handle_errors
from vcengine.client import ContractReverted, ErrorDecoder, InputError, _result, _send
from vcengine.commands.common import Session, actor_options, check_amount, check_id, reader_options
from vcengine.commands.deploy import eth, signer_address
from vcengine.networks import LocalNodeChain
from vcengine.token import BondSeriesClient, TestStablecoinClient
from vcengine.units import format_amount


@click.group()
def payout() -> None:
    """Your equal share of the commune's income."""


@payout.command("claim")
@actor_options
@handle_errors
def payout_claim(network_name: str, account: str | None, account_index: int | None, password_file: Path | None,
                 commune_address: str | None, as_json: bool) -> None:
    """Claim every payout accrued to you (members and former members)."""
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    sender = s.signer(account, account_index, password_file)
    try:
        d.treasury.estimate("claimPayout", sender=sender.address)
    except ContractReverted as exc:
        if exc.name == "TreasuryNothingToClaim":  # "nothing to claim" is an answer, not a refusal: exit 2
            raise InputError(f"nothing to claim: no payout has accrued to {s.display.address(sender.address)} "
                             "yet") from None
        raise
    result = d.treasury.claim_payout(sender=sender)
    s.say(f"payout of {s.display.amount(result.amount)} to {s.display.address(sender.address)}")
    out = {"account": sender.address}
    s.display.put_amount(out, "amount", result.amount)
    s.finish(out)


@click.group()
def bonds() -> None:
    """Payments on the bonds you hold."""


@bonds.command("claim")
@click.argument("asset_id", type=int)
@actor_options
@handle_errors
def bonds_claim(asset_id: int, network_name: str, account: str | None, account_index: int | None,
                password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Withdraw the payments accrued on your bonds of ASSET_ID (interest and principal)."""
    check_id(asset_id, "ASSET_ID")
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    if asset_id > d.stock.asset_count():
        raise InputError(f"there is no asset {asset_id} (assets so far: {d.stock.asset_count()})")
    series = d.stock.series(asset_id)
    sender = s.signer(account, account_index, password_file)
    due = series.pay_withdrawable(sender.address)
    if due == 0:
        raise InputError(f"nothing to claim: {sender.address} has no payments accrued on the bonds of asset {asset_id}")
    series.withdraw_payments(sender=sender)
    s.say(f"bonds of asset {asset_id}: {s.display.amount(due)} paid to {s.display.address(sender.address)}")
    out = {"asset_id": asset_id, "account": sender.address}
    s.display.put_amount(out, "amount", due)
    s.finish(out)


@click.command()
@click.argument("who", required=False)
@click.option("--account", "account", default=None, envvar="VC_ACCOUNT", metavar="NAME|ADDRESS|N",
              help="Whose balance (same as WHO).")
@reader_options
@handle_errors
def balance(who: str | None, account: str | None, network_name: str, commune_address: str | None,
            as_json: bool) -> None:
    """ETH, settlement tokens, bonds, payouts and credits of WHO (an address, account name or test index).

    Without a commune on the network (none deployed yet, or a stale record) only the ETH is shown.
    """
    s = Session.start(network_name, as_json, commune_address)
    target = who or account
    if target is None:
        raise InputError("whose balance? give WHO (an address, a keystore account name or a test account index)")
    address = s.address_of(target, "WHO")
    wei = s.chain.w3.eth.get_balance(address)
    out: dict = {"account": address, "eth": format_amount(wei, 18), "eth_wei": wei}
    try:
        d = s.deployment
    except InputError as exc:  # no commune here (yet): the ETH is still worth showing
        if commune_address is not None:
            raise
        s.say(f"{s.display.address(address)}: {eth(wei)}")
        s.say(f"no commune balances: {exc}")
        s.finish({**out, "commune": None, "commune_error": str(exc)})
        return
    show = s.display
    symbol = d.token.symbol()
    tokens = d.token.balance_of(address)
    held = []
    for asset_id in range(1, d.stock.asset_count() + 1):
        series_at = d.stock.asset(asset_id).series
        if series_at:
            series = BondSeriesClient(s.chain, series_at, s.artifacts)
            units, due = series.balance_of(address), series.pay_withdrawable(address)
            if units or due:
                held.append((asset_id, units, due))
    claimable = d.treasury.claimable(address)
    credits = d.stock.credits(address)
    s.say(f"{show.address(address)}: {eth(wei)}; {show.amount(tokens)}; payout claimable {show.amount(claimable)}; "
          f"credits {show.amount(credits)}")
    for asset_id, units, due in held:
        s.say(f"  bonds of asset {asset_id}: {show.amount(units)} (payments due {show.amount(due)})")
    out.update({"commune": d.commune.address, "symbol": symbol})
    for key, base in (("tokens", tokens), ("payout_claimable", claimable), ("credits", credits)):
        show.put_amount(out, key, base)
    bonds = []
    for asset_id, units, due in held:
        entry: dict = {"asset_id": asset_id}
        show.put_amount(entry, "bonds", units)
        show.put_amount(entry, "payments_due", due)
        bonds.append(entry)
    s.finish({**out, "bonds": bonds})


@click.command()
@click.argument("amount")
@click.option("--to", "to", default=None, metavar="ADDRESS|NAME|N", help="Recipient (default: the signer).")
@click.option("--eth", "as_eth", is_flag=True,
              help="AMOUNT is test ETH for gas, not test stablecoins: on local anvil added with anvil_setBalance "
                   "(no transaction), on tester sent from a funded test account. Needs no commune.")
@actor_options
@handle_errors
def faucet(amount: str, to: str | None, as_eth: bool, network_name: str, account: str | None,
           account_index: int | None, password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Mint AMOUNT test stablecoins, or with --eth give AMOUNT test ETH (local networks only)."""
    s = Session.start(network_name, as_json, commune_address)
    if not s.network.has_test_accounts:
        raise InputError(f"network {s.network.name!r} is not local: there is no faucet"
                         + ("; get test ETH from the chain's own faucet, or send it from a funded account"
                            if as_eth else ""))
    if as_eth:
        _faucet_eth(s, amount, to, account, account_index, password_file)
        return
    d = s.deployment
    base = check_amount(amount, s.decimals, "AMOUNT")
    recipient = s.address_of(to, "--to") if to else None
    sender = s.signer(account, account_index, password_file)
    recipient = recipient or sender.address
    token = TestStablecoinClient(s.chain, d.token.address, s.artifacts)
    if not _has_faucet(token):
        raise InputError(f"the settlement token {d.token.address} is not the test stablecoin: it has no faucet")
    s.report_tx("faucet", token.faucet(recipient, base, sender=sender))
    held = d.token.balance_of(recipient)
    s.say(f"{s.display.address(recipient)} now holds {s.display.amount(held)}")
    out: dict = {"to": recipient}
    s.display.put_amount(out, "amount", base)
    s.display.put_amount(out, "balance", held)
    s.finish(out)


def _faucet_eth(s: Session, amount: str, to: str | None, account: str | None, account_index: int | None,
                password_file: Path | None) -> None:
    """``vc faucet --eth``: test ETH to ``--to`` (else the signer), on a local network."""
    wei = check_amount(amount, 18, "AMOUNT")
    if to is not None:
        recipient = s.address_of(to, "--to")
    elif account is not None or account_index is not None:
        recipient = signer_address(s, account, account_index, password_file)
    else:
        raise InputError("whom to fund? pass --to WHO (an address, a keystore account name or a test account "
                         "index), or --account")
    chain = s.chain
    out: dict = {"to": recipient, "asset": "ETH", "amount": format_amount(wei, 18), "amount_wei": wei}
    if isinstance(chain, LocalNodeChain):
        after = chain.add_balance(recipient, wei)
        out.update({"method": "anvil_setBalance", "from": None})
    else:  # the embedded chain: a transfer from a test account that is not the recipient and can pay
        funder = max((a for a in chain.accounts if a.address != recipient), key=lambda a: chain.w3.eth.get_balance(a.address))
        if chain.w3.eth.get_balance(funder.address) < wei + 10**16:
            raise InputError(f"AMOUNT {format_amount(wei, 18, grouping=True)} ETH is more than any test account "
                             f"of network {s.network.name!r} holds")
        receipt = _send(chain, {"to": recipient, "value": wei}, funder, wei, ErrorDecoder([]), "ETH", "transfer")
        s.report_tx("send test ETH", _result(receipt, []))
        after = chain.w3.eth.get_balance(recipient)
        out.update({"method": "transfer", "from": funder.address})
    s.say(f"{s.display.address(recipient)} now holds {eth(after)}")
    s.finish({**out, "eth": format_amount(after, 18), "eth_wei": after})


def _has_faucet(token: TestStablecoinClient) -> bool:
    code = token.chain.w3.eth.get_code(token.address)
    selector = bytes.fromhex(token.artifact.method_identifiers["faucet(address,uint256)"])
    return selector in bytes(code)
