"""``vc accounts new|import|list|show``: encrypted keystore files (v3 JSON, as wallets use)."""

from __future__ import annotations

from pathlib import Path

import click

from vcengine import accounts as store
from vcengine.cli import emit_json, handle_errors, json_option
from vcengine.client import InputError
from vcengine.commands.common import read_password


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
    store._check_name(name)
    path = store.new_account(name, read_password(password_file, f"Password for new account {name}", confirm=True))
    address = store.find_account(name)[1]
    click.echo(f"created {name}: {address} ({path})")
    if as_json:
        emit_json({"ok": True, "name": name, "address": address, "keystore": str(path)})


@accounts.command(name="import")
@click.argument("name")
@click.option("--keystore", "keystore_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Copy a wallet's keystore file (it keeps its own password).")
@click.option("--private-key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read the hex private key from this file (else a hidden prompt).")
@password_file_option
@json_option
@handle_errors
def import_(name: str, keystore_file: Path | None, private_key_file: Path | None, password_file: Path | None,
            as_json: bool) -> None:
    """Import an account as NAME: a wallet's keystore file, or a private key to encrypt."""
    store._check_name(name)
    if keystore_file is not None and private_key_file is not None:
        raise InputError("give either --keystore or --private-key-file, not both")
    if keystore_file is not None:
        path = store.import_keystore(name, keystore_file)
    else:
        if private_key_file is not None:
            try:
                key = private_key_file.read_text().strip()
            except OSError as exc:
                raise InputError(f"cannot read {private_key_file}: {exc.strerror}") from None
        else:
            key = click.prompt("Private key (hex)", hide_input=True, err=True)
        store.check_private_key(key)  # before asking for a password
        password = read_password(password_file, f"Password to encrypt {name}", confirm=True)
        path = store.import_key(name, key, password)
    address = store.find_account(name)[1]
    click.echo(f"imported {name}: {address} ({path})")
    if as_json:
        emit_json({"ok": True, "name": name, "address": address, "keystore": str(path)})


@accounts.command(name="list")
@json_option
@handle_errors
def list_(as_json: bool) -> None:
    """List stored accounts."""
    found = store.list_accounts()
    if not found:
        click.echo(f"no accounts in {store.keystore_dir()}: create one with `vc accounts new NAME`")
    for name, address, _ in found:
        click.echo(f"{name:<20} {address}")
    if as_json:
        emit_json({"ok": True, "keystore_dir": str(store.keystore_dir()),
                   "accounts": [{"name": n, "address": a, "keystore": str(p)} for n, a, p in found]})


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
