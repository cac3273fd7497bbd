"""Named networks: ``tester`` (embedded, in this process), ``local`` (the node of ``vc node start``)
and any other name with a JSON-RPC URL and chain id, read from a small TOML file.

Configuration files, later ones overriding earlier ones name by name:

1. ``$XDG_CONFIG_HOME/vc/config.toml`` (``~/.config/vc/config.toml`` by default)
2. ``vc.toml`` in the working directory

Each holds tables such as::

    [networks.sepolia]
    url = "https://sepolia.example.org/v3/KEY"
    chain_id = 11155111

Example::

    >>> net = get_network("local")
    >>> net.url, net.chain_id
    ('http://127.0.0.1:8545', 31337)
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from vcengine.chains import Chain, ChainError, LazyMnemonicAccounts, RpcChain, TesterChain
from vcengine.client import InputError

#: anvil's chain id, used by ``local`` unless configured otherwise.
LOCAL_CHAIN_ID = 31337
LOCAL_DEFAULT_PORT = 8545


@dataclass(frozen=True)
class Network:
    """One named network: how to reach it and what chain id it must report."""

    name: str
    #: ``tester`` (embedded), ``local`` (a local anvil with unlocked test accounts) or ``rpc``.
    kind: str
    url: str | None = None
    chain_id: int | None = None
    #: Where the definition came from (for messages).
    source: str = "built in"
    #: Blocks per ``eth_getLogs`` request (``log_chunk = N`` in the network's table; for public
    #: endpoints that cap log ranges). None: vcengine.logs' default.
    log_chunk: int | None = None

    @property
    def has_test_accounts(self) -> bool:
        """Local networks sign with their well-known test keys when given an account index."""
        return self.kind in ("tester", "local")


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/vc`` (``~/.config/vc`` when unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vc"


def state_dir() -> Path:
    """Where ``vc node`` keeps the local node's pid, port, log and state (``VC_STATE_DIR`` or ``./.vc``)."""
    return Path(os.environ.get("VC_STATE_DIR") or Path.cwd() / ".vc")


def node_info() -> dict | None:
    """The running local node's record written by ``vc node start`` (None if there is none)."""
    path = state_dir() / "node.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def config_files() -> list[Path]:
    return [config_dir() / "config.toml", Path.cwd() / "vc.toml"]


def load_networks() -> dict[str, Network]:
    """Every known network: the built-ins, then the user's config, then ``./vc.toml``."""
    info = node_info()
    local_url = info["url"] if info else f"http://127.0.0.1:{LOCAL_DEFAULT_PORT}"
    networks = {
        "tester": Network("tester", "tester"),
        "local": Network("local", "local", local_url, LOCAL_CHAIN_ID,
                         "vc node start" if info else "built in"),
    }
    for path in config_files():
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"cannot read network configuration {path}: {exc}") from None
        for name, table in (data.get("networks") or {}).items():
            networks[name] = _network_from(name, table, path)
    return networks


def _network_from(name: str, table: object, path: Path) -> Network:
    if not isinstance(table, dict):
        raise InputError(f"{path}: [networks.{name}] must be a table with url and chain_id")
    if name == "tester":
        raise InputError(f"{path}: the network name 'tester' is reserved for the embedded chain")
    url, chain_id = table.get("url"), table.get("chain_id")
    if not isinstance(url, str) or "://" not in url:
        raise InputError(f"{path}: [networks.{name}] needs url = \"http://...\" (the node's JSON-RPC URL)")
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise InputError(f"{path}: [networks.{name}] needs chain_id = <a positive whole number>")
    log_chunk = table.get("log_chunk")
    if log_chunk is not None and (isinstance(log_chunk, bool) or not isinstance(log_chunk, int) or log_chunk < 1):
        raise InputError(f"{path}: [networks.{name}] log_chunk must be a whole number of blocks, 1 or more, "
                         f"got {log_chunk!r}")
    return Network(name, "local" if name == "local" else "rpc", url, chain_id, str(path), log_chunk)


def get_network(name: str) -> Network:
    """The network called ``name``, or InputError naming the known ones."""
    networks = load_networks()
    if name not in networks:
        known = ", ".join(sorted(networks))
        raise InputError(f"unknown network {name!r}: known networks are {known} "
                         f"(add others as [networks.NAME] url=..., chain_id=... in vc.toml or {config_dir() / 'config.toml'})")
    return networks[name]


class LocalNodeChain(RpcChain):
    """A local anvil node reached by URL (``vc node start``): anvil's test accounts and time controls."""

    def __init__(self, url: str, name: str = "local"):
        super().__init__(url, name=name)
        self.accounts = LazyMnemonicAccounts()  # type: ignore[assignment]

    def advance_time(self, seconds: int) -> int:
        self.w3.provider.make_request("evm_increaseTime", [max(1, seconds)])
        self.w3.provider.make_request("evm_mine", [])
        return self.now()

    def add_balance(self, address: str, wei: int) -> int:
        """Give ``address`` ``wei`` more test ETH (``anvil_setBalance``: no transaction, no block);
        returns its new balance."""
        balance = self.w3.eth.get_balance(address) + wei
        answer = self.w3.provider.make_request("anvil_setBalance", [address, hex(balance)])
        if "error" in answer:
            raise ChainError(f"the node refused anvil_setBalance: {answer['error'].get('message', answer['error'])}; "
                             f"is network {self.name!r} an anvil node?")
        return self.w3.eth.get_balance(address)


_TESTER: TesterChain | None = None


def tester_chain() -> TesterChain:
    """The embedded chain of this process, shared by every command run in it (never persisted)."""
    global _TESTER
    if _TESTER is None:
        _TESTER = TesterChain()
    return _TESTER


def reset_tester() -> None:
    """Forget the embedded chain (tests start from a fresh one)."""
    global _TESTER
    _TESTER = None


def open_chain(net: Network) -> Chain:
    """Connect to ``net`` and check that the node reports the configured chain id."""
    if net.kind == "tester":
        return tester_chain()
    assert net.url is not None
    try:
        chain: Chain = LocalNodeChain(net.url, net.name) if net.kind == "local" else RpcChain(net.url, name=net.name)
    except ChainError as exc:
        hint = " Is the node running? Start one with `vc node start`." if net.kind == "local" else ""
        raise ChainError(f"network {net.name!r}: {exc}.{hint}") from None
    if net.chain_id is not None and chain.chain_id != net.chain_id:
        raise InputError(f"network {net.name!r} ({net.url}) reports chain id {chain.chain_id}, "
                         f"but {net.source} configures {net.chain_id}: check the URL or the configuration")
    return chain
