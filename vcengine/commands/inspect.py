"""Inspection commands, all read-only: ``vc assets list``, ``vc assets show ID``, ``vc labour
list``, ``vc bids`` and ``vc tx HASH``.

Nothing here signs or sends. Amounts are shown with the token's decimals, separators and symbol,
times as local time with the time left or past on the chain's clock, enum values by name and
addresses in full with the name of the account or contract beside them. With ``--json`` the last
line is one object: amounts as token-unit strings with ``KEY_base_units`` beside them, times as
Unix seconds with ``KEY_iso`` beside them, enums as names. Log reads are chunked
(``vcengine.logs``: ``VC_LOG_CHUNK`` or the network's ``log_chunk``).
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import click
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from vcengine.cli import handle_errors
from vcengine.client import InputError
from vcengine.commands.common import Session, abi_order, check_id, decode_logs, reader_options, show_rate
from vcengine.display import Display, enum_name
from vcengine.display import RentalEnd as ShownRentalEnd
from vcengine.logs import log_chunk
from vcengine.stock import AssetState, Failure, RentalEnd
from vcengine.units import format_amount
from vcengine.views import AssetView, LogRange, asset_view, bids_of, claims, descriptions

#: The widest block layout: fits an 80-column terminal even when stdout is a pipe.
NARROW = 80


# ------------------------------------------------------------------ shared


def log_range(s: Session) -> LogRange:
    """The commune's logs: from the recorded deployment block (block 0 with ``--commune``), in the
    network's chunk size."""
    start = 0
    if s._commune_address is None:
        from vcengine.deployments import load_record

        start = int(load_record(s.network.name).get("block", 0) or 0)
    return LogRange(start, log_chunk(s.network))


def width(s: Session) -> int:
    """The width block layouts wrap at: the terminal's, at most :data:`NARROW`."""
    return min(s.console.width, NARROW)


def show(s: Session, renderable: Any) -> None:
    """Print ``renderable`` wrapped at :func:`width` (between words, so an address is never cut),
    without the padding that tables leave at the end of a line."""
    console = s.console
    for line in console.render_lines(renderable, console.options.update(width=width(s)), pad=False):
        text = Text.assemble(*((segment.text, segment.style) for segment in line if not segment.control))
        text.rstrip()
        console.print(text, soft_wrap=True)


def fields(rows: Iterable[tuple[str, str | None]], indent: int = 2) -> Table:
    """A two-column block of ``label  value`` rows (rows whose value is None are left out)."""
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if value is not None:
            grid.add_row(" " * indent + label, Text(value))
    return grid


def state_name(state: int) -> str:
    """``Rented``, ``RentalAuction``: CommonStock.AssetState by name."""
    return enum_name(AssetState, int(state))


def put_amounts(d: Display, out: dict[str, Any], **amounts: int | None) -> dict[str, Any]:
    for key, base in amounts.items():
        d.put_amount(out, key, base)
    return out


def account_address(s: Session, account: str | None, what: str = "--account") -> str | None:
    return s.address_of(account, what) if account else None


account_option = click.option("--account", "account", default=None, envvar="VC_ACCOUNT", metavar="NAME|ADDRESS|N",
                              help="Whose view: an address, a keystore account name or a test account index.")


# ------------------------------------------------------------------ assets


@click.command("list")
@reader_options
@handle_errors
def assets_list(network_name: str, commune_address: str | None, as_json: bool) -> None:
    """Every asset: state, price, rent, clearing rate and description."""
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    shown = s.display
    described = descriptions(d, log_range(s))
    rows = []
    for asset_id in range(1, d.stock.asset_count() + 1):
        a = d.stock.asset(asset_id)
        row: dict[str, Any] = {"id": asset_id, "state": state_name(a.state), "description": described.get(asset_id)}
        put_amounts(shown, row, price=a.price, rent_per_period=a.rent_per_period)
        row.update({"periods": a.periods, "clearing_rate_bps": a.clearing_rate_bps or None, "renter": a.renter,
                    "series": a.series})
        shown.put_time(row, "auction_closes_at", a.auction_closes_at)
        rows.append(row)
    if not as_json:
        if not rows:
            s.say("no assets yet: a member asks for one with `vc assets request`")
        else:
            t = Table(title=f"Assets ({len(rows)})", title_justify="left")
            for col, justify in (("id", "right"), ("state", "left"), ("price", "right"), ("rent/period", "right"),
                                 ("rate", "right"), ("description", "left")):
                t.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
            for r in rows:
                t.add_row(str(r["id"]), r["state"], shown.amount(r["price_base_units"]),
                          f"{shown.amount(r['rent_per_period_base_units'])} x {r['periods']}",
                          show_rate(r["clearing_rate_bps"]), r["description"] or "-")
            s.console.print(t, soft_wrap=False)
            s.say("details of one: `vc assets show ID`")
    s.finish({"assets": rows})


@click.command("show")
@click.argument("asset_id", type=int)
@reader_options
@handle_errors
def assets_show(asset_id: int, network_name: str, commune_address: str | None, as_json: bool) -> None:
    """One asset: description, state, price, vendor, auction, bid book, sale, rental, debt, title."""
    check_id(asset_id, "ASSET_ID")
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    count = d.stock.asset_count()
    if asset_id > count:
        raise InputError(f"no asset {asset_id}: the commune has {count} asset(s)"
                         + (f" (ids 1 to {count})" if count else ""))
    logs = log_range(s)
    view = asset_view(d, asset_id, logs, descriptions(d, logs, asset_id).get(asset_id))
    if view.asset.series:
        s.display.add_names({view.asset.series: f"bonds of asset {asset_id}"})
    out = asset_json(s.display, view)
    if not as_json:
        print_asset(s, view)
    s.finish(out)


def asset_json(shown: Display, v: AssetView) -> dict[str, Any]:
    a = v.asset
    out: dict[str, Any] = {"asset_id": a.asset_id, "state": state_name(a.state), "description": v.description,
                           "requester": a.requester, "vendor": a.vendor}
    put_amounts(shown, out, price=a.price, rent_per_period=a.rent_per_period, escrowed=a.escrowed)
    out["periods"] = a.periods
    shown.put_time(out, "auction_closes_at", a.auction_closes_at)
    out["failure"] = enum_name(Failure, int(a.failure)) if a.failure else None
    out["clearing_rate_bps"] = a.clearing_rate_bps or None if a.state != AssetState.AUCTION else None
    out["prospective_clearing_rate_bps"] = v.prospective_rate_bps
    out["book"] = [put_amounts(shown, {"rate_bps": t.rate_bps, "bids": t.bids}, total=t.total, depth=t.depth)
                   for t in v.book]
    out["bids"] = [put_amounts(shown, {"bid_id": b.bid_id, "bidder": b.bidder, "rate_bps": b.rate_bps,
                                       "claimed": b.claimed}, amount=b.amount) for b in v.bids]
    out["series"] = a.series
    put_amounts(shown, out, outstanding_principal=v.principal, interest_owed=v.interest)
    out["fully_owned"] = v.fully_owned
    out["rental"] = None
    if v.rental is not None:
        r = v.rental
        rental: dict[str, Any] = {"renter": r.renter, "periods": r.periods, "paid_periods": r.paid_periods}
        put_amounts(shown, rental, rent_per_period=r.rent_per_period)
        shown.put_time(rental, "start", r.start)
        shown.put_time(rental, "next_rent_due", v.next_rent_due)
        shown.put_time(rental, "reclaimable_at", v.reclaimable_at)
        rental["reclaimable_reason"] = (enum_name(ShownRentalEnd, int(v.reclaimable_reason))
                                        if v.reclaimable_reason is not None else None)
        out["rental"] = rental
    out["sale"] = None
    if v.sale is not None:
        kind = "rental_auction" if a.state == AssetState.RENTAL_AUCTION else "liquidation"
        sale: dict[str, Any] = {"kind": kind, "leader": v.sale.leader}
        put_amounts(shown, sale, leading=v.sale.amount if v.sale.leader else None, reserve=v.liquidation_reserve)
        sale["periods"] = v.sale.periods if kind == "rental_auction" and v.sale.leader else None
        shown.put_time(sale, "closes_at", v.sale.closes_at)
        sale["reopenings"] = v.sale.reopenings
        out["sale"] = sale
    out["title_holder"] = v.title_holder
    return out


def print_asset(s: Session, v: AssetView) -> None:
    shown = s.display
    a = v.asset
    state = state_name(a.state)
    if a.failure:
        state += f" ({enum_name(Failure, int(a.failure))})"
    show(s, Text(f"Asset {a.asset_id}", style="bold"))
    show(s, fields([
        ("description", v.description or "-"),
        ("state", state),
        ("price", shown.amount(a.price)),
        ("vendor", shown.address(a.vendor)),
        ("requester", shown.address(a.requester)),
        ("rent offered", f"{shown.amount(a.rent_per_period)} a period for {a.periods} periods"),
        ("auction close", shown.time(a.auction_closes_at)),
        ("escrowed", shown.amount(a.escrowed) if a.state == AssetState.AUCTION else None),
        ("clearing rate", show_rate(a.clearing_rate_bps) if a.state not in (AssetState.AUCTION, AssetState.FAILED)
         else None),
        ("would clear at", (show_rate(v.prospective_rate_bps) if v.prospective_rate_bps is not None
                            else f"no rate yet: the book holds less than the price") if a.state == AssetState.AUCTION
         else None),
        ("series", shown.address(a.series) if a.series else None),
        ("outstanding", f"{shown.amount(v.principal)} principal, {shown.amount(v.interest)} interest"
         if v.principal is not None else None),
        ("fully owned", ("yes" if v.fully_owned else "no") if a.series else None),
        ("title holder", shown.address(v.title_holder) if v.title_holder else None),
    ]))
    if v.rental is not None:
        r = v.rental
        reason = ""
        if v.reclaimable_reason is not None:
            reason = (": the term ends" if v.reclaimable_reason == RentalEnd.TERM_ENDED
                      else ": if the rent due by then is unpaid (default)")
        show(s, Text("Rental", style="bold"))
        show(s, fields([
            ("renter", shown.address(r.renter)),
            ("rent", f"{shown.amount(r.rent_per_period)} a period"),
            ("paid", f"{r.paid_periods} of {r.periods} periods"),
            ("started", shown.time(r.start)),
            ("next rent due", shown.time(v.next_rent_due) if v.next_rent_due else "none: every period is paid"),
            ("reclaimable at", shown.time(v.reclaimable_at) + reason if v.reclaimable_at else None),
        ]))
    if v.sale is not None:
        kind = "Rental auction" if a.state == AssetState.RENTAL_AUCTION else "Liquidation sale"
        lead = (f"{shown.amount(v.sale.amount)}" + (f" a period for {v.sale.periods} periods"
                                                     if a.state == AssetState.RENTAL_AUCTION else "")
                if v.sale.leader else None)
        show(s, Text(kind, style="bold"))
        show(s, fields([
            ("leader", shown.address(v.sale.leader) if v.sale.leader else "nobody has bid yet"),
            ("leading bid", lead),
            ("reserve", shown.amount(v.liquidation_reserve) if v.liquidation_reserve is not None else None),
            ("reopenings", str(v.sale.reopenings) if a.state == AssetState.LIQUIDATION else None),
            ("closes", shown.time(v.sale.closes_at)),
        ]))
    if v.book:
        total = sum(t.total for t in v.book)
        t = Table(title=f"Bid book: {sum(x.bids for x in v.book)} bid(s), {shown.amount(total)}", title_justify="left")
        for col in ("rate", "bids", "at this rate", "up to this rate"):
            t.add_column(col, justify="right", overflow="fold")
        for tick in v.book:
            t.add_row(show_rate(tick.rate_bps), str(tick.bids), shown.amount(tick.total), shown.amount(tick.depth))
        show(s, t)
    elif a.state == AssetState.AUCTION:
        show(s, Text(f"no bids yet: bid with `vc assets bid {a.asset_id} AMOUNT --rate-bps N`"))


# ------------------------------------------------------------------ labour


@click.command("list")
@account_option
@reader_options
@handle_errors
def labour_list(account: str | None, network_name: str, commune_address: str | None, as_json: bool) -> None:
    """Labour claims; with --account, those awaiting your attestation, yours, and the counted ones."""
    s = Session.start(network_name, as_json, commune_address)
    me = account_address(s, account)
    d = s.deployment
    shown = s.display
    found = claims(d, log_range(s), me)
    out: dict[str, Any] = {"account": me, "member": d.commune.is_member(me) if me else None, "claims": [
        {"claim_id": c.claim_id, "worker": c.worker, "units": c.units, "attestations": c.attestations,
         "quorum": c.quorum, "counted": c.counted, "evidence": c.evidence, "mine": c.mine,
         "attested_by_account": c.attested, "awaiting_attestation": c.awaiting_me} for c in found]}
    groups = [("awaiting_attestation", "Awaiting your attestation", [c for c in found if c.awaiting_me]),
              ("mine", "Your claims", [c for c in found if c.mine]),
              ("attested", "Attested by you, not yet counted",
               [c for c in found if c.attested and not c.counted]),
              ("open", "Open claims" if not me else "Other open claims",
               [c for c in found if not c.counted and not (c.awaiting_me or c.mine or c.attested)]),
              ("counted", "Counted", [c for c in found if c.counted and not c.mine])]
    if not me:
        groups = [g for g in groups if g[0] in ("open", "counted")]
    for key, _, group in groups:
        out[key] = [c.claim_id for c in group]
    if not as_json:
        if not found:
            s.say("no labour claims yet: submit one with `vc labour submit UNITS --evidence URI`")
        for _, title, group in groups:
            if not group:
                continue
            show(s, Text(f"{title} ({len(group)})", style="bold"))
            for c in group:
                status = "counted" if c.counted else f"{c.attestations} of {c.quorum} attestations"
                show(s, Text(f"  claim {c.claim_id}: {c.units} units, {status}"))
                show(s, fields([("worker", shown.address(c.worker)), ("evidence", c.evidence or "-")], indent=4))
        if me and out["awaiting_attestation"]:
            first = out["awaiting_attestation"][0]
            s.say(f"attest one with `vc labour attest {first} --account {account}`")
    s.finish(out)


# ------------------------------------------------------------------ bids


@click.command()
@account_option
@click.option("--all", "include_claimed", is_flag=True, help="Also list bids already claimed.")
@reader_options
@handle_errors
def bids(account: str | None, include_claimed: bool, network_name: str, commune_address: str | None,
         as_json: bool) -> None:
    """Your unclaimed bond bids: asset, amount, rate, auction state, and what each returns."""
    s = Session.start(network_name, as_json, commune_address)
    if not account:
        raise InputError("whose bids? pass --account NAME|ADDRESS|N (or set VC_ACCOUNT)")
    me = s.address_of(account, "--account")
    d = s.deployment
    shown = s.display
    found = bids_of(d, log_range(s), me, include_claimed)
    rows = []
    for v in found:
        b = v.bid
        row: dict[str, Any] = {"bid_id": b.bid_id, "asset_id": b.asset_id, "rate_bps": b.rate_bps,
                               "state": state_name(v.state), "claimed": b.claimed, "settled": v.outcome is not None,
                               "clearing_rate_bps": v.clearing_rate_bps}
        put_amounts(shown, row, amount=b.amount)
        shown.put_time(row, "auction_closes_at", v.closes_at)
        bonds_base, refund_base = v.outcome if v.outcome is not None else (None, None)
        put_amounts(shown, row, bonds=bonds_base, refund=refund_base)
        rows.append(row)
    settled = [r for r in rows if r["settled"] and not r["claimed"]]
    out: dict[str, Any] = {"account": me, "bids": rows}
    put_amounts(shown, out, total_bonds=sum(r["bonds_base_units"] for r in settled),
                total_refund=sum(r["refund_base_units"] for r in settled))
    if not as_json:
        show(s, Text(f"Bids of {shown.address(me)}", style="bold"))
        if not rows:
            show(s, Text("  no unclaimed bids" + ("" if include_claimed else " (--all lists claimed ones too)")))
        for r, v in zip(rows, found):
            head = f"  bid {r['bid_id']} on asset {r['asset_id']}: {shown.amount(r['amount_base_units'])} at " \
                   f"{show_rate(r['rate_bps'])} or more"
            if v.outcome is None:
                result = f"pending: the auction closes {shown.time(v.closes_at)}"
            else:
                how = (f"cleared at {show_rate(v.clearing_rate_bps)}" if v.state != AssetState.FAILED
                       else "the auction failed")
                result = (f"{how}: {'claimed' if r['claimed'] else 'claim'} {shown.amount(v.outcome[0])} in bonds "
                          f"and {shown.amount(v.outcome[1])} back")
            show(s, Text(head))
            show(s, fields([("state", r["state"]), ("outcome", result)], indent=4))
        if settled:
            show(s, Text(f"claimable now: {shown.amount(out['total_bonds_base_units'])} in bonds and "
                         f"{shown.amount(out['total_refund_base_units'])} back"))
            s.say(f"claim with `vc assets claim {settled[0]['bid_id']} --account {account}`")
    s.finish(out)


# ------------------------------------------------------------------ tx

_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
#: Token functions whose ``value`` is an amount (the Display names amounts by the event they emit).
_AS_EVENT = {"approve": "Approval", "transfer": "Transfer", "transferFrom": "Transfer"}
#: Contracts whose ABIs decode a transaction to or a log of an address that is not recorded.
@click.command()
@click.argument("tx_hash", metavar="HASH")
@reader_options
@handle_errors
def tx(tx_hash: str, network_name: str, commune_address: str | None, as_json: bool) -> None:
    """A transaction decoded: status, block, from, to, the call and its arguments, gas, fee, events,
    and the decoded revert of a failed one."""
    if not _HASH.match(tx_hash.strip()):
        raise InputError(f"HASH must be a transaction hash: 0x and 64 hex digits, got {tx_hash!r}")
    tx_hash = tx_hash.strip().lower()
    s = Session.start(network_name, as_json, commune_address)
    from web3.exceptions import TransactionNotFound

    w3 = s.chain.w3
    try:
        t = w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        raise InputError(f"no transaction {tx_hash} on network {s.network.name!r}: check the hash and the network")
    names = _contract_names(s)
    shown = s.display
    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        receipt = None
    to = t.get("to")
    _name_series(s, names, [to] + [log["address"] for log in (receipt["logs"] if receipt is not None else [])])
    out: dict[str, Any] = {"hash": tx_hash, "status": "pending" if receipt is None else
                           ("success" if receipt["status"] == 1 else "reverted")}
    out["block"] = t.get("blockNumber")
    if out["block"] is not None:
        shown.put_time(out, "time", w3.eth.get_block(out["block"])["timestamp"])
    out.update({"from": t["from"], "from_name": shown.name_of(t["from"]), "to": to,
                "to_name": shown.name_of(to) if to else None, "nonce": t["nonce"]})
    put_amounts(_eth(), out, value=t.get("value", 0))
    data = bytes(t.get("input", b""))
    out["input_size"] = len(data)
    contract, call = _decode_call(s, names, to, data)
    out["contract"] = contract
    out["function"] = call[0] if call else None
    out["args"] = shown.json_args(_AS_EVENT.get(call[0], call[0]), call[1], call[2]) if call else None
    out["created"] = receipt.get("contractAddress") if receipt is not None and to is None else None
    out["gas_limit"] = t["gas"]
    out["gas_used"] = receipt["gasUsed"] if receipt is not None else None
    price = receipt.get("effectiveGasPrice") if receipt is not None else None
    out["effective_gas_price"] = price
    put_amounts(_eth(), out, fee=receipt["gasUsed"] * price if receipt is not None and price is not None else None)
    logs = decode_logs(s.artifacts, s.chain.w3.codec, receipt, names)
    out["events"] = [{"contract": c, "address": addr, "name": n, "args": shown.json_args(n, args, types)}
                     for c, addr, n, args, types in logs]
    error = _revert(s, t, receipt) if receipt is not None and receipt["status"] != 1 else None
    out["revert"] = None
    if error is not None:
        from vcengine.cli import explain_error

        out["revert"] = {"name": error.name, "args": shown.json_args(error.name, error.args), "shown": str(error),
                         "why": explain_error(error.name)}
    if not as_json:
        _print_tx(s, out, call, logs, error)
    s.finish(out)


def _eth() -> Display:
    return Display(decimals=18, symbol="ETH")


def _contract_names(s: Session) -> dict[str, str]:
    """Address (lower case) -> compiled contract name, for the commune's contracts when they are known
    (a transaction on a chain without the deployment still shows, decoded by every ABI)."""
    try:
        s.deployment  # noqa: B018 - opens it (a chain without it still decodes by every ABI)
    except InputError:
        return {}
    names = s.contract_abis()
    if s._commune_address is None:
        from vcengine.deployments import ABI_OF, load_record

        for name, entry in (load_record(s.network.name).get("contracts") or {}).items():
            if name in ABI_OF and isinstance(entry, dict) and entry.get("address"):
                names.setdefault(str(entry["address"]).lower(), ABI_OF[name])
    s.display  # noqa: B018 - fills the display's contract names once the deployment is open
    return names


def _name_series(s: Session, names: dict[str, str], addresses: list[str | None]) -> None:
    """Name the commune's bond series among ``addresses`` (a series' issuer is the common stock):
    one or two calls per unknown address of this transaction, never a scan of every asset."""
    stock = next((a for a, n in names.items() if n == "CommonStock"), None)
    if stock is None:
        return
    abi = s.artifacts["BondSeries"].abi
    for address in {str(a).lower() for a in addresses if a}:
        if address in names:
            continue
        from eth_utils import to_checksum_address

        series = s.chain.w3.eth.contract(address=to_checksum_address(address), abi=abi)
        try:
            if str(series.functions.issuer().call()).lower() != stock:
                continue
            asset_id = series.functions.assetId().call()
        except Exception:  # not a bond series (no such function, or no code)
            continue
        names[address] = "BondSeries"
        s.display.add_names({address: f"bonds of asset {asset_id}"})


def _decode_call(s: Session, names: dict[str, str], to: str | None,
                 data: bytes) -> tuple[str | None, tuple[str, dict[str, Any], dict[str, str]] | None]:
    """(contract, (function, args, internal types)) of the call data, by the ABI of the contract at
    ``to`` first, then by every commune ABI; (None, None) when nothing decodes it."""
    if to is None or len(data) < 4:
        return (None, None)
    w3 = s.chain.w3
    for name in abi_order(names, to):
        contract = w3.eth.contract(abi=s.artifacts[name].abi)
        try:
            fn, args = contract.decode_function_input(data)
        except Exception:  # not this ABI's selector (or malformed arguments for it)
            continue
        types = {i["name"]: i.get("internalType", "") for i in fn.abi["inputs"]}
        return (name, (fn.abi["name"], dict(args), types))
    return (None, None)


def _revert(s: Session, t: Any, receipt: Any) -> Any:
    """The custom error (a DecodedError) of a failed transaction, by replaying it on the state
    before its block."""
    from vcengine.client import ErrorDecoder, _replay_revert

    call = {"from": t["from"], "to": t.get("to"), "data": bytes(t.get("input", b"")), "value": t.get("value", 0),
            "gas": t["gas"]}
    data = _replay_revert(s.chain.w3, call, receipt["blockNumber"])
    return ErrorDecoder([a.abi for a in s.artifacts.artifacts.values()]).decode(data)


def _print_tx(s: Session, out: dict[str, Any], call: Any, logs: list[tuple[str, str, str, dict, dict]],
              error: Any) -> None:
    shown = s.display
    status = out["status"]
    if out["block"] is not None:
        status += f" in block {out['block']:,}, {shown.time(out['time'])}"
    fee = None
    if out["fee_base_units"] is not None:
        gwei = format_amount(out["effective_gas_price"], 9, grouping=True)
        fee = f"{_eth().amount(out['fee_base_units'])} (at {gwei} gwei)"
    if call:
        function, args, types = call
        item = _AS_EVENT.get(function, function)
        called = f"{out['contract']}.{function}({shown.args(item, args, types)})"
    elif out["to"] is None:
        called = "contract creation" + (f": {shown.address(out['created'])}" if out["created"] else "")
    elif not out["input_size"]:
        called = "a plain ETH transfer (no call data)"
    else:
        called = f"{out['input_size']} bytes of call data no commune ABI decodes"
    show(s, Text(f"Transaction {out['hash']}", style="bold"))
    show(s, fields([
        ("status", status),
        ("from", shown.address(out["from"])),
        ("to", shown.address(out["to"]) if out["to"] else None),
        ("value", _eth().amount(out["value_base_units"]) if out["value_base_units"] else None),
        ("call", called),
        ("gas used", f"{out['gas_used']:,} of {out['gas_limit']:,}" if out["gas_used"] is not None
         else f"limit {out['gas_limit']:,}"),
        ("fee", fee),
    ]))
    if error is not None:
        shown_error = f"{error.name}({shown.args(error.name, error.args)})" if error.name else str(error)
        show(s, Text("Reverted", style="bold red"))
        show(s, fields([("error", shown_error), ("why", out["revert"]["why"] or None)]))
    if logs:
        show(s, Text(f"Events ({len(logs)})", style="bold"))
        for c, _addr, n, args, types in logs:
            show(s, Padding(Text(f"{c}.{n}({shown.args(n, args, types)})"), (0, 0, 0, 2)))
