"""Signing accounts: encrypted keystore files (the standard v3 JSON that wallets read and write).

Keystores live in ``$VC_KEYSTORE_DIR`` or ``$XDG_CONFIG_HOME/vc/keystores``, one ``NAME.json``
per account. Passwords come from a hidden prompt, ``VC_PASSWORD`` or a password file; they are
never printed or logged.

Example::

    >>> path = new_account("alice", "correct horse")
    >>> load_account("alice", "correct horse").address == keystore_address(read_keystore(path))
    True
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address

from vcengine.client import InputError
from vcengine.networks import config_dir

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def keystore_dir() -> Path:
    return Path(os.environ.get("VC_KEYSTORE_DIR") or config_dir() / "keystores")


def _check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InputError(f"account name must start with a letter and use letters, digits, '.', '-' or '_' "
                         f"(at most 64), got {name!r}")
    return name


def check_new_name(name: str) -> Path:
    """The keystore path for a new account ``name``, or InputError if the name is malformed or taken
    (checked before any password is asked)."""
    path = keystore_dir() / f"{_check_name(name)}.json"
    if path.exists():
        raise InputError(f"an account named {name!r} already exists ({path}); choose another name")
    return path


def _write(name: str, keystore: dict[str, Any]) -> Path:
    path = check_new_name(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keystore, fh)
    return path


def read_keystore(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read keystore {path}: {exc}") from None
    if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data} or "address" not in data:
        raise InputError(f"{path} is not a v3 keystore file (it needs 'address' and 'crypto')")
    address = data["address"]
    if not isinstance(address, str) or not is_address("0x" + address.lower().removeprefix("0x")):
        raise InputError(f"{path} is not a v3 keystore file: its 'address' is not an address")
    return data


def _check_password(password: str) -> str:
    if not password:
        raise InputError("the password must not be empty")
    return password


def new_account(name: str, password: str) -> Path:
    """Create a random key, encrypt it with ``password`` and store it as ``NAME.json``."""
    _check_name(name)
    acct = Account.create()
    return _write(name, Account.encrypt(acct.key, _check_password(password)))


def check_private_key(private_key: str) -> bytes:
    """The 32 bytes of a hex private key, or InputError (the key itself is never shown)."""
    text = private_key.strip().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise InputError("a private key is 32 bytes in hex (64 hex digits, optionally after 0x)")
    return bytes.fromhex(text)


def check_private_key_address(private_key: str) -> str:
    """The checksum address of a hex private key (InputError for a malformed key, never shown)."""
    return Account.from_key(check_private_key(private_key)).address


def keystore_address(keystore: dict[str, Any]) -> str:
    """The checksum address a v3 keystore declares (read by :func:`read_keystore`)."""
    return to_checksum_address("0x" + keystore["address"].lower().removeprefix("0x"))


def import_key(name: str, private_key: str, password: str) -> Path:
    """Encrypt an existing private key (hex) under ``name``."""
    _check_name(name)
    key = check_private_key(private_key)
    return _write(name, Account.encrypt(key, _check_password(password)))


def import_keystore(name: str, source: Path, password: str) -> Path:
    """Copy a wallet's keystore file under ``name``; it stays encrypted with its own password, which
    must open it: a wrong one is refused before anything is written."""
    _check_name(name)
    keystore = read_keystore(source)
    check_keystore_password(keystore, _check_password(password), f"keystore {source}")
    return _write(name, keystore)


def check_keystore_password(keystore: dict[str, Any], password: str, what: str) -> bytes:
    """The private key inside ``keystore``, or InputError when ``password`` does not open it."""
    try:
        return bytes(Account.decrypt(keystore, password))
    except (ValueError, TypeError, KeyError) as exc:  # eth-keyfile's errors derive from ValueError/TypeError
        if "MAC mismatch" in str(exc):
            raise InputError(f"wrong password for {what}: nothing was changed or sent") from None
        raise InputError(f"cannot decrypt {what}: {exc or type(exc).__name__}") from None


def other_names(address: str, name: str) -> list[str]:
    """What else ``address`` is known as: other stored accounts' names, and ``test account N`` when it
    is one of the local node's well-known test keys (which must never hold real funds)."""
    from vcengine.chains import ANVIL_ADDRESSES

    found = [f"account {n!r} ({path})" for n, a, path in list_accounts() if a.lower() == address.lower() and n != name]
    for index, test_address in enumerate(ANVIL_ADDRESSES):
        if test_address.lower() == address.lower():
            found.append(f"test account {index} of local networks (a well-known key: never use it on a public chain)")
    return found


def list_accounts() -> list[tuple[str, str, Path]]:
    """(name, checksum address, path) of every stored account, by name."""
    folder = keystore_dir()
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = read_keystore(path)
        except InputError:
            continue
        found.append((path.stem, keystore_address(data), path))
    return found


def _looks_like_key(text: str) -> bool:
    return bool(re.fullmatch(r"(0x)?[0-9a-fA-F]{64}", text.strip()))


def find_account(name_or_address: str) -> tuple[str, str, Path]:
    """The stored account with this name or address, or InputError listing what exists."""
    accounts = list_accounts()
    for name, address, path in accounts:
        if name == name_or_address or (is_address(name_or_address) and address.lower() == name_or_address.lower()):
            return name, address, path
    known = ", ".join(n for n, _, _ in accounts) or "none"
    shown = "(a private key: never pass one here)" if _looks_like_key(name_or_address) else repr(name_or_address)
    raise InputError(f"no account {shown} in {keystore_dir()} (stored accounts: {known}); "
                     f"create one with `vc accounts new NAME` or `vc accounts import NAME`")


def load_account(name_or_address: str, password: str) -> LocalAccount:
    """Decrypt a stored account; a wrong password is InputError (nothing is sent)."""
    name, _, path = find_account(name_or_address)
    return Account.from_key(check_keystore_password(read_keystore(path), password, f"account {name!r} ({path})"))
