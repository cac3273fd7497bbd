"""`vc keeper run` as a service: timestamped lines and --log-json, amounts and names people read,
bounded retries with backoff while the node is away, and clean stops on SIGTERM and Ctrl-C.

Most of it runs in process on the embedded chain; the last test stops and restarts a real anvil
node under a running keeper."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from cli_helpers import last_json, ok, sandbox, vc

from vcengine import networks
from vcengine.chains import ANVIL_ADDRESSES, free_port
from vcengine.commands import keeper as keeper_cli
from vcengine.keeper import RetryPolicy, unreachable_reason

#: A zone with a half-hour offset, so that a timestamp in UTC (or without its offset) cannot pass.
ZONE, OFFSET = "Asia/Kolkata", "+05:30"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)([+-]\d\d:\d\d) ")
LOG_KEYS = {"ts", "level", "event", "message"}


@pytest.fixture(autouse=True)
def india() -> Iterator[None]:
    """Local time is India's in every test of this file."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", ZONE)
        time.tzset()
        yield
    time.tzset()


needs_main_thread = pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                                       reason="signal handlers need the main thread")


# ------------------------------------------------------------------ the backoff schedule


@pytest.mark.parametrize(("retries", "base", "cap", "waits"), [
    (5, 1.0, 60.0, [1, 2, 4, 8, 16]),      # doubling
    (6, 1.0, 10.0, [1, 2, 4, 8, 10, 10]),  # capped
    (3, 0.25, 60.0, [0.25, 0.5, 1]),
    (1, 2.0, 60.0, [2]),
    (0, 1.0, 60.0, []),                    # the first failure gives up
])
def test_the_backoff_doubles_from_its_base_up_to_its_cap_then_gives_up(retries, base, cap, waits):
    policy = RetryPolicy(retries, base, cap)
    assert policy.schedule() == waits
    assert [policy.delay(k) for k in range(1, retries + 1)] == waits
    assert policy.delay(retries + 1) is None


def test_an_unreachable_node_is_named_in_plain_words_not_by_the_http_library():
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(requests.ConnectionError) as refused:
        requests.post(closed, json={}, timeout=5)
    assert unreachable_reason(refused.value) == "connection refused"

    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        with pytest.raises(requests.Timeout) as slow:
            requests.post(f"http://127.0.0.1:{silent.getsockname()[1]}", json={}, timeout=0.2)
        assert unreachable_reason(slow.value) == "no answer in time (timed out)"  # the words of chains.connection_problem
    finally:
        silent.close()
    assert unreachable_reason(ValueError("not a connection problem")) is None


# ------------------------------------------------------------------ the embedded chain


def _commune_with_closed_auctions(count: int = 1) -> None:
    """A commune whose `count` bond auctions have closed, each fully bid at 1.50%."""
    ok("deploy", "--founder", "0", "--founder", "1", "--account", "0", "--period", "1d", "--grace", "1d",
       "--sale", "1d")
    ok("faucet", str(20_000 * count), "--account", "3")
    ok("faucet", "5000", "--account", "1")
    ok("faucet", "5000", "--account", "4")
    for n in range(1, count + 1):
        ok("assets", "request", f"ipfs://asset-{n}", "--price", "10000", "--vendor", "9", "--rent", "1200",
           "--periods", "10", "--closes-in", "1d", "--account", "1")
        ok("assets", "bid", str(n), "10000", "--rate-bps", "150", "--account", "3")
    ok("node", "advance", "1d")


def _records(output: str) -> list[dict]:
    records = [json.loads(line) for line in output.strip().splitlines()]
    for record in records:
        assert LOG_KEYS <= set(record), record
        assert record["ts"].endswith(OFFSET) and STAMP.match(record["ts"] + " "), record["ts"]
    return records


def test_every_line_starts_with_the_local_time_and_log_json_is_one_object_a_line(tmp_path: Path):
    with sandbox(tmp_path):
        _commune_with_closed_auctions()
        chain = networks.tester_chain()
        block = chain.w3.eth.block_number
        plain = vc("keeper", "run", "--max-rounds", "2", "--interval", "0.05", "--account", "9")
        assert plain.exit_code == 0, plain.output
        lines = plain.stdout.strip().splitlines()
        for line in lines:
            stamp = STAMP.match(line)
            assert stamp and stamp.group(2) == OFFSET, line
        texts = [STAMP.sub("", line) for line in lines]
        keeper = chain.accounts[9].address
        assert texts[0].startswith(f"keeper {keeper} (account 9) on tester (the embedded chain), commune 0x")
        sent = re.fullmatch(r"round 1: asset 1: settle sent (0x[0-9a-f]{64})", texts[1])
        assert sent, texts[1]
        assert texts[2] == f"round 1: asset 1: settle -> done: cleared at 150 bps ({sent.group(1)})"
        assert texts[3:] == ["round 2: nothing due", "done after 2 rounds: 1 done, 0 skipped, 0 retries"]
        # the one transaction is the keeper's settlement, and nothing else was sent
        receipt = chain.w3.eth.get_transaction_receipt(sent.group(1))
        assert receipt["status"] == 1 and receipt["from"] == keeper
        assert chain.w3.eth.block_number == block + 1

        logged = vc("keeper", "run", "--once", "--account", "9", "--log-json", "--json")
        assert logged.exit_code == 0, logged.output
        records = _records(logged.stdout)
        assert [r["event"] for r in records] == ["start", "idle", "summary"]
        assert records[0]["account"] == keeper and records[0]["network"] == "tester"
        assert records[1]["round"] == 1
        summary = records[-1]  # with --log-json the summary is the last line; --json adds no other line
        assert (summary["ok"], summary["rounds"], summary["done"], summary["skipped"], summary["retries"],
                summary["stopped_by"]) == (True, 1, [], [], 0, "max_rounds")


def test_a_liquidation_line_shows_the_buyer_by_name_and_amounts_in_tokens(tmp_path: Path):
    with sandbox(tmp_path):
        _commune_with_closed_auctions()
        a = networks.tester_chain().accounts
        assert ok("keeper", "run", "--once", "--account", "9")["done"][0]["action"] == "settle"
        ok("node", "advance", "3d")  # rent unpaid past the grace period
        reclaimed = ok("keeper", "run", "--once", "--account", "9")["done"][0]
        assert reclaimed["detail"] == f"rental of {a[1].address} (account 1) ended (defaulted)"
        assert reclaimed["values"] == {"renter": a[1].address, "reason": "Defaulted"}
        ok("node", "advance", "1d")  # nobody bids for the rental
        offered = ok("keeper", "run", "--once", "--account", "9")["done"][0]
        assert (offered["action"], offered["detail"], offered["values"]) == (
            "settleRental", "no bid: offered for liquidation", {"outcome": "liquidation"})
        ok("assets", "liquidation", "bid", "1", "1200", "--account", "4")
        ok("node", "advance", "1d")
        result = vc("keeper", "run", "--once", "--account", "9", "--log-json")
        action = [r for r in _records(result.stdout) if r["event"] == "action"][0]
        values = action["values"]
        assert values["buyer"] == a[4].address and values["proceeds_base_units"] == 1_200 * 10**6
        assert values["proceeds"] == "1200" and values["sold"] is True
        assert values["to_bonds_base_units"] + values["to_members_base_units"] == 1_200 * 10**6
        shortfall = Decimal(values["shortfall_base_units"]) / 10**6
        assert action["detail"].startswith(f"sold to {a[4].address} (account 4) for 1,200 tUSD (")
        assert f"{shortfall:,f} tUSD of bonds written off" in action["detail"]
        assert "base units" not in result.stdout


@pytest.mark.parametrize("flags", [("--log-json",), ("--json",)])
def test_an_unreachable_node_is_retried_with_backoff_then_the_keeper_gives_up_with_exit_2(tmp_path: Path, flags):
    url = f"http://127.0.0.1:{free_port()}"
    with sandbox(tmp_path):
        (tmp_path / "vc.toml").write_text(f'[networks.local]\nurl = "{url}"\nchain_id = 31337\n')
        started = time.monotonic()
        result = vc("keeper", "run", "--network", "local", "--account", "9", "--retries", "2", "--backoff", "0.05",
                    *flags)
        took = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: node {url} unreachable: connection refused; gave up after 2 retries"
    assert 0.15 <= took < 5  # 0.05 s, then 0.1 s
    if flags == ("--log-json",):
        records = _records(result.stdout)
        assert [(r["event"], r["level"]) for r in records] == [
            ("unreachable", "warning"), ("unreachable", "warning"), ("summary", "error")]
        assert [(r["retry"], r["of"], r["retry_in"], r["error"], r["url"]) for r in records[:2]] == [
            (1, 2, 0.05, "connection refused", url), (2, 2, 0.1, "connection refused", url)]
        summary = records[-1]
    else:
        lines = [STAMP.sub("", line) for line in result.stdout.strip().splitlines()[:-1]]
        assert lines == [f"warning: node {url} unreachable: connection refused; retry 1 of 2 in 0.05 s",
                         f"warning: node {url} unreachable: connection refused; retry 2 of 2 in 0.1 s",
                         f"error: node {url} unreachable: connection refused; gave up after 2 retries "
                         "after 0 rounds: 0 done, 0 skipped, 2 retries"]
        summary = last_json(result)
    assert (summary["ok"], summary["kind"], summary["rounds"], summary["retries"], summary["stopped_by"]) == (
        False, "chain", 0, 2, "unreachable")
    assert "urllib3" not in result.output and "HTTPConnectionPool" not in result.output


def _signal_when_sent(monkeypatch: pytest.MonkeyPatch, *signals: signal.Signals) -> list[str]:
    """Deliver ``signals`` to this process the moment the keeper's first transaction is sent (before
    its receipt is read); returns the hashes sent."""
    sent: list[str] = []
    original = keeper_cli.KeeperService._sent

    def sent_then_signal(self: keeper_cli.KeeperService, tx_hash: str) -> None:
        original(self, tx_hash)
        sent.append(tx_hash)
        if len(sent) == 1:
            for sig in signals:
                os.kill(os.getpid(), sig)

    monkeypatch.setattr(keeper_cli.KeeperService, "_sent", sent_then_signal)
    return sent


@needs_main_thread
def test_sigterm_during_a_send_finishes_that_action_then_stops_with_the_summary_and_exit_0(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with sandbox(tmp_path):
        _commune_with_closed_auctions(2)
        chain = networks.tester_chain()
        block = chain.w3.eth.block_number
        sent = _signal_when_sent(monkeypatch, signal.SIGTERM)
        result = vc("keeper", "run", "--interval", "30", "--account", "9", "--json")
        assert result.exit_code == 0, result.output
        summary = last_json(result)
        assert (summary["rounds"], summary["stopped_by"], summary["skipped"], summary["unconfirmed"]) == (
            1, "SIGTERM", [], [])
        assert [(d["asset_id"], d["action"], d["tx_hash"]) for d in summary["done"]] == [(1, "settle", sent[0])]
        assert "stopped by SIGTERM after 1 round: 1 done, 0 skipped, 0 retries" in result.stdout
        # the second auction was left for the next keeper: one transaction only
        assert chain.w3.eth.block_number == block + 1 and len(sent) == 1
        assert ok("status")["assets"][1]["state"] == "auction"
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are given back


@needs_main_thread
def test_a_second_signal_stops_at_once_and_names_the_transaction_sent_as_unconfirmed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with sandbox(tmp_path):
        _commune_with_closed_auctions()
        sent = _signal_when_sent(monkeypatch, signal.SIGTERM, signal.SIGTERM)
        result = vc("keeper", "run", "--interval", "30", "--account", "9", "--log-json")
        assert result.exit_code == 0, result.output
        records = _records(result.stdout)
        assert [r["event"] for r in records] == ["start", "sent", "forced_stop", "unconfirmed", "summary"]
        summary = records[-1]
        assert summary["done"] == [] and summary["stopped_by"] == "SIGTERM"
        assert summary["unconfirmed"] == [{"round": 1, "asset_id": 1, "action": "settle", "tx_hash": sent[0]}]
        assert sent[0] in summary["message"]


@needs_main_thread
def test_ctrl_c_between_rounds_stops_at_once_with_the_same_summary_and_exit_130(tmp_path: Path):
    with sandbox(tmp_path):
        _commune_with_closed_auctions()
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        started = time.monotonic()
        timer.start()
        try:
            result = vc("keeper", "run", "--interval", "30", "--account", "9", "--json")
        finally:
            timer.cancel()
        assert time.monotonic() - started < 10  # not the 30 s interval
        assert result.exit_code == 130, result.output
        summary = last_json(result)
        assert (summary["rounds"], summary["stopped_by"], [d["action"] for d in summary["done"]]) == (
            1, "SIGINT", ["settle"])
        assert "stopped by SIGINT after 1 round: 1 done, 0 skipped, 0 retries" in result.stdout


@pytest.mark.parametrize(("flags", "message"), [
    (("--retries", "-1"), "--retries must be 0 or more, got -1"),
    (("--backoff", "0"), "--backoff and --max-backoff must be more than zero seconds"),
    (("--max-backoff", "-2"), "--backoff and --max-backoff must be more than zero seconds"),
    (("--interval", "0"), "--interval must be more than zero seconds"),
])
def test_bad_service_options_are_refused_before_the_node_is_reached(tmp_path: Path, flags, message):
    with sandbox(tmp_path):
        result = vc("keeper", "run", "--network", "local", "--account", "9", *flags)
    assert result.exit_code == 2 and message in result.stderr


def test_the_help_tells_how_each_signal_ends_the_keeper():
    text = " ".join(vc("keeper", "run", "--help").stdout.split())
    for phrase in ("SIGTERM exits 0", "Ctrl-C exits 130", "--log-json", "--retries", "--backoff", "exit 2"):
        assert phrase in text


# ------------------------------------------------------------------ a real node, stopped and restarted

VC = Path(sys.executable).parent / "vc"


class Lines:
    """The keeper's stdout, one JSON record a line, read by a thread."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.seen: list[dict] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def until(self, wanted: Callable[[dict], bool], timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            record = json.loads(line)
            self.seen.append(record)
            if wanted(record):
                return record
        raise AssertionError(f"no such line within {timeout} s; seen: {[r.get('message') for r in self.seen]}")


@pytest.mark.anvil
def test_the_keeper_retries_while_the_node_is_down_resumes_when_it_returns_and_stops_on_sigterm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    port = free_port()
    with sandbox(tmp_path, network="local"):
        monkeypatch.setenv("VC_NODE_PORT", str(port))
        env = {**os.environ, "TZ": ZONE, "PYTHONUNBUFFERED": "1"}
        ok("node", "start", "--state", "chain.json")
        proc = None
        try:
            ok("deploy", "--founder", "0", "--founder", "1", "--account", "0")
            ok("faucet", "5000", "--account", "1")
            ok("faucet", "10000", "--account", "3")
            ok("assets", "request", "ipfs://mill", "--price", "10000", "--vendor", "8", "--rent", "1200",
               "--periods", "10", "--closes-in", "1h", "--account", "1")
            ok("assets", "bid", "1", "10000", "--rate-bps", "150", "--account", "3")
            proc = subprocess.Popen(
                [str(VC), "keeper", "run", "--network", "local", "--account", "9", "--interval", "0.5", "--log-json",
                 "--retries", "40", "--backoff", "0.2", "--max-backoff", "0.4"],
                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            lines = Lines(proc)
            lines.until(lambda r: r["event"] == "idle")  # the auction is still open

            ok("node", "stop")
            down = [lines.until(lambda r: r["event"] == "unreachable") for _ in range(2)]
            assert [d["error"] for d in down] == ["connection refused"] * 2
            assert [d["retry"] for d in down] == [1, 2] and down[1]["retry_in"] == 0.4
            assert down[0]["url"] == f"http://127.0.0.1:{port}" and down[0]["level"] == "warning"

            ok("node", "start", "--state", "chain.json")  # the same chain, from its state file
            back = lines.until(lambda r: r["event"] == "reconnected")
            assert down[0]["round"] == down[1]["round"] == back["round"]  # a retry repeats its round
            ok("node", "advance", "1h")
            settled = lines.until(lambda r: r["event"] == "action")
            assert (settled["asset_id"], settled["action"], settled["outcome"], settled["detail"]) == (
                1, "settle", "done", "cleared at 150 bps")
            lines.until(lambda r: r["event"] == "idle" and r["round"] > settled["round"])

            proc.send_signal(signal.SIGTERM)
            summary = lines.until(lambda r: r["event"] == "summary")
            assert proc.wait(timeout=15) == 0
            retries = sum(1 for r in lines.seen if r["event"] == "unreachable")
            assert (summary["ok"], summary["stopped_by"], summary["retries"], summary["skipped"]) == (
                True, "SIGTERM", retries, [])
            assert retries >= 2 and summary["rounds"] == max(r.get("round", 0) for r in lines.seen)
            assert [(d["action"], d["tx_hash"]) for d in summary["done"]] == [("settle", settled["tx_hash"])]
            assert all(STAMP.match(r["ts"] + " ") and r["ts"].endswith(OFFSET) for r in lines.seen)
            # on the chain: the keeper's own transaction settled the auction
            rpc = {"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [settled["tx_hash"]]}
            receipt = requests.post(f"http://127.0.0.1:{port}", json=rpc, timeout=10).json()["result"]
            assert int(receipt["status"], 16) == 1 and receipt["from"].lower() == ANVIL_ADDRESSES[9].lower()
            assert ok("status")["assets"][0]["state"] == "rented"
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
            record = tmp_path / ".vc" / "node.json"
            if record.is_file():
                os.kill(json.loads(record.read_text())["pid"], signal.SIGKILL)
