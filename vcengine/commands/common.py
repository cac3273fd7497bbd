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
from rich.markup import escape
from web3._utils.events import get_event_data

from vcengine.chains import Chain
from vcengine.client import InputError, TxResult
from vcengine.compiler import CompileResult, load_artifacts
from vcengine.display import Display
from vcengine.networks import Network, get_network, open_chain
from vcengine.units import format_amount, parse_amount

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
        raise InputError(f"not confirmed: {question} Pass --yes to confirm (there is no terminal to ask); "
                         "nothing was sent")
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
    #: Transactions sent and not yet mined (named on Ctrl-C).
    pending: list[dict[str, Any]] = field(default_factory=list)
    #: How each paying call was simulated before anything was sent (vcengine.preflight).
    simulations: list[dict[str, Any]] = field(default_factory=list)
    _status: Any = None
    _waited_since_note: float = 0.0
    _cost_confirmed: bool = False

    @classmethod
    def start(cls, network_name: str, as_json: bool, commune_address: str | None = None) -> Session:
        network = get_network(network_name)  # unknown network: exit 2 before anything else
        if commune_address is not None:
            check_address(commune_address, "--commune")
        global CURRENT
        CURRENT = cls(network, as_json, _commune_address=commune_address)
        return CURRENT

    @property
    def artifacts(self) -> CompileResult:
        if self._artifacts is None:
            self._artifacts = load_artifacts()
        return self._artifacts

    @property
    def chain(self) -> Chain:
        if self._chain is None:
            self._chain = self.watch(open_chain(self.network))
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
            shown = {"TestStablecoin": f"token {d.symbol}"}
            d.add_names({address: shown.get(abi, abi) for address, abi in self.contract_abis().items()},
                        overwrite=True)
        if self._chain is not None:
            d.clock = self._chain.now
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
    #
    # The session is the chain's observer: every transaction the command sends goes through
    # vcengine.client._send, which tells it the moment the transaction is sent (its hash is printed
    # then), while it waits (a progress indicator) and when it is mined (block, gas, decoded events;
    # kept in order for --json). Nothing a command sends can be left out of its output.

    def watch(self, chain: Chain) -> Chain:
        chain.observer = self
        return chain

    def before_send(self, contract: str, function: str, cost_wei: int) -> None:
        """Costly transactions on a network that is not local need a confirmation (once per command)."""
        if self.network.has_test_accounts or self._cost_confirmed:
            return
        threshold = confirm_threshold_wei()
        if cost_wei <= threshold:
            return
        from vcengine.display import ether

        try:
            confirm(f"{_label(contract, function)} on network {self.network.name!r} may cost up to "
                    f"{ether(cost_wei)} in gas (above the {ether(threshold)} of VC_CONFIRM_ABOVE_ETH). Send?")
        except InputError as exc:
            if self.txs:  # an earlier transaction of this command was sent: say so, not "nothing was sent"
                sent = ", ".join(f"{t['action']} {t['hash']}" for t in self.txs)
                raise InputError(str(exc).replace("nothing was sent", f"nothing more was sent (already sent: {sent})"))
            raise
        self._cost_confirmed = True

    def simulated(self, contract: str, function: str, mode: str) -> None:
        """A paying call was simulated with its approval before either was sent (--json ``simulations``)."""
        self.simulations.append({"call": f"{contract}.{function}", "mode": mode})

    def maybe_sent(self, contract: str, function: str, tx_hash: str) -> None:
        """The send was cut short (Ctrl-C, a timeout): the node may have the transaction."""
        self.pending.append({"action": _label(contract, function), "hash": tx_hash, "maybe": True})

    def sent(self, contract: str, function: str, tx_hash: str) -> None:
        label = _label(contract, function)
        self.pending.append({"action": label, "hash": tx_hash})
        self.say(f"[bold]{label}[/]: sent {tx_hash}")
        self._waited_since_note = 0.0
        self.console.file.flush()  # a pipe (tee, a log) sees the hash now, not when the buffer fills

    def waiting(self, tx_hash: str, waited: float) -> None:
        """Called while a receipt is awaited: a spinner on a terminal, a plain line every 5 s otherwise."""
        if self.console.is_terminal and not self.as_json:
            if self._status is None:
                self._status = self.console.status(f"waiting for {tx_hash} to be mined")
                self._status.start()
            self._status.update(f"waiting for {tx_hash} to be mined ({waited:.0f} s)")
        elif waited - self._waited_since_note >= 5:
            self._waited_since_note = waited
            self.say(f"  waiting for it to be mined ({waited:.0f} s)")
            self.console.file.flush()

    def mined(self, contract: str, function: str, receipt: Any) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        events = self.record_mined(contract, function, receipt)
        display = self.display
        status = "mined" if receipt["status"] == 1 else "mined and REVERTED"
        self.say(f"  {status} in block {receipt['blockNumber']:,}, gas used {receipt['gasUsed']:,}")
        for contract_name, name, args, types in events:
            self.say(f"  [cyan]{contract_name}.{name}[/]({escape(display.args(name, args, types))})")

    def record_mined(self, contract: str, function: str, receipt: Any) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
        """Keep a mined transaction for --json (in order, with its decoded events); returns the events."""
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        self.pending = [p for p in self.pending if p["hash"] != tx_hash]
        events = self.decode_events(receipt)
        display = self.display
        self.txs.append({"action": _label(contract, function), "hash": tx_hash, "gas_used": receipt["gasUsed"],
                         "block": receipt["blockNumber"], "status": "ok" if receipt["status"] == 1 else "reverted",
                         "events": [{"contract": c, "name": n, "args": display.json_args(n, a, t)}
                                    for c, n, a, t in events]})
        return events

    def report_tx(self, label: str, tx: TxResult | None) -> None:
        """Name a transaction the session has already shown (its --json ``action``)."""
        if tx is None:
            return
        for entry in self.txs:
            if entry["hash"] == tx.tx_hash:
                entry["action"] = label

    def interrupted(self) -> dict[str, Any]:
        """What was sent and is still pending, and what was mined, when the command is interrupted."""
        if self._status is not None:
            self._status.stop()
            self._status = None
        return {"pending": list(self.pending), "transactions": list(self.txs)}

    def decode_events(self, receipt: Any) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
        """Every log of the receipt decoded by the ABI of the contract that emitted it:
        (contract, event, args, the args' internal types)."""
        return [(c, e, a, t) for c, _, e, a, t in decode_logs(self.artifacts, self.chain.w3.codec, receipt,
                                                              self.contract_abis())]

    def contract_abis(self) -> dict[str, str]:
        """Address (lower case) -> the compiled contract whose ABI describes it, for the commune's
        contracts once the deployment is open ({} before)."""
        d = self._deployment
        if d is None:
            return {}
        return {d.commune.address.lower(): "Commune", d.treasury.address.lower(): "Treasury",
                d.stock.address.lower(): "CommonStock", d.token.address.lower(): "TestStablecoin"}

    def finish(self, result: dict[str, Any]) -> None:
        """Print the JSON last line when asked (with every transaction sent)."""
        if self.as_json:
            from vcengine.cli import emit_json

            extra = {"simulations": self.simulations} if self.simulations else {}
            emit_json({"ok": True, "network": self.network.name, **result, **extra, "transactions": self.txs})


#: The session of the command running in this process (handle_errors reports its pending
#: transactions when the command is interrupted).
CURRENT: Session | None = None

#: Default of VC_CONFIRM_ABOVE_ETH: on a network that is not local, a command that may cost more
#: gas than this asks for a confirmation (or --yes).
CONFIRM_ABOVE_ETH = "0.01"


def confirm_threshold_wei() -> int:
    text = os.environ.get("VC_CONFIRM_ABOVE_ETH") or CONFIRM_ABOVE_ETH
    return parse_amount(text, 18, "VC_CONFIRM_ABOVE_ETH")


#: How each contract function is named in the output and in --json ``action`` (kept stable).
ACTIONS = {
    "approve": "approve", "attest": "attest", "bid": "bid", "claimPayout": "claim payout", "claim": "claim",
    "createCommune": "create commune", "faucet": "faucet", "join": "join", "leave": "leave",
    "bidLiquidation": "liquidation bid", "payRent": "pay rent", "release": "release income",
    "bidRent": "rental bid", "requestAsset": "request asset", "settleLiquidation": "settle liquidation",
    "settle": "settle", "submitLabour": "submit labour", "withdrawPayments": "withdraw bond payments",
    "withdraw": "withdraw", "returnAsset": "return", "reclaim": "reclaim", "settleRental": "settle rental",
    "depositIncome": "deposit income", "sweep": "sweep", "transfer": "transfer",
}

#: Contracts whose ABIs are tried, in order, after the emitter's own (for an address the deployment does not name).
KNOWN_ABIS = ("BondSeries", "CommuneFactory", "Commune", "Treasury", "CommonStock", "TestStablecoin")


def abi_order(abis: dict[str, str], address: str | None) -> list[str]:
    """The compiled contracts to decode a call or log of ``address`` by: its own first (``abis``:
    lower-case address -> contract), then every other known one."""
    known = abis.get(str(address).lower()) if address else None
    return ([known] if known else []) + [n for n in KNOWN_ABIS if n != known]


def decode_logs(artifacts: CompileResult, codec: Any, receipt: Any,
                abis: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any], dict[str, str]]]:
    """(contract, address, event, args, the args' internal types) of each log of ``receipt`` that
    an ABI decodes, by the emitter's ABI first (``abis``), then every known one."""
    out = []
    for log in receipt["logs"] if receipt is not None else []:
        if not log["topics"]:
            continue
        for contract in abi_order(abis, log["address"]):
            abi = _events_of(artifacts, contract).get(bytes(log["topics"][0]))
            if abi is None:
                continue
            try:
                data = get_event_data(codec, abi, log)
            except Exception:  # same topic, other indexing (an ERC-721 Transfer read as ERC-20): next
                continue
            shown = "Token" if contract == "TestStablecoin" else contract
            types = {i["name"]: i.get("internalType", i["type"]) for i in abi["inputs"]}
            out.append((shown, to_checksum_address(log["address"]), data["event"], dict(data["args"]), types))
            break
    return out


def _label(contract: str, function: str) -> str:
    if function == "constructor":
        return f"deploy {contract}"
    if function in ACTIONS:
        return ACTIONS[function]
    return f"{contract}.{function}"


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
