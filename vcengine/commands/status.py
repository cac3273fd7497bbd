"""``vc status``: the commune at a glance: members, assets, bond series, and your own position."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from vcengine.cli import handle_errors
from vcengine.commands.common import Session, reader_options, show_rate
from vcengine.stock import AssetState


def members_of(s: Session) -> list[tuple[str, int]]:
    """(member, share id) of every current member, from the membership contract's events."""
    d = s.deployment
    commune = d.commune.contract
    start = 0
    if s._commune_address is None:  # the recorded deployment block: nothing happened before it
        from vcengine.deployments import load_record

        start = int(load_record(s.network.name).get("block", 0))
    current: dict[str, int] = {}
    logs = []
    for event in (commune.events.MemberJoined, commune.events.MemberLeft):
        for log in event().get_logs(from_block=start):
            logs.append((log["blockNumber"], log["logIndex"], log["event"], log["args"]))
    for _, _, name, args in sorted(logs, key=lambda x: (x[0], x[1])):
        if name == "MemberJoined":
            current[args["member"]] = args["shareId"]
        else:
            current.pop(args["member"], None)
    return sorted(current.items(), key=lambda kv: kv[1])


@click.command()
@click.option("--account", "account", default=None, envvar="VC_ACCOUNT", metavar="NAME|ADDRESS|N",
              help="Whose position to show (an address, keystore account name or test account index).")
@reader_options
@handle_errors
def status(account: str | None, network_name: str, commune_address: str | None, as_json: bool) -> None:
    """Members, assets (state, renter), bond series (outstanding principal, rate) and your position."""
    s = Session.start(network_name, as_json, commune_address)
    me = s.address_of(account, "--account") if account else None
    d = s.deployment
    fmt = s.fmt_plain
    symbol = d.token.symbol()
    members = members_of(s)
    out: dict[str, Any] = {"commune": d.commune.address, "token": {"address": d.token.address, "symbol": symbol,
                                                                   "decimals": s.decimals},
                           "member_count": d.commune.member_count(), "quorum": d.commune.quorum(),
                           "labour_threshold": d.commune.labour_threshold(), "members": [], "assets": [],
                           "treasury": {"total_income": fmt(d.treasury.total_income()),
                                        "total_claimed": fmt(d.treasury.total_claimed()),
                                        "carry": fmt(d.treasury.carry())}}
    for member, share in members:
        p = d.treasury.position(member)
        out["members"].append({"address": member, "share": share, "rent_paid": fmt(p.rent_paid),
                               "payouts": fmt(p.income), "claimed": fmt(p.claimed), "claimable": fmt(p.claimable),
                               "net_position": fmt(p.net)})
    for asset_id in range(1, d.stock.asset_count() + 1):
        a = d.stock.asset(asset_id)
        entry: dict[str, Any] = {"id": asset_id, "state": a.state.name.lower(), "price": fmt(a.price),
                                 "requester": a.requester, "renter": a.renter, "rent_per_period": fmt(a.rent_per_period),
                                 "periods": a.periods, "series": a.series, "rate_bps": a.clearing_rate_bps or None,
                                 "fully_owned": d.stock.is_fully_owned(asset_id) if a.series else False}
        if a.state == AssetState.AUCTION:
            entry["auction_closes_at"] = a.auction_closes_at
            entry["rate_bps"] = None
        if a.series:
            principal, interest = d.stock.debt_owed(asset_id)
            entry["outstanding_principal"] = fmt(principal)
            entry["interest_owed"] = fmt(interest)
        if a.state == AssetState.RENTED:
            r = d.stock.rental(asset_id)
            entry["rent_per_period"] = fmt(r.rent_per_period)
            entry["paid_periods"], entry["periods"] = r.paid_periods, r.periods
        out["assets"].append(entry)
    if me:
        pos = d.treasury.position(me)
        bonds = []
        for entry in out["assets"]:
            if entry["series"]:
                from vcengine.token import BondSeriesClient

                series = BondSeriesClient(s.chain, entry["series"], s.artifacts)
                units = series.balance_of(me)
                if units or series.pay_withdrawable(me):
                    bonds.append({"asset_id": entry["id"], "bonds": fmt(units),
                                  "payments_due": fmt(series.pay_withdrawable(me))})
        out["you"] = {"address": me, "member": d.commune.is_member(me), "share": d.commune.share_of(me) or None,
                      "tokens": fmt(d.token.balance_of(me)), "rent_paid": fmt(pos.rent_paid),
                      "payouts": fmt(pos.income), "claimed": fmt(pos.claimed), "claimable": fmt(pos.claimable),
                      "net_position": fmt(pos.net), "bonds": bonds, "credits": fmt(d.stock.credits(me))}
    if not as_json:
        _print(s, out, symbol)
    s.finish(out)


def _print(s: Session, out: dict[str, Any], symbol: str) -> None:
    c = s.console
    c.print(f"[bold]Commune[/] {out['commune']} on {s.network.name}: {out['member_count']} members, quorum "
            f"{out['quorum']}, a share costs {out['labour_threshold']} labour units; amounts in {symbol}")
    t = Table(title="Members", title_justify="left")
    for col in ("share", "member", "rent paid", "payouts", "claimable", "net position"):
        t.add_column(col, justify="right" if col not in ("member",) else "left")
    for m in out["members"]:
        t.add_row(str(m["share"]), m["address"], m["rent_paid"], m["payouts"], m["claimable"], m["net_position"])
    c.print(t)
    if out["assets"]:
        t = Table(title="Assets", title_justify="left")
        for col in ("id", "state", "price", "renter", "rent/period", "paid", "rate", "outstanding principal", "owned"):
            t.add_column(col)
        for a in out["assets"]:
            paid = f"{a.get('paid_periods', '-')}/{a['periods']}" if a["state"] == "rented" else "-"
            t.add_row(str(a["id"]), a["state"], a["price"], a["renter"] or "-", a["rent_per_period"], paid,
                      show_rate(a["rate_bps"]), a.get("outstanding_principal", "-"),
                      "yes" if a["fully_owned"] else "no")
        c.print(t)
    else:
        c.print("no assets yet: a member asks for one with `vc assets request`")
    tr = out["treasury"]
    c.print(f"Treasury: income {tr['total_income']}, claimed {tr['total_claimed']}, carried {tr['carry']}")
    if "you" in out:
        y = out["you"]
        c.print(f"[bold]You[/] {y['address']}: " + (f"member, share {y['share']}" if y["member"] else "not a member")
                + f"; {y['tokens']} {symbol}; rent paid {y['rent_paid']}, payouts {y['payouts']} "
                  f"(claimable {y['claimable']}), net position {y['net_position']}")
        for b in y["bonds"]:
            c.print(f"  bonds of asset {b['asset_id']}: {b['bonds']} (payments due {b['payments_due']})")
