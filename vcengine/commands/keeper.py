"""``vc keeper run``: settle closed auctions and reclaim assets in default, once or as a service.

As a service it logs one timestamped line per event (or one JSON object with ``--log-json``),
waits with bounded exponential backoff while the node cannot be reached and resumes when it
answers, and stops cleanly on SIGTERM or Ctrl-C with a summary of what it did.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Callable

import click
from web3.exceptions import TimeExhausted

from vcengine.cli import handle_errors
from vcengine.client import InputError
from vcengine.commands.common import Session, actor_options
from vcengine.keeper import KeeperAction, RetryPolicy, iter_round, now_iso, unreachable_reason

#: Exit status of each way the keeper stops (the README's table): a service manager's SIGTERM is a
#: normal stop; Ctrl-C is "interrupted"; giving up on the node is an environment error.
EXIT_STATUS = {"SIGTERM": 0, "SIGINT": 130}


@click.group()
def keeper() -> None:
    """The automation anyone may run: it only does what the rules already allow anyone to do."""


@keeper.command()
@click.option("--once", is_flag=True, help="One round, then exit.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between rounds.")
@click.option("--max-rounds", default=None, type=int, help="Stop after this many rounds (default: run until stopped).")
@click.option("--retries", default=5, show_default=True, type=int,
              help="Consecutive failures to reach the node that are retried; one more gives up (exit 2).")
@click.option("--backoff", default=1.0, show_default=True, type=float,
              help="Seconds before the first retry; each further retry waits twice as long.")
@click.option("--max-backoff", default=60.0, show_default=True, type=float, help="The longest wait between retries.")
@click.option("--log-json", is_flag=True,
              help="One JSON object per line (ts, level, event, round, ...); the last is the summary.")
@actor_options
@handle_errors
def run(once: bool, interval: float, max_rounds: int | None, retries: int, backoff: float, max_backoff: float,
        log_json: bool, network_name: str, account: str | None, account_index: int | None,
        password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Settle auctions and sales that have closed and reclaim overdue rentals. Idempotent: a lost
    race with another keeper is logged as skipped, not an error.

    Every line starts with the local time (ISO-8601). While the node cannot be reached the round is
    retried after --backoff seconds, doubling up to --max-backoff; when it answers again the keeper
    resumes and the count starts over; after --retries consecutive retries it gives up with the
    summary (exit 2).

    SIGTERM and Ctrl-C stop it after the action in progress (its transaction is waited for) with
    the summary: rounds, done, skipped, retries. SIGTERM exits 0 (a service manager's normal stop),
    Ctrl-C exits 130; a second signal stops at once, and a transaction sent but not yet mined is
    named in the summary as unconfirmed.

    --json prints the summary as one JSON object on the last line; with --log-json every line is
    JSON and the last is that summary (with "event": "summary"), so --json adds nothing to it.
    """
    if interval <= 0:
        raise InputError(f"--interval must be more than zero seconds, got {interval}")
    if max_rounds is not None and max_rounds < 1:
        raise InputError(f"--max-rounds must be 1 or more, got {max_rounds}")
    if retries < 0:
        raise InputError(f"--retries must be 0 or more, got {retries}")
    if backoff <= 0 or max_backoff <= 0:
        raise InputError(f"--backoff and --max-backoff must be more than zero seconds, got {backoff} and {max_backoff}")
    s = Session.start(network_name, as_json, commune_address)
    sender = None
    if account_index is None and not (account or "").strip().isdigit():  # a keystore: its password first
        sender = s.signer(account, account_index, password_file)
    service = KeeperService(s, KeeperLog(log_json), RetryPolicy(retries, backoff, max(max_backoff, backoff)),
                            interval, 1 if once else max_rounds)
    status = service.run(lambda: sender or s.signer(account, account_index, password_file))
    sys.exit(status)


# ------------------------------------------------------------------ the log


@dataclass
class KeeperLog:
    """One line per event on stdout, each starting with the local time; with ``as_json`` one JSON
    object per line (``ts``, ``level``, ``event``, then the event's fields)."""

    as_json: bool = False
    echo: Callable[[str], None] = click.echo

    def emit(self, event: str, text: str, level: str = "info", **fields: Any) -> dict[str, Any]:
        record = {"ts": now_iso(), "level": level, "event": event, **fields}
        if self.as_json:
            record.setdefault("message", text)
            self.echo(json.dumps(record, separators=(",", ":"), default=str))
        else:
            prefix = "" if level == "info" else f"{level}: "
            where = f"round {fields['round']}: " if fields.get("round") else ""
            self.echo(f"{record['ts']} {prefix}{where}{text}")
        return record


# ------------------------------------------------------------------ signals


class ForcedStop(BaseException):
    """A second stop signal while the keeper was finishing an action: stop at once."""


class StopSignals:
    """SIGTERM and SIGINT ask for a stop (``requested`` names the first); a second one raises
    :class:`ForcedStop`. The previous handlers come back on exit. Outside the main thread (where
    Python cannot handle signals) nothing is installed."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested: str | None = None
        self._event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested is not None:
            raise ForcedStop(name)
        self.requested = name
        self._event.set()

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a stop is requested."""
        self._event.wait(seconds)


# ------------------------------------------------------------------ the service


@dataclass
class KeeperService:
    """The loop of ``vc keeper run``: rounds, retries, stop signals and the summary."""

    s: Session
    log: KeeperLog
    policy: RetryPolicy
    interval: float
    max_rounds: int | None
    rounds: int = 0
    retries: int = 0
    done: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    #: Transactions sent whose receipt was never seen (the node went away, or a forced stop).
    unconfirmed: list[dict[str, Any]] = field(default_factory=list)
    _current: tuple[int, str] = (0, "")
    _in_flight: dict[str, dict[str, Any]] = field(default_factory=dict)
    _provider_retry: Any = None
    _watching: bool = False

    @property
    def url(self) -> str:
        return self.s.network.url or "the embedded chain"

    def run(self, signer: Callable[[], Any]) -> int:
        """Run until the round limit, a stop signal or giving up; returns the exit status."""
        stop = StopSignals()
        try:
            with stop:
                stopped_by = self._loop(signer, stop)
        except ForcedStop as exc:
            self.log.emit("forced_stop", f"second {exc.args[0]}: stopping at once", level="warning",
                          round=self.rounds, signal=exc.args[0])
            self._lose_in_flight()
            stopped_by = stop.requested or str(exc.args[0])
        finally:
            self._unwatch()
        if stopped_by == "unreachable":
            return 2
        self.summary(stopped_by)
        return EXIT_STATUS.get(stopped_by, 0)

    def _loop(self, signer: Callable[[], Any], stop: StopSignals) -> str:
        sender = display = None
        failures = 0
        while True:
            if stop.requested:
                return stop.requested
            if self.max_rounds is not None and self.rounds >= self.max_rounds and not failures:
                return "max_rounds"
            try:
                if sender is None:
                    stock = self.s.deployment.stock  # reaches the node and checks the commune is there
                    sender, display = signer(), self.s.display
                    self._watch()
                    self._started(sender.address, display)
                if failures:
                    block = self.s.chain.w3.eth.block_number  # raises again while it is still away
                    self.log.emit("reconnected", f"node {self.url} answers again (block {block}) after {failures} "
                                  f"failed attempt{'s' if failures > 1 else ''}", round=self.rounds,
                                  failures=failures, block=block)
                    self._recheck()
                if not failures or not self.rounds:  # a retry repeats its round
                    self.rounds += 1
                failures = 0
                acted = False
                for action in iter_round(stock, sender, display=display, on_start=self._starting):
                    acted = True
                    self._record(action)
                    if stop.requested:
                        break
                if not acted:
                    self.log.emit("idle", "nothing due", round=self.rounds)
            except InputError as exc:  # e.g. no ETH left for gas: nothing was sent; stop with the summary
                if sender is None:
                    raise  # before the first round (a bad signer, no deployment): the plain error, exit 2
                self.give_up(f"stopped: {exc}", None, stopped_by="bad_input")
                return "unreachable"  # exit 2, the summary given
            except TimeExhausted as exc:  # a transaction not mined in time: the next round sees it
                self.log.emit("round_error", f"{exc}; the next round checks it", level="error", round=self.rounds)
                self._lose_in_flight()
            except Exception as exc:
                reason = unreachable_reason(exc)
                if reason is None:
                    raise
                failures += 1
                self._lose_in_flight()
                if self._watching and sender is not None:  # re-read the nonce when it answers
                    self.s.chain.forget_nonce(sender.address)
                delay = self.policy.delay(failures)
                message = f"node {self.url} unreachable: {reason}"
                if delay is None:
                    self.give_up(message, failures)
                    return "unreachable"
                self.retries += 1
                self.log.emit("unreachable", f"{message}; retry {failures} of {self.policy.retries} in {delay:g} s",
                              level="warning", round=self.rounds, url=self.url, error=reason, retry=failures,
                              of=self.policy.retries, retry_in=delay)
                stop.wait(delay)
                continue
            if stop.requested or (self.max_rounds is not None and self.rounds >= self.max_rounds):
                continue
            stop.wait(self.interval)

    # ------------------------------------------------------------ events

    def _started(self, address: str, display: Any) -> None:
        commune = self.s.deployment.commune.address
        every = f"every {self.interval:g} s" if self.max_rounds != 1 else "one round"
        self.log.emit("start", f"keeper {display.address(address)} on {self.s.network.name} ({self.url}), commune "
                      f"{commune}; {every}; up to {self.policy.retries} retries (from {self.policy.base:g} s, "
                      f"doubling, at most {self.policy.cap:g} s)",
                      network=self.s.network.name, url=self.s.network.url, account=address, commune=commune,
                      interval=self.interval, retries=self.policy.retries)

    def _starting(self, asset_id: int, action: str) -> None:
        self._current = (asset_id, action)

    def _sent(self, tx_hash: str) -> None:
        asset_id, action = self._current
        entry = {"round": self.rounds, "asset_id": asset_id, "action": action, "tx_hash": tx_hash}
        self._in_flight[tx_hash] = entry
        self.log.emit("sent", f"asset {asset_id}: {action} sent {tx_hash}", **entry)

    def _record(self, action: KeeperAction) -> None:
        self._in_flight.clear()  # the action returned: what it sent is mined
        record = self.log.emit("action", str(action), round=self.rounds, asset_id=action.asset_id, action=action.action,
                               outcome=action.outcome, detail=action.detail, tx_hash=action.tx_hash,
                               values=action.values)
        entry = {k: record[k] for k in ("round", "ts", "asset_id", "action", "outcome", "detail", "tx_hash", "values")}
        (self.done if action.outcome == "done" else self.skipped).append(entry)

    def _lose_in_flight(self) -> None:
        """What was sent without a receipt seen becomes unconfirmed (named in the summary)."""
        for entry in self._in_flight.values():
            self.unconfirmed.append(entry)
            self.log.emit("unconfirmed", f"asset {entry['asset_id']}: {entry['action']} {entry['tx_hash']} was sent; "
                          "its receipt was not seen", level="warning", **entry)
        self._in_flight.clear()

    def _recheck(self) -> None:
        """After a reconnection: unconfirmed transactions that were mined are reported and dropped."""
        for entry in list(self.unconfirmed):
            try:
                receipt = self.s.chain.w3.eth.get_transaction_receipt(entry["tx_hash"])
            except Exception as exc:
                if unreachable_reason(exc):
                    raise
                continue  # not found: not mined (yet); it stays unconfirmed
            status = "mined" if receipt["status"] == 1 else "mined and reverted"
            self.unconfirmed.remove(entry)
            self.log.emit("confirmed", f"asset {entry['asset_id']}: {entry['action']} {entry['tx_hash']} {status} "
                          f"in block {receipt['blockNumber']}", **entry, status=receipt["status"])

    # ------------------------------------------------------------ the end

    def _result(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "done": self.done, "skipped": self.skipped, "retries": self.retries,
                "unconfirmed": self.unconfirmed}

    def _summary_text(self, how: str) -> str:
        text = (f"{how} after {self.rounds} round{'s' if self.rounds != 1 else ''}: {len(self.done)} done, "
                f"{len(self.skipped)} skipped, {self.retries} retr{'ies' if self.retries != 1 else 'y'}")
        if self.unconfirmed:
            text += "; sent but not confirmed: " + ", ".join(
                f"asset {u['asset_id']} {u['action']} {u['tx_hash']}" for u in self.unconfirmed)
        return text

    def summary(self, stopped_by: str) -> None:
        how = "done" if stopped_by == "max_rounds" else f"stopped by {stopped_by}"
        result = {**self._result(), "stopped_by": stopped_by}
        if self.log.as_json:
            self.log.emit("summary", self._summary_text(how), ok=True, network=self.s.network.name, **result,
                          transactions=self.s.txs)
            return
        self.log.emit("summary", self._summary_text(how))
        self.s.finish(result)

    def give_up(self, message: str, failures: int | None, stopped_by: str = "unreachable") -> None:
        """The node stayed unreachable (or the signer can no longer pay): the summary, and the error on
        stderr (exit 2)."""
        error = message if failures is None else (
            f"{message}; gave up after {failures - 1} retr{'ies' if failures != 2 else 'y'}")
        result = {**self._result(), "stopped_by": stopped_by}
        if self.log.as_json:
            self.log.emit("summary", error, level="error", ok=False, kind="chain", error=error,
                          network=self.s.network.name, **result, transactions=self.s.txs)
        else:
            self.log.emit("summary", self._summary_text(error), level="error")
            if self.s.as_json:
                from vcengine.cli import emit_json

                emit_json({"ok": False, "kind": "chain", "error": error, "network": self.s.network.name, **result,
                           "transactions": self.s.txs})
        click.echo(f"error: {error}", err=True)

    # ------------------------------------------------------------ transactions sent

    def _watch(self) -> None:
        """Be the chain's observer: each transaction is named in the keeper's own log the moment the
        node accepts it (no spinner, one line or one JSON object per event) and recorded for the
        summary; and leave retrying to the keeper's own policy (web3's HTTP provider would otherwise
        retry each call for about two seconds, unlogged)."""
        w3 = self.s.chain.w3
        self.s.chain.observer = _KeeperObserver(self)
        if hasattr(w3.provider, "exception_retry_configuration"):
            self._provider_retry = w3.provider.exception_retry_configuration
            w3.provider.exception_retry_configuration = None
        self._watching = True

    def _unwatch(self) -> None:
        if not self._watching:
            return
        w3 = self.s.chain.w3
        self.s.chain.observer = None
        if hasattr(w3.provider, "exception_retry_configuration"):
            w3.provider.exception_retry_configuration = self._provider_retry
        self._watching = False


@dataclass
class _KeeperObserver:
    """The chain's observer while the keeper runs (see vcengine.client._send)."""

    service: KeeperService

    def before_send(self, contract: str, function: str, cost_wei: int) -> None:
        self.service.s.before_send(contract, function, cost_wei)

    def sent(self, contract: str, function: str, tx_hash: str) -> None:
        self.service._sent(tx_hash)

    def waiting(self, tx_hash: str, waited: float) -> None:
        """The keeper's log has no spinner: a wait shows as the gap between "sent" and the action."""

    def mined(self, contract: str, function: str, receipt: Any) -> None:
        self.service.s.record_mined(contract, function, receipt)
