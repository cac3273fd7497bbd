"""What every command shares: the network, account and commune options, a session carrying the
chain and the deployment, validation helpers, and the report of each transaction.

Validation happens before anything is sent: options are parsed and checked first (exit status 2
with a message naming the bad value), then the chain is reached and the deployment opened, and
only then are transactions signed and sent.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import click
from eth_account.signers.local import LocalAccount
from eth_utils import event_abi_to_log_topic, is_address, to_checksum_address
from rich.console import Console
from web3._utils.events import get_event_data

from vcengine.chains import Chain
from vcengine.client import InputError, TxResult
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.display import Display
from vcengine.networks import Network, get_network, open_chain
from vcengine.units import format_amount, parse_amount

#: Event arguments that are settlement-token (or bond) amounts, shown in token units.
AMOUNT_ARGS = {"amount", "value", "price", "rent", "rentPerPeriod", "toBonds", "toMembers", "proceeds", "bonds",
               "refund", "perShare", "carry", "shortfall", "totalPaid", "reserve"}


def network_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--network", "network_name", default="local", show_default=True, envvar="VC_NETWORK",
                        show_envvar=True, metavar="NAME",
                        help="tester (embedded, this process only), local (`vc node start`) or a name from vc.toml.")(fn)


def account_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="File whose first line is the keystore password (else VC_PASSWORD, else a prompt).")(fn)
    fn = click.option("--account-index", type=int, default=None, metavar="N",
                      help="Test account N of a local network (tester, local).")(fn)
    fn = click.option("--account", "account", default=None, envvar="VC_ACCOUNT", show_envvar=True,
                      metavar="NAME|ADDRESS|N",
                      help="Signer: a keystore account's name or address, or a test account index on local networks.")(fn)
    return fn


def commune_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--commune", "commune_address", default=None, metavar="ADDRESS",
                        help="The commune's membership contract (default: deployments/NETWORK.json).")(fn)


def _remember_yes(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta["vc_yes"] = True
    return value


#: ``--yes``: confirm irreversible or costly actions without a prompt (stored in the click context,
#: read by :func:`confirm`, so commands need no parameter for it).
yes_option = click.option("--yes", "-y", is_flag=True, expose_value=False, callback=_remember_yes,
                          help="Confirm irreversible or costly actions without asking (needed without a terminal).")


def confirmed_by_flag() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().meta.get("vc_yes")) or bool(ctx and ctx.meta.get("vc_yes"))


def confirm(question: str) -> None:
    """Ask ``question`` (yes/no) before an irreversible or costly action; ``--yes`` answers it.

    Without a terminal and without ``--yes`` the action is refused (InputError, exit 2): a script
    must say so explicitly. Declining is refused the same way. Nothing has been sent either way.
    """
    if confirmed_by_flag():
        return
    import sys

    if not sys.stdin.isatty():
        raise InputError(f"{question.rstrip('?')}: this cannot be undone or costs real funds; "
                         "pass --yes to confirm (there is no terminal to ask)")
    if not click.confirm(question, default=False, err=True):
        raise InputError("not confirmed: nothing was sent")


def actor_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--network, --account/--account-index/--password-file, --commune, --yes and --json, for commands that send."""
    from vcengine.cli import json_option

    return network_option(account_options(commune_option(yes_option(json_option(fn)))))


def reader_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--network, --commune and --json, for commands that only read."""
    from vcengine.cli import json_option

    return network_option(commune_option(json_option(fn)))


@dataclass
class Session:
    """One command's view of the world: network, chain, artifacts, output and transactions sent."""

    network: Network
    as_json: bool
    console: Console = field(default_factory=lambda: _console())
    txs: list[dict[str, Any]] = field(default_factory=list)
    _chain: Chain | None = None
    _artifacts: CompileResult | None = None
    _deployment: Any = None
    _commune_address: str | None = None
    _decimals: int | None = None
    _symbol: str | None = None
    _display: Display | None = None

    @classmethod
    def start(cls, network_name: str, as_json: bool, commune_address: str | None = None) -> Session:
        network = get_network(network_name)  # unknown network: exit 2 before anything else
        if commune_address is not None:
            check_address(commune_address, "--commune")
        return cls(network, as_json, _commune_address=commune_address)

    @property
    def artifacts(self) -> CompileResult:
        if self._artifacts is None:
            self._artifacts = load_artifacts()
        return self._artifacts

    @property
    def chain(self) -> Chain:
        if self._chain is None:
            self._chain = open_chain(self.network)
        return self._chain

    @property
    def deployment(self) -> Any:
        """The commune's clients (checked to exist on the chain)."""
        if self._deployment is None:
            from vcengine.deployments import open_deployment

            self._deployment = open_deployment(self.chain, self.network.name, self.artifacts, self._commune_address)
        return self._deployment

    @property
    def decimals(self) -> int:
        if self._decimals is None:
            self._decimals = self.deployment.token.decimals()
        return self._decimals

    @property
    def display(self) -> Display:
        """The formatter of this command's output (vcengine.display): the token's decimals and
        symbol once the deployment is open, the chain's clock, and the names of known addresses."""
        if self._display is None:
            self._display = Display(names=self._known_names())
        d = self._display
        if d.decimals is None and self._deployment is not None:
            d.decimals, d.symbol = self.decimals, self.symbol
            dep = self._deployment
            d.add_names({dep.commune.address: "Commune", dep.treasury.address: "Treasury",
                         dep.stock.address: "CommonStock", dep.token.address: f"token {d.symbol}"}, overwrite=True)
        if self._chain is not None:
            d.now = self._chain.now()
        return d

    @property
    def symbol(self) -> str:
        if self._symbol is None:
            self._symbol = self.deployment.token.symbol()
        return self._symbol

    def _known_names(self) -> dict[str, str]:
        """Keystore account names, and test account indices on local networks."""
        names: dict[str, str] = {}
        if self.network.has_test_accounts:
            from vcengine.chains import ANVIL_ADDRESSES

            addresses = ANVIL_ADDRESSES
            if self.network.kind == "tester":
                addresses = tuple(a.address for a in self.chain.accounts)
            names.update({a.lower(): f"account {i}" for i, a in enumerate(addresses)})
        try:
            from vcengine.accounts import list_accounts

            names.update({address.lower(): name for name, address, _ in list_accounts()})
        except Exception:  # an unreadable keystore folder must not stop a command from printing
            pass
        return names

    def say(self, text: str) -> None:
        self.console.print(text)

    def fmt(self, base_units: int) -> str:
        return format_amount(base_units, self.decimals, grouping=True)

    def fmt_plain(self, base_units: int) -> str:
        return format_amount(base_units, self.decimals)

    # -------------------------------------------------------------- accounts

    def signer(self, account: str | None, account_index: int | None, password_file: Path | None) -> LocalAccount:
        """The signing account named by the options (a keystore is decrypted here, before sending)."""
        if account is not None and account_index is not None:
            raise InputError("give either --account or --account-index, not both")
        if account is None and account_index is None:
            raise InputError("no signer: pass --account NAME|ADDRESS (a keystore account"
                             + (") or --account N / --account-index N (a test account)" if self.network.has_test_accounts
                                else ")"))
        if account_index is None and account is not None and account.isdigit():
            account_index = int(account)
        if account_index is not None:
            return self.test_account(account_index)
        from vcengine.accounts import find_account, load_account

        name = find_account(account)[0]  # unknown account: exit 2 before asking for a password
        return load_account(name, read_password(password_file, f"Password for {name}"))

    def test_account(self, index: int) -> LocalAccount:
        if not self.network.has_test_accounts:
            raise InputError(f"network {self.network.name!r} has no test accounts: use a keystore account (--account NAME)")
        accounts = self.chain.accounts
        if not 0 <= index < len(accounts):
            raise InputError(f"test account index must be between 0 and {len(accounts) - 1}, got {index}")
        return accounts[index]

    def address_of(self, text: str, what: str) -> str:
        """An address given as 0x..., a keystore account name, or a test account index (local networks)."""
        text = text.strip()
        if text.isdigit():
            return self.test_account(int(text)).address
        if text.startswith("0x") or not re.match(r"^[A-Za-z]", text):
            return check_address(text, what)
        from vcengine.accounts import find_account

        return find_account(text)[1]

    # ------------------------------------------------------------ reporting

    def report_tx(self, label: str, tx: TxResult | None) -> None:
        """Print a transaction's hash, gas and decoded events, and keep it for ``--json``."""
        if tx is None:
            return
        events = self.decode_events(tx)
        self.txs.append({"action": label, "hash": tx.tx_hash, "gas_used": tx.gas_used, "block": tx.block_number,
                         "events": [{"contract": c, "name": n, "args": a} for c, n, a in events]})
        self.say(f"[bold]{label}[/]: tx {tx.tx_hash} (block {tx.block_number}, gas used {tx.gas_used:,})")
        for contract, name, args in events:
            shown = ", ".join(f"{k}={self._show_arg(k, v)}" for k, v in args.items())
            self.say(f"  [cyan]{contract}.{name}[/]({shown})")

    def _show_arg(self, key: str, value: Any) -> str:
        if isinstance(value, bytes):
            return "0x" + value.hex()
        if key in AMOUNT_ARGS and isinstance(value, int) and self._deployment is not None:
            return self.fmt_plain(value)
        return str(value)

    def decode_events(self, tx: TxResult) -> list[tuple[str, str, dict[str, Any]]]:
        """Every log of the transaction decoded by the ABI of the contract that emitted it."""
        receipt = self.chain.w3.eth.get_transaction_receipt(tx.tx_hash)
        by_address: dict[str, str] = {}
        if self._deployment is not None:
            d = self._deployment
            by_address = {d.commune.address: "Commune", d.treasury.address: "Treasury",
                          d.stock.address: "CommonStock", d.token.address: "TestStablecoin"}
        codec = self.chain.w3.codec
        out = []
        for log in receipt["logs"]:
            if not log["topics"]:
                continue
            contract = by_address.get(to_checksum_address(log["address"]), "BondSeries")
            abi = _events_of(self.artifacts, contract).get(bytes(log["topics"][0]))
            if abi is None:
                continue
            try:
                data = get_event_data(codec, abi, log)
            except Exception:  # same topic, other indexing (an ERC-721 Transfer read as ERC-20): skip
                continue
            shown = "Token" if contract == "TestStablecoin" else contract
            out.append((shown, data["event"], {k: _plain(v) for k, v in data["args"].items()}))
        return out

    def finish(self, result: dict[str, Any]) -> None:
        """Print the JSON last line when asked (with every transaction sent)."""
        if self.as_json:
            from vcengine.cli import emit_json

            emit_json({"ok": True, "network": self.network.name, **result, "transactions": self.txs})


def _console() -> Console:
    """stdout for people; not a terminal (a pipe, a test) gets wide lines so tables are not cut."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = max(console.width, 200)
    return console


_EVENT_CACHE: dict[tuple[str, str], dict[bytes, dict[str, Any]]] = {}


def _events_of(artifacts: CompileResult, contract: str) -> dict[bytes, dict[str, Any]]:
    key = (artifacts.key, contract)
    if key not in _EVENT_CACHE:
        _EVENT_CACHE[key] = {event_abi_to_log_topic(item): item for item in artifacts[contract].abi
                             if item.get("type") == "event"}
    return _EVENT_CACHE[key]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def read_password(password_file: Path | None, prompt: str, confirm: bool = False) -> str:
    """From ``--password-file`` (its first line), else ``VC_PASSWORD``, else a hidden prompt on the
    terminal. Never echoed. An empty password from any of them is refused (InputError), and so is
    asking without a terminal: a script must say where the password comes from.
    """
    import sys

    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read password file {password_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise InputError(f"password file {password_file} is not UTF-8 text") from None
        password = text.splitlines()[0] if text else ""
        if not password:
            raise InputError(f"password file {password_file} is empty (its first line is the password): "
                             "an empty password is refused")
        return password
    if "VC_PASSWORD" in os.environ:
        if not os.environ["VC_PASSWORD"]:
            raise InputError("VC_PASSWORD is set but empty: an empty password is refused "
                             "(unset it to be asked, or give --password-file)")
        return os.environ["VC_PASSWORD"]
    if not sys.stdin.isatty():
        raise InputError(f"{prompt}: there is no terminal to ask on; set VC_PASSWORD or --password-file")
    password = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, default="", show_default=False,
                            err=True)
    if not password:
        raise InputError("the password must not be empty")
    return password


def check_address(value: str, what: str) -> str:
    if not is_address(value):
        raise InputError(f"{what} must be a 20-byte hex address such as 0x00000000000000000000000000000000000000a1, "
                         f"got {value!r}")
    if value != value.lower() and value[2:] != value[2:].upper() and to_checksum_address(value) != value:
        raise InputError(f"{what} {value!r} has a wrong checksum (mixed case that is not EIP-55): check for a typo")
    return to_checksum_address(value)


def check_amount(text: str, decimals: int, what: str, positive: bool = True) -> int:
    """Token units (``12.5``) to base units. Refused, naming ``what`` and the accepted format: a
    negative amount, zero (when ``positive``: "must be more than zero"), anything but plain decimal
    notation (``NaN``, ``inf``, ``1e3``, ``1_000``) and more decimals than the token has."""
    return parse_amount(text, decimals, what, positive=positive)


def check_id(value: int, what: str, minimum: int = 1) -> int:
    """A whole-number argument (an id, a count): ``minimum`` (1 or 0) or more, else InputError."""
    if value < minimum:
        raise InputError(f"{what} must be {'zero' if minimum == 0 else minimum} or more, got {value}")
    return value


_DURATION = re.compile(r"(-?)([0-9]+)\s*([smhdw]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, what: str) -> int:
    """``90``, ``90s``, ``15m``, ``12h``, ``3d``, ``2w`` to seconds (zero or more)."""
    match = _DURATION.fullmatch(str(text).strip().lower())
    if not match:
        raise InputError(f"{what} must be a duration such as 3600, 90s, 15m, 12h, 3d or 2w "
                         f"(whole digits and one unit), got {text!r}")
    seconds = int(match.group(2)) * _SECONDS[match.group(3)]
    if match.group(1) and seconds:
        raise InputError(f"{what} must be zero or more, got {text!r}")
    return seconds


def show_rate(bps: int | None) -> str:
    if bps is None:
        return "-"
    return f"{Decimal(bps) / 100:.2f}% ({bps} bps)"
