"""``vc keeper run``: settle closed auctions and reclaim assets in default, once or in a loop."""

from __future__ import annotations

import time
from pathlib import Path

import click

from vcengine.cli import handle_errors
from vcengine.client import InputError
from vcengine.commands.common import Session, actor_options
from vcengine.keeper import run_once


@click.group()
def keeper() -> None:
    """The automation anyone may run: it only does what the rules already allow anyone to do."""


@keeper.command()
@click.option("--once", is_flag=True, help="One round, then exit.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between rounds.")
@click.option("--max-rounds", default=None, type=int, help="Stop after this many rounds (default: run until stopped).")
@actor_options
@handle_errors
def run(once: bool, interval: float, max_rounds: int | None, network_name: str, account: str | None,
        account_index: int | None, password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Settle auctions and sales that have closed and reclaim overdue rentals. Idempotent: a lost
    race with another keeper is logged as skipped, not an error."""
    if interval <= 0:
        raise InputError(f"--interval must be more than zero seconds, got {interval}")
    if max_rounds is not None and max_rounds < 1:
        raise InputError(f"--max-rounds must be 1 or more, got {max_rounds}")
    rounds = 1 if once else max_rounds
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    sender = s.signer(account, account_index, password_file)
    done, skipped, n = [], [], 0
    try:
        while rounds is None or n < rounds:
            n += 1
            actions = run_once(d.stock, sender)
            for action in actions:
                entry = {"round": n, "asset_id": action.asset_id, "action": action.action,
                         "outcome": action.outcome, "detail": action.detail, "tx_hash": action.tx_hash}
                (done if action.outcome == "done" else skipped).append(entry)
                s.say(f"round {n}: {action}")
            if not actions:
                s.say(f"round {n}: nothing due")
            if rounds is not None and n >= rounds:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        s.say("stopped")
    s.finish({"rounds": n, "done": done, "skipped": skipped})
