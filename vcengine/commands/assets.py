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
    best = _highest_rate(s, price_base, rent_base, periods)
    sender = s.signer(account, account_index, password_file)
    result = d.stock.request_asset(description, price_base, vendor_address, rent_base, periods,
                                   s.chain.now() + duration, sender=sender)
    s.report_tx("request asset", result.tx)
    closes = d.stock.asset(result.asset_id).auction_closes_at
    s.say(f"asset {result.asset_id}: bond auction for {s.display.amount(price_base)} open until "
          f"{s.display.time(closes)}; bid with `vc assets bid {result.asset_id} AMOUNT --rate-bps N`")
    out = {"asset_id": result.asset_id, "highest_rate_bps": best}
    s.display.put_amount(out, "price", price_base)
    s.display.put_time(out, "auction_closes_at", closes)
    s.finish(out)


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
    result = d.stock.bid(asset_id, base, rate_bps, sender=sender)
    s.say(f"bid {result.bid_id}: {s.display.amount(base)} at {show_rate(rate_bps)} or more; claim it after "
          f"settlement with `vc assets claim {result.bid_id}`")
    out = {"bid_id": result.bid_id, "asset_id": asset_id, "rate_bps": rate_bps}
    s.display.put_amount(out, "amount", base)
    s.finish(out)


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
    s.say(f"bid {bid_id}: {s.display.amount(result.bonds)} in bonds, {s.display.amount(result.refund)} refunded")
    out = {"bid_id": bid_id}
    s.display.put_amount(out, "bonds", result.bonds)
    s.display.put_amount(out, "refund", result.refund)
    s.finish(out)


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
    # The contract checks access (the renter), then the term (periods left), then the token moves:
    # the simulation before anything is sent reports them in that order (vcengine.preflight).
    result = d.stock.pay_rent(asset_id, periods, sender=sender)
    show = s.display.amount
    s.say(f"asset {asset_id}: paid {show(result.amount)}: {show(result.to_bonds)} to the bondholders, "
          f"{show(result.to_members)} to the members" + ("; its bonds are now redeemed" if result.redeemed else ""))
    out: dict = {"asset_id": asset_id, "redeemed": result.redeemed}
    for key, value in (("amount", result.amount), ("to_bonds", result.to_bonds), ("to_members", result.to_members)):
        s.display.put_amount(out, key, value)
    s.finish(out)


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
    d.stock.withdraw(sender=sender)
    s.say(f"withdrew {s.display.amount(credit)}")
    out: dict = {}
    s.display.put_amount(out, "amount", credit)
    s.finish(out)


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
    s.deployment.stock.bid_rent(asset_id, base, periods, sender=sender)
    sale = s.deployment.stock.sale(asset_id)
    s.say(f"asset {asset_id}: you lead its rental auction at {s.display.amount(base)} a period for {periods} "
          f"periods; it closes {s.display.time(sale.closes_at)}")
    out: dict = {"asset_id": asset_id, "periods": periods}
    s.display.put_amount(out, "rent", base)
    s.display.put_time(out, "closes_at", sale.closes_at)
    s.finish(out)


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
    result = s.deployment.stock.settle_rental_tx(asset_id, sender=sender)
    said = {"rented": f"rented to {s.display.address(s.deployment.stock.rental(asset_id).renter)}",
            "liquidation": "no bid: offered for liquidation",
            "reopened": "settlement refused: the leader is credited back and the rental auction reopened"}
    s.say(f"asset {asset_id}: {said[result.outcome]}")
    s.finish({"asset_id": asset_id, "rented": result.rented, "outcome": result.outcome})


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
    s.deployment.stock.bid_liquidation(asset_id, base, sender=sender)
    sale = s.deployment.stock.sale(asset_id)
    s.say(f"asset {asset_id}: you lead its liquidation sale at {s.display.amount(base)}; it closes "
          f"{s.display.time(sale.closes_at)}")
    out: dict = {"asset_id": asset_id}
    s.display.put_amount(out, "amount", base)
    s.display.put_time(out, "closes_at", sale.closes_at)
    s.finish(out)


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
    show = s.display.amount
    if result.sold:
        s.say(f"asset {asset_id} sold to {s.display.address(result.buyer)} for {show(result.proceeds)}: "
              f"{show(result.to_bonds)} to the bondholders, {show(result.to_members)} to the members")
    else:
        s.say(f"asset {asset_id}: no bid, the sale reopened")
    out: dict = {"asset_id": asset_id, "sold": result.sold, "buyer": result.buyer}
    for key, value in (("proceeds", result.proceeds), ("to_bonds", result.to_bonds), ("to_members", result.to_members),
                       ("shortfall", result.shortfall)):
        s.display.put_amount(out, key, value)
    s.finish(out)


# ------------------------------------------------------------------ helpers

def _simple(asset_id: int, label: str, act, network_name: str, signer: Signer, commune_address: str | None,
            as_json: bool) -> None:
    check_id(asset_id, "ASSET_ID")
    s = _session(network_name, as_json, commune_address)
    _require_asset(s, asset_id)
    sender = s.signer(*signer)
    act(s.deployment, sender)
    s.say(f"asset {asset_id}: {AssetState(s.deployment.stock.asset(asset_id).state).name.lower().replace('_', ' ')}")
    s.finish({"asset_id": asset_id, "state": s.deployment.stock.asset(asset_id).state.name.lower()})


def _require_asset(s: Session, asset_id: int) -> None:
    count = s.deployment.stock.asset_count()
    if asset_id > count:
        raise InputError(f"there is no asset {asset_id} (assets so far: {count})")


def _highest_rate(s: Session, price: int, rent: int, periods: int) -> int:
    """Refuse a request whose rent can never repay the price (exit 2); else the highest rate it supports."""
    from vcengine.amortization import highest_rate

    cap = s.deployment.stock.rate_cap_bps()
    best = highest_rate(price, rent, periods, cap)
    if best is None:
        raise InputError(f"--rent {s.display.amount(rent)} for {periods} periods pays "
                         f"{s.display.amount(rent * periods)} in all, which cannot repay the price of "
                         f"{s.display.amount(price)} even at a rate of zero: offer more rent or more periods")
    s.say(f"the offered rent repays the price at rates up to {show_rate(best)} per period "
          + (f"(the commune's cap)" if best == cap else f"(the cap is {show_rate(cap)})")
          + "; the bond auction can clear only at or below it")
    return best


from vcengine.commands.inspect import assets_list, assets_show  # noqa: E402 - read-only views, registered last

assets.add_command(assets_list, "list")
assets.add_command(assets_show, "show")
