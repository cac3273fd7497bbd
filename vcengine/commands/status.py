"""``vc status``: the commune at a glance: its parameters, members, former members still owed
payouts, assets, bond series, the treasury, and your own position.

The layout is one block per member and per asset, wrapped at the terminal's width (at most 80
columns), so it fits an 80-column terminal without cutting an address or a state. ``--json`` keeps
its keys; every amount key (a token-unit string) has ``KEY_base_units`` beside it and every time
``KEY_iso``.
"""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from vcengine.cli import handle_errors
from vcengine.commands.common import Session, reader_options, show_rate
from vcengine.commands.inspect import account_option, fields, log_range, put_amounts, show, state_name
from vcengine.display import span
from vcengine.logs import merged
from vcengine.stock import AssetState


def membership(s: Session) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(member, share id) of every current member and of every former one (who left and has not
    rejoined), from the membership contract's events (chunked log reads)."""
    commune = s.deployment.commune.contract
    logs = log_range(s)
    current: dict[str, int] = {}
    former: dict[str, int] = {}
    for log in merged(logs.read(commune.events.MemberJoined), logs.read(commune.events.MemberLeft)):
        member, share = log["args"]["member"], log["args"]["shareId"]
        if log["event"] == "MemberJoined":
            current[member] = share
            former.pop(member, None)
        else:
            current.pop(member, None)
            former[member] = share
    by_share = lambda kv: kv[1]  # noqa: E731
    return sorted(current.items(), key=by_share), sorted(former.items(), key=by_share)


def members_of(s: Session) -> list[tuple[str, int]]:
    """(member, share id) of every current member."""
    return membership(s)[0]


@click.command()
@account_option
@reader_options
@handle_errors
def status(account: str | None, network_name: str, commune_address: str | None, as_json: bool) -> None:
    """Parameters, members, former members owed payouts, assets, bond series and your position."""
    s = Session.start(network_name, as_json, commune_address)
    me = s.address_of(account, "--account") if account else None
    d = s.deployment
    shown = s.display
    symbol = d.token.symbol()
    members, former = membership(s)
    treasury = put_amounts(shown, {}, total_income=d.treasury.total_income(),
                           total_claimed=d.treasury.total_claimed(), carry=d.treasury.carry())
    out: dict[str, Any] = {"commune": d.commune.address, "token": {"address": d.token.address, "symbol": symbol,
                                                                   "decimals": s.decimals},
                           "member_count": d.commune.member_count(), "quorum": d.commune.quorum(),
                           "labour_threshold": d.commune.labour_threshold(),
                           "parameters": {"period_seconds": d.stock.period_seconds(),
                                          "grace_seconds": d.stock.grace_seconds(),
                                          "sale_seconds": d.stock.sale_seconds(),
                                          "rate_cap_bps": d.stock.rate_cap_bps(),
                                          "liquidation_reserve_bps": d.stock.call("liquidationReserveBps"),
                                          "labour_threshold": d.commune.labour_threshold(),
                                          "quorum_cap": d.commune.quorum_cap(),
                                          "max_periods": d.stock.max_periods()},
                           "members": [], "former_members": [], "assets": [], "treasury": treasury}
    for member, share in members:
        out["members"].append(_position(s, {"address": member, "share": share}, member))
    for member, share in former:  # gone, but still owed what they earned while members
        entry = _position(s, {"address": member, "share": share}, member)
        if entry["claimable_base_units"]:
            out["former_members"].append(entry)
    for asset_id in range(1, d.stock.asset_count() + 1):
        out["assets"].append(_asset(s, asset_id))
    if me:
        out["you"] = _you(s, me, out["assets"])
    if not as_json:
        _print(s, out, symbol)
    s.finish(out)


def _position(s: Session, entry: dict[str, Any], account: str) -> dict[str, Any]:
    p = s.deployment.treasury.position(account)
    return put_amounts(s.display, entry, rent_paid=p.rent_paid, payouts=p.income, claimed=p.claimed,
                       claimable=p.claimable, net_position=p.net)


def _asset(s: Session, asset_id: int) -> dict[str, Any]:
    d, shown = s.deployment, s.display
    a = d.stock.asset(asset_id)
    entry: dict[str, Any] = {"id": asset_id, "state": a.state.name.lower(), "state_name": state_name(a.state)}
    put_amounts(shown, entry, price=a.price)
    entry.update({"requester": a.requester, "renter": a.renter})
    put_amounts(shown, entry, rent_per_period=a.rent_per_period)
    entry.update({"periods": a.periods, "series": a.series, "rate_bps": a.clearing_rate_bps or None,
                  "fully_owned": d.stock.is_fully_owned(asset_id) if a.series else False})
    if a.state == AssetState.AUCTION:
        shown.put_time(entry, "auction_closes_at", a.auction_closes_at)
        entry["rate_bps"] = None
    if a.series:
        principal, interest = d.stock.debt_owed(asset_id)
        put_amounts(shown, entry, outstanding_principal=principal, interest_owed=interest)
        shown.add_names({a.series: f"bonds of asset {asset_id}"})
    if a.state == AssetState.RENTED:
        r = d.stock.rental(asset_id)
        put_amounts(shown, entry, rent_per_period=r.rent_per_period)
        entry["paid_periods"], entry["periods"] = r.paid_periods, r.periods
    if a.state in (AssetState.RENTAL_AUCTION, AssetState.LIQUIDATION):
        sale = d.stock.sale(asset_id)
        entry["leader"] = sale.leader
        put_amounts(shown, entry, leading=sale.amount if sale.leader else None)
        shown.put_time(entry, "sale_closes_at", sale.closes_at)
    return entry


def _you(s: Session, me: str, assets: list[dict[str, Any]]) -> dict[str, Any]:
    from vcengine.token import BondSeriesClient

    d, shown = s.deployment, s.display
    bonds = []
    for entry in assets:
        if entry["series"]:
            series = BondSeriesClient(s.chain, entry["series"], s.artifacts)
            units, due = series.balance_of(me), series.pay_withdrawable(me)
            if units or due:
                bonds.append(put_amounts(shown, {"asset_id": entry["id"]}, bonds=units, payments_due=due))
    you: dict[str, Any] = {"address": me, "member": d.commune.is_member(me), "share": d.commune.share_of(me) or None}
    put_amounts(shown, you, tokens=d.token.balance_of(me))
    _position(s, you, me)
    you["bonds"] = bonds
    put_amounts(shown, you, credits=d.stock.credits(me))
    return you


def _figures(s: Session, entry: dict[str, Any]) -> str:
    """Two lines: what was paid and received, what is owed and the net."""
    a = s.display.amount
    return (f"rent paid {a(entry['rent_paid_base_units'])}, payouts {a(entry['payouts_base_units'])}\n"
            f"claimable {a(entry['claimable_base_units'])}, net position {a(entry['net_position_base_units'])}")


def _print(s: Session, out: dict[str, Any], symbol: str) -> None:
    shown = s.display
    p = out["parameters"]
    show(s, Text(f"Commune {out['commune']} on {s.network.name}", style="bold"))
    show(s, Text(f"  {out['member_count']} members, quorum {out['quorum']}; amounts in {symbol} "
                 f"({out['token']['decimals']} decimals)"))
    show(s, Text("Parameters", style="bold"))
    reserve = p["liquidation_reserve_bps"]
    show(s, fields([
        ("token", shown.address(out["token"]["address"])),
        ("rent period", span(p["period_seconds"])),
        ("grace", f"{span(p['grace_seconds'])} before overdue rent lets anyone reclaim"),
        ("sales", f"rental auctions and liquidations stay open {span(p['sale_seconds'])}"),
        ("rate cap", f"{show_rate(p['rate_cap_bps'])} a period"),
        ("reserve", f"liquidation at {reserve / 100:g}% of the price or more" if reserve else "no liquidation reserve"),
        ("a share", f"{p['labour_threshold']} counted labour units; quorum cap {p['quorum_cap']}"),
        ("longest term", f"{p['max_periods']:,} periods"),
    ]))
    show(s, Text(f"Members ({len(out['members'])})", style="bold"))
    show(s, fields([(f"share {m['share']}", f"{shown.address(m['address'])}\n{_figures(s, m)}")
                    for m in out["members"]]))
    if out["former_members"]:
        show(s, Text(f"Former members still owed payouts ({len(out['former_members'])})", style="bold"))
        show(s, fields([(f"share {m['share']}", f"{shown.address(m['address'])}\n{_figures(s, m)}")
                        for m in out["former_members"]]))
    if out["assets"]:
        show(s, Text(f"Assets ({len(out['assets'])})", style="bold"))
        show(s, fields([(f"asset {a['id']}", _asset_lines(s, a)) for a in out["assets"]]))
    else:
        show(s, Text("no assets yet: a member asks for one with `vc assets request`"))
    tr = out["treasury"]
    show(s, Text(f"Treasury: income {shown.amount(tr['total_income_base_units'])}, claimed "
                 f"{shown.amount(tr['total_claimed_base_units'])}, carried {shown.amount(tr['carry_base_units'])}"))
    if "you" in out:
        y = out["you"]
        show(s, Text(f"You {shown.address(y['address'])}", style="bold"))
        show(s, fields([
            ("membership", f"member, share {y['share']}" if y["member"] else "not a member"),
            ("tokens", shown.amount(y["tokens_base_units"])),
            ("position", _figures(s, y)),
            ("credits", shown.amount(y["credits_base_units"]) + " (withdraw with `vc assets withdraw`)"
             if y["credits_base_units"] else None),
        ] + [(f"bonds of {b['asset_id']}", f"{shown.amount(b['bonds_base_units'])} "
              f"(payments due {shown.amount(b['payments_due_base_units'])})") for b in y["bonds"]]))


def _asset_lines(s: Session, a: dict[str, Any]) -> str:
    shown = s.display
    lines = [f"{a['state_name']}, price {shown.amount(a['price_base_units'])}"
             + (f", rate {show_rate(a['rate_bps'])}" if a["rate_bps"] else "")]
    if a.get("auction_closes_at"):
        lines.append(f"bond auction closes {shown.time(a['auction_closes_at'])}")
    if a["renter"]:
        lines.append(f"renter {shown.address(a['renter'])}")
        lines.append(f"rent {shown.amount(a['rent_per_period_base_units'])} a period, "
                     f"{a['paid_periods']} of {a['periods']} periods paid")
    if a.get("sale_closes_at"):
        lead = (f"leader {shown.address(a['leader'])} with {shown.amount(a['leading_base_units'])}"
                if a["leader"] else "no bid yet")
        lines.append(f"{lead}; closes {shown.time(a['sale_closes_at'])}")
    if a["series"]:
        lines.append(f"bonds {shown.address(a['series'])}")
        lines.append(f"outstanding {shown.amount(a['outstanding_principal_base_units'])} principal, "
                     f"{shown.amount(a['interest_owed_base_units'])} interest")
        lines.append("fully owned by the commune" if a["fully_owned"] else "not yet fully owned")
    return "\n".join(lines)
