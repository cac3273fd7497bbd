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
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 2}, exception_retry_configuration=None))
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
    if no_state and state_file is not None:
        raise InputError("give either --state FILE or --no-state, not both")
    folder.mkdir(parents=True, exist_ok=True)  # the default state file's folder
    state = None if no_state else (state_file or folder / "anvil-state.json").resolve()
    if state is not None:
        check_state_file(state)
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--accounts", str(LOCAL_ACCOUNTS),
            "--mnemonic", ANVIL_MNEMONIC, "--chain-id", str(LOCAL_CHAIN_ID)]
    if state is not None:
        args += ["--state", str(state), "--state-interval", "5"]
    log = folder / "anvil.log"
    with open(log, "ab") as out:
        started_at = out.tell()  # the log is appended to: this start's lines begin here
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = time.monotonic() + 20
    while not _answers(url):
        if proc.poll() is not None:
            raise ChainError(f"anvil exited with status {proc.returncode} at start: {_log_error(log, started_at)} "
                             f"(full log: {log})")
        if time.monotonic() > deadline:
            proc.terminate()
            raise ChainError(f"anvil did not answer on {url} within 20 s; last log line: "
                             f"{_log_error(log, started_at)} (full log: {log})")
        time.sleep(0.05)
    record = {"pid": proc.pid, "url": url, "port": port, "state": str(state) if state else None, "log": str(log),
              "chain_id": LOCAL_CHAIN_ID}
    (folder / "node.json").write_text(json.dumps(record, indent=2) + "\n")
    click.echo(f"node started: pid {proc.pid}, {url}, chain id {LOCAL_CHAIN_ID}"
               + (f", state {state}" if state else ", no state file") + f", log {log}")
    if as_json:
        from vcengine.cli import emit_json

        emit_json({"ok": True, **record})


def check_state_file(path: Path) -> None:
    """Refuse a state file anvil cannot load, before starting it: a folder, an unreadable file, a
    file that is not JSON, or JSON that is not an anvil state dump. A missing file is fine (anvil
    starts a fresh chain and writes it at stop), if its folder exists."""
    if path.is_dir():
        raise InputError(f"--state {path} is a folder: name a file (anvil writes the chain's state to it)")
    if not path.exists():
        if not path.parent.is_dir():
            raise InputError(f"--state {path}: the folder {path.parent} does not exist, so anvil could not "
                             f"write the state there")
        return
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--state {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"--state {path} is not an anvil state file: it is not text (UTF-8 JSON)") from None
    if not text.strip():
        raise InputError(f"--state {path} is empty, not an anvil state dump; delete it to start a fresh chain "
                         f"(anvil writes the file when the node stops)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--state {path} is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                         f"it is not an anvil state dump") from None
    missing = [key for key in ("block", "accounts") if not isinstance(data, dict) or not isinstance(data.get(key), dict)]
    if missing:
        raise InputError(f"--state {path} is JSON but not an anvil state dump (no {' or '.join(repr(k) for k in missing)} "
                         f"object, as `anvil --dump-state` and `vc node stop` write)")


def _log_error(log: Path, start: int) -> str:
    """The line of anvil's log (from offset ``start``) that says what went wrong: its first
    ``error`` line, else its last line."""
    try:
        with open(log, "rb") as f:
            f.seek(start)
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return "(the log could not be read)"
    if not lines:
        return "(anvil wrote nothing)"
    return next((line for line in lines if line.lower().startswith("error")), lines[-1])


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


#: Exit status of ``vc node status`` when no node runs (as ``systemctl status`` of a stopped unit).
NOT_RUNNING = 3


@node.command()
@click.option("--port", type=int, default=None, envvar="VC_NODE_PORT", show_envvar=True,
              help=f"Where to look for a node not started by `vc node start` [default: {LOCAL_DEFAULT_PORT}].")
@json_option
@handle_errors
def status(port: int | None, as_json: bool) -> None:
    """Show whether the node runs, its pid, URL, block and chain id. Exit status 3 when none runs."""
    info = node_info()
    alive = bool(info and _alive(info["pid"]))
    url = info["url"] if info else f"http://127.0.0.1:{LOCAL_DEFAULT_PORT if port is None else port}"
    chain = _answers(url) if alive or not info else None
    out = {"running": chain is not None, "started_here": bool(info), "pid": info["pid"] if info else None,
           "url": url, "state": info.get("state") if info else None, **(chain or {"chain_id": None, "block": None})}
    if chain and info:
        click.echo(f"running: pid {out['pid']}, {url}, chain id {out['chain_id']}, block {out['block']}"
                   + (f", state {out['state']}" if out["state"] else ""))
    elif chain:
        click.echo(f"running: a node not started by `vc node start` answers on {url} (chain id {out['chain_id']}, "
                   f"block {out['block']}); `vc node stop` cannot stop it")
    elif alive:
        click.echo(f"not running: pid {out['pid']} is alive but no node answers on {url}; see {info['log']}")  # type: ignore[index]
    else:
        click.echo("not running" + (f" (stale record for pid {out['pid']}, which has exited)" if info else
                                    f" (nothing answers on {url})") + ": start it with `vc node start`")
    if as_json:
        from vcengine.cli import emit_json

        emit_json({"ok": True, **out})
    if chain is None:
        click.get_current_context().exit(NOT_RUNNING)


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
