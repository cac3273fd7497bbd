"""``vc accounts new|import|list|show``: encrypted keystore files (v3 JSON, as wallets use)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from vcengine import accounts as store
from vcengine.chains import ANVIL_ADDRESSES, ChainError
from vcengine.cli import emit_json, handle_errors, json_option
from vcengine.client import InputError
from vcengine.commands.common import Session, network_option, read_password
from vcengine.display import Display


@click.group()
def accounts() -> None:
    """Create, import and list signing accounts (keystores in $XDG_CONFIG_HOME/vc/keystores or VC_KEYSTORE_DIR)."""


password_file_option = click.option(
    "--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="File whose first line is the password (else VC_PASSWORD, else a hidden prompt).")


@accounts.command()
@click.argument("name")
@password_file_option
@json_option
@handle_errors
def new(name: str, password_file: Path | None, as_json: bool) -> None:
    """Create a new random key named NAME, encrypted with a password."""
    store.check_new_name(name)
    path = store.new_account(name, read_password(password_file, f"Password for new account {name}", confirm=True))
    address = store.find_account(name)[1]
    click.echo(f"created {name}: {address} ({path})")
    if as_json:
        emit_json({"ok": True, "name": name, "address": address, "keystore": str(path)})


@accounts.command(name="import")
@click.argument("name")
@click.option("--keystore", "keystore_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Copy a wallet's keystore file; it keeps its own password, which is asked (or read from "
                   "VC_PASSWORD / --password-file) and checked before anything is written.")
@click.option("--private-key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read the hex private key from this file (else a hidden prompt).")
@password_file_option
@json_option
@handle_errors
def import_(name: str, keystore_file: Path | None, private_key_file: Path | None, password_file: Path | None,
            as_json: bool) -> None:
    """Import an account as NAME: a wallet's keystore file, or a private key to encrypt."""
    store.check_new_name(name)
    if keystore_file is not None and private_key_file is not None:
        raise InputError("give either --keystore or --private-key-file, not both")
    if keystore_file is not None:
        address = store.keystore_address(store.read_keystore(keystore_file))
        warnings = _known_as(address, name)
        path = store.import_keystore(name, keystore_file, read_password(password_file, f"Password of {keystore_file}"))
    else:
        key = _read_private_key(private_key_file)
        address = store.check_private_key_address(key)  # before asking for a password
        warnings = _known_as(address, name)
        password = read_password(password_file, f"Password to encrypt {name}", confirm=True)
        path = store.import_key(name, key, password)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"imported {name}: {address} ({path})")
    if as_json:
        emit_json({"ok": True, "name": name, "address": address, "keystore": str(path), "warnings": warnings})


def _read_private_key(private_key_file: Path | None) -> str:
    if private_key_file is not None:
        try:
            return private_key_file.read_text().strip()
        except OSError as exc:
            raise InputError(f"cannot read {private_key_file}: {exc.strerror}") from None
    if not sys.stdin.isatty():
        raise InputError("no private key: there is no terminal to ask on; give --private-key-file FILE "
                         "(or --keystore FILE)")
    return click.prompt("Private key (hex)", hide_input=True, err=True)


def _known_as(address: str, name: str) -> list[str]:
    """Warnings when ``address`` is already known under another name (it is imported all the same)."""
    return [f"{address} is already known as {other}; {name!r} will be another name for the same key"
            for other in store.other_names(address, name)]


@accounts.command(name="list")
@network_option
@json_option
@handle_errors
def list_(network_name: str, as_json: bool) -> None:
    """List the stored (keystore) accounts and, on a local network, its test accounts by index,
    with their ETH balances when the node answers."""
    s = Session.start(network_name, as_json)
    local = s.network.has_test_accounts
    chain, node_error = None, None
    if local:
        try:
            chain = s.chain
        except ChainError as exc:
            node_error = str(exc)
    eth = Display(decimals=18, symbol="ETH")

    def with_balance(row: dict[str, Any]) -> dict[str, Any]:
        eth.put_amount(row, "eth_balance", chain.w3.eth.get_balance(row["address"]) if chain is not None else None)
        return row

    keystores = [with_balance({"name": n, "address": a, "keystore": str(p)}) for n, a, p in store.list_accounts()]
    test_addresses = [a.address for a in chain.accounts] if s.network.kind == "tester" and chain else ANVIL_ADDRESSES
    tests = [with_balance({"index": i, "address": a}) for i, a in enumerate(test_addresses)] if local else []

    def table(title: str, first: str, rows: list[dict[str, Any]]) -> Table:
        shown = Table(title=title, title_justify="left", box=None)
        shown.add_column(first, justify="right" if first == "index" else "left")
        shown.add_column("address")
        if chain is not None:
            shown.add_column("ETH", justify="right")
        for row in rows:
            balance = [] if chain is None else [eth.amount(row["eth_balance_base_units"])]
            shown.add_row(str(row[first]), row["address"], *balance)
        return shown

    if keystores:
        s.console.print(table(f"Keystore accounts ({store.keystore_dir()})", "name", keystores))
    else:
        s.say(f"no keystore accounts in {store.keystore_dir()}: create one with `vc accounts new NAME` "
              "or `vc accounts import NAME`")
    if local:
        where = "the embedded chain" if s.network.kind == "tester" else f"the local node at {s.network.url}"
        s.console.print(table(f"Test accounts of network {s.network.name!r} ({where}; well-known keys: never "
                              "use them on a public chain)", "index", tests))
        if node_error:
            s.say(f"the node is not running, so no balances are shown: {node_error}")
        s.say("sign with one by index: --account N (or --account-index N)")
    else:
        s.say(f"network {s.network.name!r} has no test accounts (it is not a local network)")
    if as_json:
        emit_json({"ok": True, "network": s.network.name, "keystore_dir": str(store.keystore_dir()),
                   "node": {"url": s.network.url, "running": chain is not None, "error": node_error} if local else None,
                   "accounts": keystores, "test_accounts": tests})


@accounts.command()
@click.argument("name_or_address")
@json_option
@handle_errors
def show(name_or_address: str, as_json: bool) -> None:
    """Show a stored account's address and keystore file (never its key)."""
    name, address, path = store.find_account(name_or_address)
    click.echo(f"{name}: {address}\nkeystore: {path}")
    if as_json:
        emit_json({"ok": True, "name": name, "address": address, "keystore": str(path)})
