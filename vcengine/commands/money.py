"""``vc payout claim``, ``vc bonds claim``, ``vc balance`` and (local networks) ``vc faucet``."""

from __future__ import annotations

from pathlib import Path

import click

from vcengine.cli import handle_errors
from vcengine.client import ContractReverted, InputError
from vcengine.commands.common import Session, actor_options, check_amount, check_id, reader_options
from vcengine.token import BondSeriesClient, TestStablecoinClient


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
    """Settlement tokens, bonds, payouts and credits of WHO (an address, account name or test index)."""
    s = Session.start(network_name, as_json, commune_address)
    target = who or account
    if target is None:
        raise InputError("whose balance? give WHO (an address, a keystore account name or a test account index)")
    address = s.address_of(target, "WHO")
    d = s.deployment
    symbol = d.token.symbol()
    tokens = d.token.balance_of(address)
    held = []
    for asset_id in range(1, d.stock.asset_count() + 1):
        series_at = d.stock.asset(asset_id).series
        if series_at:
            series = BondSeriesClient(s.chain, series_at, s.artifacts)
            units, due = series.balance_of(address), series.pay_withdrawable(address)
            if units or due:
                held.append({"asset_id": asset_id, "bonds": s.fmt_plain(units), "payments_due": s.fmt_plain(due)})
    claimable = d.treasury.claimable(address)
    credits = d.stock.credits(address)
    s.say(f"{address}: {s.fmt(tokens)} {symbol}; payout claimable {s.fmt(claimable)}; credits {s.fmt(credits)}")
    for h in held:
        s.say(f"  bonds of asset {h['asset_id']}: {h['bonds']} (payments due {h['payments_due']})")
    s.finish({"account": address, "symbol": symbol, "tokens": s.fmt_plain(tokens),
              "payout_claimable": s.fmt_plain(claimable), "credits": s.fmt_plain(credits), "bonds": held})


@click.command()
@click.argument("amount")
@click.option("--to", "to", default=None, metavar="ADDRESS|NAME|N", help="Recipient (default: the signer).")
@actor_options
@handle_errors
def faucet(amount: str, to: str | None, network_name: str, account: str | None, account_index: int | None,
           password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Mint AMOUNT test stablecoins (local networks whose commune uses the test token)."""
    s = Session.start(network_name, as_json, commune_address)
    if not s.network.has_test_accounts:
        raise InputError(f"network {s.network.name!r} is not local: there is no faucet")
    d = s.deployment
    base = check_amount(amount, s.decimals, "AMOUNT")
    recipient = s.address_of(to, "--to") if to else None
    sender = s.signer(account, account_index, password_file)
    recipient = recipient or sender.address
    token = TestStablecoinClient(s.chain, d.token.address, s.artifacts)
    if not _has_faucet(token):
        raise InputError(f"the settlement token {d.token.address} is not the test stablecoin: it has no faucet")
    s.report_tx("faucet", token.faucet(recipient, base, sender=sender))
    s.say(f"{recipient} now holds {s.fmt(d.token.balance_of(recipient))} {d.token.symbol()}")
    s.finish({"to": recipient, "amount": s.fmt_plain(base), "balance": s.fmt_plain(d.token.balance_of(recipient))})


def _has_faucet(token: TestStablecoinClient) -> bool:
    code = token.chain.w3.eth.get_code(token.address)
    selector = bytes.fromhex(token.artifact.method_identifiers["faucet(address,uint256)"])
    return selector in bytes(code)
