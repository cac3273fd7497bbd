"""``vc assets ...``: requests, bond auctions, rent, return and reclaim, rental and liquidation sales.

Amounts are token units with decimals (``12.5``); ``--json`` gives them as exact decimal strings.
"""

from __future__ import annotations

from pathlib import Path

import click

from vcengine.cli import handle_errors
from vcengine.client import InputError
from vcengine.commands.common import Session, actor_options, check_amount, check_id, parse_duration, show_rate
from vcengine.stock import AssetState

Signer = tuple[str | None, int | None, Path | None]


@click.group()
def assets() -> None:
    """Ask for assets, bid for their bonds, rent them, return them; rental and liquidation sales."""


def _session(network_name: str, as_json: bool, commune_address: str | None) -> Session:
    return Session.start(network_name, as_json, commune_address)


@assets.command()
@click.argument("description")
@click.option("--price", required=True, help="What the vendor asks, in tokens (e.g. 10000).")
@click.option("--vendor", required=True, metavar="ADDRESS|NAME|N", help="Who is paid the price.")
@click.option("--rent", required=True, help="Rent you offer per period, in tokens.")
@click.option("--periods", required=True, type=int, help="Rental term in periods.")
@click.option("--closes-in", default="3d", show_default=True, help="Bond auction length (e.g. 1h, 3d).")
@actor_options
@handle_errors
def request(description: str, price: str, vendor: str, rent: str, periods: int, closes_in: str, network_name: str,
            account: str | None, account_index: int | None, password_file: Path | None, commune_address: str | None,
            as_json: bool) -> None:
    """Ask the commune to acquire DESCRIPTION (a hash or URI) financed by a bond auction."""
    if not description.strip():
        raise InputError("DESCRIPTION must not be empty: give a hash or URI describing the asset")
    check_id(periods, "--periods")
    duration = parse_duration(closes_in, "--closes-in")
    if duration == 0:
        raise InputError("--closes-in must be more than zero")
    s = _session(network_name, as_json, commune_address)
    d = s.deployment
    dec = s.decimals
    price_base = check_amount(price, dec, "--price")
    rent_base = check_amount(rent, dec, "--rent")
    vendor_address = s.address_of(vendor, "--vendor")
    sender = s.signer(account, account_index, password_file)
    result = d.stock.request_asset(description, price_base, vendor_address, rent_base, periods,
                                   s.chain.now() + duration, sender=sender)
    s.report_tx("request asset", result.tx)
    closes = d.stock.asset(result.asset_id).auction_closes_at
    s.say(f"asset {result.asset_id}: bond auction for {s.fmt(price_base)} open until {closes}; "
          f"bid with `vc assets bid {result.asset_id} AMOUNT --rate-bps N`")
    s.finish({"asset_id": result.asset_id, "price": s.fmt_plain(price_base), "auction_closes_at": closes})


@assets.command()
@click.argument("asset_id", type=int)
@click.argument("amount")
@click.option("--rate-bps", required=True, type=int, help="Lowest rate you accept, basis points per period.")
@actor_options
@handle_errors
def bid(asset_id: int, amount: str, rate_bps: int, network_name: str, account: str | None, account_index: int | None,
        password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Bid AMOUNT tokens for the bonds of ASSET_ID at a lowest rate (approves the escrow first)."""
    check_id(asset_id, "ASSET_ID")
    if rate_bps < 0:
        raise InputError(f"--rate-bps must be zero or more, got {rate_bps}")
    s = _session(network_name, as_json, commune_address)
    d = s.deployment
    base = check_amount(amount, s.decimals, "AMOUNT")
    _require_asset(s, asset_id)
    sender = s.signer(account, account_index, password_file)
    _require_funds(s, sender.address, base)
    result = d.stock.bid(asset_id, base, rate_bps, sender=sender)
    s.report_tx("approve", result.approval)
    s.report_tx("bid", result.tx)
    s.say(f"bid {result.bid_id}: {s.fmt(base)} at {show_rate(rate_bps)} or more; claim it after settlement "
          f"with `vc assets claim {result.bid_id}`")
    s.finish({"bid_id": result.bid_id, "asset_id": asset_id, "amount": s.fmt_plain(base), "rate_bps": rate_bps})


@assets.command()
@click.argument("asset_id", type=int)
@actor_options
@handle_errors
def settle(asset_id: int, network_name: str, account: str | None, account_index: int | None,
           password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Settle the bond auction of ASSET_ID after its close (anyone)."""
    check_id(asset_id, "ASSET_ID")
    s = _session(network_name, as_json, commune_address)
    _require_asset(s, asset_id)
    sender = s.signer(account, account_index, password_file)
    result = s.deployment.stock.settle(asset_id, sender=sender)
    s.report_tx("settle", result.tx)
    if result.cleared:
        s.say(f"asset {asset_id}: cleared at {show_rate(result.clearing_rate_bps)}; bonds {result.series}; "
              f"rented to {s.deployment.stock.rental(asset_id).renter}")
    else:
        s.say(f"asset {asset_id}: auction failed ({result.failure.name.lower().replace('_', ' ')}); every bid is refunded on claim")
    s.finish({"asset_id": asset_id, "cleared": result.cleared, "clearing_rate_bps": result.clearing_rate_bps,
              "series": result.series, "failure": result.failure.name.lower()})


@assets.command()
@click.argument("bid_id", type=int)
@actor_options
@handle_errors
def claim(bid_id: int, network_name: str, account: str | None, account_index: int | None,
          password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Claim settled bid BID_ID: bonds for the filled part, the rest of the escrow back."""
    check_id(bid_id, "BID_ID")
    s = _session(network_name, as_json, commune_address)
    d = s.deployment
    if bid_id > d.stock.bid_count():
        raise InputError(f"there is no bid {bid_id} (bids so far: {d.stock.bid_count()})")
    sender = s.signer(account, account_index, password_file)
    result = d.stock.claim(bid_id, sender=sender)
    s.report_tx("claim", result.tx)
    s.say(f"bid {bid_id}: {s.fmt(result.bonds)} in bonds, {s.fmt(result.refund)} refunded")
    s.finish({"bid_id": bid_id, "bonds": s.fmt_plain(result.bonds), "refund": s.fmt_plain(result.refund)})


@assets.command("pay-rent")
@click.argument("asset_id", type=int)
@click.option("--periods", default=1, show_default=True, type=int, help="Periods to pay ahead.")
@actor_options
@handle_errors
def pay_rent(asset_id: int, periods: int, network_name: str, account: str | None, account_index: int | None,
             password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Pay rent for ASSET_ID, PERIODS periods ahead (approves the amount first)."""
    check_id(asset_id, "ASSET_ID")
    check_id(periods, "--periods")
    s = _session(network_name, as_json, commune_address)
    d = s.deployment
    _require_asset(s, asset_id)
    sender = s.signer(account, account_index, password_file)
    rental = d.stock.rental(asset_id)
    _require_funds(s, sender.address, periods * rental.rent_per_period)
    result = d.stock.pay_rent(asset_id, periods, sender=sender)
    s.report_tx("pay rent", result.tx)
    s.say(f"asset {asset_id}: paid {s.fmt(result.amount)}: {s.fmt(result.to_bonds)} to the bondholders, "
          f"{s.fmt(result.to_members)} to the members" + ("; its bonds are now redeemed" if result.redeemed else ""))
    s.finish({"asset_id": asset_id, "amount": s.fmt_plain(result.amount), "to_bonds": s.fmt_plain(result.to_bonds),
              "to_members": s.fmt_plain(result.to_members), "redeemed": result.redeemed})


@assets.command("return")
@click.argument("asset_id", type=int)
@actor_options
@handle_errors
def return_(asset_id: int, network_name: str, account: str | None, account_index: int | None,
            password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Return ASSET_ID you rent; it goes to a rental auction among the members."""
    _simple(asset_id, "return", lambda d, sender: d.stock.return_asset(asset_id, sender=sender), network_name,
            (account, account_index, password_file), commune_address, as_json)


@assets.command()
@click.argument("asset_id", type=int)
@actor_options
@handle_errors
def reclaim(asset_id: int, network_name: str, account: str | None, account_index: int | None,
            password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Reclaim ASSET_ID whose rent is overdue past the grace period (anyone)."""
    _simple(asset_id, "reclaim", lambda d, sender: d.stock.reclaim(asset_id, sender=sender), network_name,
            (account, account_index, password_file), commune_address, as_json)


@assets.command()
@actor_options
@handle_errors
def withdraw(network_name: str, account: str | None, account_index: int | None, password_file: Path | None,
             commune_address: str | None, as_json: bool) -> None:
    """Withdraw what the common stock credits you (a vendor's price, an outbid escrow)."""
    s = _session(network_name, as_json, commune_address)
    d = s.deployment
    sender = s.signer(account, account_index, password_file)
    credit = d.stock.credits(sender.address)
    if credit == 0:
        raise InputError(f"nothing to withdraw: the common stock credits {sender.address} with 0")
    s.report_tx("withdraw", d.stock.withdraw(sender=sender))
    s.say(f"withdrew {s.fmt(credit)}")
    s.finish({"amount": s.fmt_plain(credit)})


@assets.group()
def rental() -> None:
    """Rental auctions among members for returned or reclaimed assets."""


@rental.command("bid")
@click.argument("asset_id", type=int)
@click.option("--rent", required=True, help="Rent per period you offer, in tokens (one period is escrowed).")
@click.option("--periods", required=True, type=int, help="Term in periods.")
@actor_options
@handle_errors
def rental_bid(asset_id: int, rent: str, periods: int, network_name: str, account: str | None,
               account_index: int | None, password_file: Path | None, commune_address: str | None,
               as_json: bool) -> None:
    """Bid to rent ASSET_ID (members only)."""
    check_id(asset_id, "ASSET_ID")
    check_id(periods, "--periods")
    s = _session(network_name, as_json, commune_address)
    base = check_amount(rent, s.decimals, "--rent")
    _require_asset(s, asset_id)
    sender = s.signer(account, account_index, password_file)
    _require_funds(s, sender.address, base)
    s.report_tx("rental bid", s.deployment.stock.bid_rent(asset_id, base, periods, sender=sender))
    s.finish({"asset_id": asset_id, "rent": s.fmt_plain(base), "periods": periods})


@rental.command("settle")
@click.argument("asset_id", type=int)
@actor_options
@handle_errors
def rental_settle(asset_id: int, network_name: str, account: str | None, account_index: int | None,
                  password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Settle the rental auction of ASSET_ID after its close (anyone)."""
    check_id(asset_id, "ASSET_ID")
    s = _session(network_name, as_json, commune_address)
    _require_asset(s, asset_id)
    sender = s.signer(account, account_index, password_file)
    rented = s.deployment.stock.settle_rental(asset_id, sender=sender)
    s.say(f"asset {asset_id}: " + (f"rented to {s.deployment.stock.rental(asset_id).renter}" if rented
                                   else "no bid: offered for liquidation"))
    s.finish({"asset_id": asset_id, "rented": rented})


@assets.group()
def liquidation() -> None:
    """Public sales of assets nobody wants to rent."""


@liquidation.command("bid")
@click.argument("asset_id", type=int)
@click.argument("amount")
@actor_options
@handle_errors
def liquidation_bid(asset_id: int, amount: str, network_name: str, account: str | None, account_index: int | None,
                    password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Bid AMOUNT tokens for ASSET_ID in its liquidation sale (anyone; escrowed)."""
    check_id(asset_id, "ASSET_ID")
    s = _session(network_name, as_json, commune_address)
    base = check_amount(amount, s.decimals, "AMOUNT")
    _require_asset(s, asset_id)
    sender = s.signer(account, account_index, password_file)
    _require_funds(s, sender.address, base)
    s.report_tx("liquidation bid", s.deployment.stock.bid_liquidation(asset_id, base, sender=sender))
    s.finish({"asset_id": asset_id, "amount": s.fmt_plain(base)})


@liquidation.command("settle")
@click.argument("asset_id", type=int)
@actor_options
@handle_errors
def liquidation_settle(asset_id: int, network_name: str, account: str | None, account_index: int | None,
                       password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Settle the liquidation sale of ASSET_ID after its close (anyone)."""
    check_id(asset_id, "ASSET_ID")
    s = _session(network_name, as_json, commune_address)
    _require_asset(s, asset_id)
    sender = s.signer(account, account_index, password_file)
    result = s.deployment.stock.settle_liquidation(asset_id, sender=sender)
    s.report_tx("settle liquidation", result.tx)
    if result.sold:
        s.say(f"asset {asset_id} sold to {result.buyer} for {s.fmt(result.proceeds)}: {s.fmt(result.to_bonds)} "
              f"to the bondholders, {s.fmt(result.to_members)} to the members")
    else:
        s.say(f"asset {asset_id}: no bid, the sale reopened")
    s.finish({"asset_id": asset_id, "sold": result.sold, "buyer": result.buyer,
              "proceeds": s.fmt_plain(result.proceeds), "to_bonds": s.fmt_plain(result.to_bonds),
              "to_members": s.fmt_plain(result.to_members)})


# ------------------------------------------------------------------ helpers

def _simple(asset_id: int, label: str, act, network_name: str, signer: Signer, commune_address: str | None,
            as_json: bool) -> None:
    check_id(asset_id, "ASSET_ID")
    s = _session(network_name, as_json, commune_address)
    _require_asset(s, asset_id)
    sender = s.signer(*signer)
    s.report_tx(label, act(s.deployment, sender))
    s.say(f"asset {asset_id}: {AssetState(s.deployment.stock.asset(asset_id).state).name.lower().replace('_', ' ')}")
    s.finish({"asset_id": asset_id, "state": s.deployment.stock.asset(asset_id).state.name.lower()})


def _require_asset(s: Session, asset_id: int) -> None:
    count = s.deployment.stock.asset_count()
    if asset_id > count:
        raise InputError(f"there is no asset {asset_id} (assets so far: {count})")


def _require_funds(s: Session, account: str, amount: int) -> None:
    held = s.deployment.token.balance_of(account)
    if held < amount:
        raise InputError(f"{account} holds {s.fmt(held)} {s.deployment.token.symbol()}, less than the "
                         f"{s.fmt(amount)} needed" + ("; on a local network get test tokens with `vc faucet AMOUNT`"
                                                      if s.network.has_test_accounts else ""))


from vcengine.commands.inspect import assets_list, assets_show  # noqa: E402 - read-only views, registered last

assets.add_command(assets_list, "list")
assets.add_command(assets_show, "show")
