#!/usr/bin/env python3
"""The keeper as a script: settle what has closed and reclaim what is overdue, every INTERVAL.

    python scripts/run_keeper.py local 0 60          # network, operator (test account 0), interval
    python scripts/run_keeper.py local 0 0 1         # one round and stop

Safe to run next to other keepers: a lost race is logged as skipped. Stop it with Ctrl-C. Exit
status as `vc`'s: 0 done, 1 the chain refused, 2 bad input or an unreachable node.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _rounds(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"ROUNDS must be a whole number, 0 or more (0: until stopped), got {text!r}")
    return int(text)


def _interval(text: str) -> int:
    from vcengine.client import InputError
    from vcengine.commands.common import parse_duration

    try:
        return parse_duration(text, "INTERVAL")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_keeper.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("network", metavar="NETWORK", help="tester, local (`vc node start`) or a name from vc.toml")
    p.add_argument("account", metavar="ACCOUNT",
                   help="the operator who signs: a keystore account's name or address, or a test account's "
                        "index on local networks")
    p.add_argument("interval", metavar="INTERVAL", nargs="?", default="60", type=_interval,
                   help="time between rounds: seconds or 90s, 15m, 1h (default: 60)")
    p.add_argument("rounds", metavar="ROUNDS", nargs="?", default="0", type=_rounds,
                   help="stop after this many rounds (default: 0, run until stopped)")
    p.add_argument("--password-file", type=Path, default=None, metavar="FILE",
                   help="file whose first line is the keystore password (else VC_PASSWORD, else a prompt)")
    return p


def run_keeper(network_name: str, account: str, interval: int, rounds: int, password_file: Path | None) -> None:
    import time

    from vcengine.commands.common import Session
    from vcengine.keeper import now_iso, run_once

    s = Session.start(network_name, as_json=False)
    d = s.deployment
    operator = s.signer(account, None, password_file)
    n = 0
    while True:
        n += 1
        for action in run_once(d.stock, operator):
            print(now_iso(), action, flush=True)  # amounts with the token's decimals and symbol
        if rounds and n >= rounds:
            break
        time.sleep(interval)


def main(*argv: str) -> None:
    """``main("local", "0", "60")`` as the command line ``run_keeper.py local 0 60``."""
    args = parser().parse_args(argv)  # --help and bad arguments before the engine is imported
    from vcengine.cli import handle_errors

    try:
        handle_errors(run_keeper)(args.network, args.account, args.interval, args.rounds, args.password_file)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main(*sys.argv[1:])
