"""``vc node start|stop|status|advance``: the local anvil node behind the ``local`` network.

The node runs in the background; its pid, URL, log and state file live in the state folder
(``./.vc`` or ``VC_STATE_DIR``). With the state file (the default) anvil loads the chain at start
and writes it back when stopped (and every few seconds), so a restart keeps the commune.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import click
from web3 import Web3

from vcengine.chains import ANVIL_MNEMONIC, LOCAL_ACCOUNTS, ChainError, anvil_binary
from vcengine.cli import handle_errors, json_option
from vcengine.client import InputError
from vcengine.commands.common import Session, network_option, parse_duration
from vcengine.networks import LOCAL_CHAIN_ID, LOCAL_DEFAULT_PORT, node_info, state_dir


@click.group()
def node() -> None:
    """Run the local anvil node (network `local`) in the background."""


def _alive(pid: int) -> bool:
    """True if process ``pid`` runs (a zombie left by a parent that never waited is not running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False


def _answers(url: str) -> dict | None:
    try:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 2}))
        return {"chain_id": w3.eth.chain_id, "block": w3.eth.block_number}
    except Exception:
        return None


@node.command()
@click.option("--port", type=int, default=None, envvar="VC_NODE_PORT", show_envvar=True,
              help=f"Port on 127.0.0.1 [default: {LOCAL_DEFAULT_PORT}].")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="State file loaded at start and written at stop [default: STATE_DIR/anvil-state.json].")
@click.option("--no-state", is_flag=True, help="Keep nothing: the chain starts empty and is lost at stop.")
@json_option
@handle_errors
def start(port: int | None, state_file: Path | None, no_state: bool, as_json: bool) -> None:
    """Start anvil in the background (chain id 31337, 20 funded test accounts)."""
    port = LOCAL_DEFAULT_PORT if port is None else port
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be between 1 and 65535, got {port}")
    folder = state_dir()
    info = node_info()
    if info and _alive(info["pid"]):
        raise InputError(f"a node is already running (pid {info['pid']}, {info['url']}); stop it with `vc node stop`")
    url = f"http://127.0.0.1:{port}"
    if _answers(url):
        raise InputError(f"something already answers on {url}: choose another --port (or VC_NODE_PORT)")
    folder.mkdir(parents=True, exist_ok=True)
    state = None if no_state else (state_file or folder / "anvil-state.json").resolve()
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--accounts", str(LOCAL_ACCOUNTS),
            "--mnemonic", ANVIL_MNEMONIC, "--chain-id", str(LOCAL_CHAIN_ID)]
    if state is not None:
        args += ["--state", str(state), "--state-interval", "5"]
    log = folder / "anvil.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = time.monotonic() + 20
    while not _answers(url):
        if proc.poll() is not None:
            raise ChainError(f"anvil exited with status {proc.returncode} at start; see {log}")
        if time.monotonic() > deadline:
            proc.terminate()
            raise ChainError(f"anvil did not answer on {url} within 20 s; see {log}")
        time.sleep(0.05)
    record = {"pid": proc.pid, "url": url, "port": port, "state": str(state) if state else None, "log": str(log),
              "chain_id": LOCAL_CHAIN_ID}
    (folder / "node.json").write_text(json.dumps(record, indent=2) + "\n")
    click.echo(f"node started: pid {proc.pid}, {url}, chain id {LOCAL_CHAIN_ID}"
               + (f", state {state}" if state else ", no state file") + f", log {log}")
    if as_json:
        from vcengine.cli import emit_json

        emit_json({"ok": True, **record})


@node.command()
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the state to be written.")
@json_option
@handle_errors
def stop(timeout: float, as_json: bool) -> None:
    """Stop the node; it writes its state file first, so `vc node start` resumes the same chain."""
    info = node_info()
    if not info:
        raise InputError(f"no node was started from here ({state_dir() / 'node.json'} does not exist)")
    pid = info["pid"]
    stopped = False
    if _alive(pid):
        os.kill(pid, signal.SIGINT)  # anvil dumps its state on SIGINT, then exits
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            raise ChainError(f"anvil (pid {pid}) did not stop within {timeout:.0f} s and was killed; "
                             f"its state file may be older than the last blocks (it is written every 5 s)")
        stopped = True
    (state_dir() / "node.json").unlink(missing_ok=True)
    click.echo(f"node stopped (pid {pid})" + (f"; state kept in {info['state']}" if info.get("state") else "")
               if stopped else f"node (pid {pid}) was not running; record removed")
    if as_json:
        from vcengine.cli import emit_json

        emit_json({"ok": True, "pid": pid, "was_running": stopped, "state": info.get("state")})


@node.command()
@json_option
@handle_errors
def status(as_json: bool) -> None:
    """Show whether the node runs, its pid, URL, block and chain id."""
    info = node_info()
    running = bool(info and _alive(info["pid"]))
    chain = _answers(info["url"]) if running and info else None
    out = {"running": running and chain is not None, "pid": info["pid"] if info else None,
           "url": info["url"] if info else None, "state": info.get("state") if info else None,
           **(chain or {"chain_id": None, "block": None})}
    if out["running"]:
        click.echo(f"running: pid {out['pid']}, {out['url']}, chain id {out['chain_id']}, block {out['block']}"
                   + (f", state {out['state']}" if out["state"] else ""))
    else:
        click.echo("not running" + (f" (stale record for pid {out['pid']})" if info else "") + ": start it with `vc node start`")
    if as_json:
        from vcengine.cli import emit_json

        emit_json({"ok": True, **out})


@node.command()
@click.argument("duration")
@network_option
@json_option
@handle_errors
def advance(duration: str, network_name: str, as_json: bool) -> None:
    """Move a local chain's clock forward by DURATION (3600, 90s, 15m, 12h, 3d) and mine a block."""
    seconds = parse_duration(duration, "DURATION")
    session = Session.start(network_name, as_json)
    if not session.network.has_test_accounts:
        raise InputError(f"network {session.network.name!r} is not local: only tester and local can move time")
    now = session.chain.advance_time(seconds)
    session.say(f"chain time is now {now}")
    session.finish({"timestamp": now, "advanced": seconds})
