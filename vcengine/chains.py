"""Chains the engine runs on: the embedded eth-tester chain, a local anvil node, or any JSON-RPC URL.

Every chain gives the same thing: a connected ``Web3`` and a list of local signing accounts.
Transactions are always signed locally and sent raw, so deployment and client code is the same
on all three.

Example::

    >>> from vcengine.chains import connect
    >>> with connect("tester") as chain:
    ...     chain.w3.eth.chain_id
    131277322940537
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from vcengine.paths import NODE_MODULES

#: The mnemonic of anvil's well-known development accounts (never use it on a public chain).
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
#: Funded accounts created on local chains.
LOCAL_ACCOUNTS = 20
#: The addresses of the first 20 accounts of ANVIL_MNEMONIC (deriving them costs about 35 ms each;
#: naming an address in the output should not). tests/test_display.py derives them again.
ANVIL_ADDRESSES = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
    "0xBcd4042DE499D14e55001CcbB24a551F3b954096", "0x71bE63f3384f5fb98995898A86B02Fb2426c5788",
    "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a", "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec",
    "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097", "0xcd3B766CCDd6AE721141F452C550Ca635964ce71",
    "0x2546BcD3c84621e976D8185a91A922aE77ECEc30", "0xbDA5747bFD65F08deb54cb465eB87D40e51B197E",
    "0xdD2FD4581271e230360230F9337D5c0430Bf44C0", "0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199",
)


class ChainError(Exception):
    """A chain could not be started or reached; the message says what to check."""


@dataclass
class Chain:
    """A connected chain and the accounts this process can sign for."""

    name: str
    w3: Web3
    accounts: list[LocalAccount] = field(default_factory=list)
    _nonces: dict[str, int] = field(default_factory=dict, repr=False)
    _chain_id: int | None = field(default=None, repr=False)
    #: Extra fields for eth_call (the embedded chain is much faster with ``from`` and ``gas`` given).
    call_defaults: dict[str, Any] = field(default_factory=dict)
    #: Told of every transaction sent, waited for and mined (the command line's session); None: silent.
    observer: Any = field(default=None, repr=False)
    #: How a call that needs an allowance first is simulated before anything is sent:
    #: ``snapshot`` (approve and call for real between a snapshot and its revert: only on a chain
    #: this process alone uses), ``override`` (eth_call/eth_estimateGas with the allowance slot
    #: overridden) or ``views`` (the call's preconditions read through view calls).
    #: ``VC_SIMULATION`` overrides it.
    default_simulation: str = field(default="override", repr=False)

    @property
    def simulation(self) -> str:
        chosen = os.environ.get("VC_SIMULATION") or self.default_simulation
        if chosen not in ("snapshot", "override", "views"):
            raise ChainError(f"VC_SIMULATION must be snapshot, override or views, got {chosen!r}")
        if chosen == "snapshot" and type(self).snapshot is Chain.snapshot:
            return "override"
        return chosen

    @contextmanager
    def muted(self) -> Iterator[None]:
        """No observer inside (transactions of a simulation that is reverted are not the command's)."""
        observer, self.observer = self.observer, None
        try:
            yield
        finally:
            self.observer = observer

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        return self._chain_id

    @property
    def is_local(self) -> bool:
        """True for chains whose accounts are disposable test accounts (tester, anvil, the local node)."""
        return self.name in ("tester", "anvil", "local")

    def next_nonce(self, address: str) -> int:
        """The nonce for the next transaction of ``address``, tracked locally after the first look-up."""
        if address not in self._nonces:
            self._nonces[address] = self.w3.eth.get_transaction_count(address, "pending")
        nonce = self._nonces[address]
        self._nonces[address] = nonce + 1
        return nonce

    def forget_nonce(self, address: str) -> None:
        """Drop the cached nonce of ``address`` (after a send failed before reaching the chain)."""
        self._nonces.pop(address, None)

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance_time(self, seconds: int) -> int:
        """Move the chain's clock forward by ``seconds`` and mine a block (local chains only).

        Returns the new latest block timestamp.
        """
        raise ChainError(f"chain {self.name!r} has no time controls: only local chains can move time")

    def snapshot(self) -> Any:
        """Snapshot the chain state (local chains only)."""
        raise ChainError(f"chain {self.name!r} does not support snapshots")

    def revert(self, snapshot_id: Any) -> None:
        """Return to a snapshot taken by :meth:`snapshot` (local chains only)."""
        raise ChainError(f"chain {self.name!r} does not support snapshots")

    def call_with_overrides(self, tx: dict[str, Any], overrides: dict[str, Any]) -> bytes:
        """``eth_call`` of ``tx`` on the latest block with a state override set; returns the output.

        ``overrides`` is geth's third ``eth_call`` parameter: ``{address: {"code": "0x...",
        "stateDiff": {slot: value}}}`` with slots and values as 32-byte hex strings. The overrides
        exist for this call only; nothing is sent. A revert raises as :meth:`Web3.eth.call` does (the
        data is read by :func:`vcengine.client.revert_data`); a node that rejects the parameter raises
        its RPC error, and one that ignores it runs the call on the real state.
        """
        return bytes(self.w3.eth.call({**self.call_defaults, **tx}, "latest", overrides, ccip_read_enabled=False))

    def estimate_with_overrides(self, tx: dict[str, Any], overrides: dict[str, Any]) -> int:
        """``eth_estimateGas`` of ``tx`` under the state ``overrides`` (see :meth:`call_with_overrides`)."""
        return int(self.w3.eth.estimate_gas(tx, "latest", overrides))

    def close(self) -> None:
        """Release the chain (stops a node this process started)."""

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _raw_revert_backend() -> type:
    """A py-evm backend whose reverts carry the exact revert data as a ``0x`` hex string.

    eth-tester and web3's tester provider try to read any revert data as an ``Error(string)``
    reason, which garbles custom errors whose first argument is a string. This backend hands
    web3 the raw data in hex, which it passes through untouched, so errors decode by the ABI.
    """
    import ast

    from eth_abi import encode
    from eth_tester import PyEVMBackend
    from eth_tester.exceptions import TransactionFailed

    def raw(exc: TransactionFailed) -> str:
        arg = exc.args[0] if exc.args else b""
        if isinstance(arg, Exception):
            arg = arg.args[0] if arg.args else b""
        if isinstance(arg, str) and arg.startswith(("b'", 'b"')):
            arg = ast.literal_eval(arg)
        if isinstance(arg, str):  # already decoded as an Error(string) reason: encode it back exactly
            arg = bytes.fromhex("08c379a0") + encode(["string"], [arg])
        return "0x" + bytes(arg).hex()

    class RawRevertBackend(PyEVMBackend):
        def call(self, transaction, block_number="latest"):  # type: ignore[no-untyped-def]
            try:
                return super().call(transaction, block_number)
            except TransactionFailed as exc:
                raise TransactionFailed(raw(exc)) from None

        def estimate_gas(self, transaction, block_number="latest"):  # type: ignore[no-untyped-def]
            try:
                return super().estimate_gas(transaction, block_number)
            except TransactionFailed as exc:
                raise TransactionFailed(raw(exc)) from None

    return RawRevertBackend


def _one_shot_gas_estimator(state: Any, transaction: Any) -> int:
    """Gas estimate from a single run at the block gas limit (py-evm's default bisects, ~20 runs).

    The estimate is the gas the run consumed before refunds plus the intrinsic gas, with 1/63
    added for the gas each call must leave behind (EIP-150), so the transaction cannot run out.
    As on geth and anvil, the estimate does not depend on the sender's ETH: within the run's
    snapshot the sender is given enough to pay for it (whether it can pay is the client's check).
    """
    from eth.vm.spoof import SpoofTransaction

    spoof = SpoofTransaction(transaction, gas=state.gas_limit, gas_price=0)
    snapshot = state.snapshot()
    try:
        needed = state.gas_limit * state.get_gas_price(spoof) + transaction.value
        if state.get_balance(transaction.sender) < needed:
            state.set_balance(transaction.sender, needed)
        computation = state.apply_transaction(spoof)
        if computation.is_error:
            raise computation.error
        used = computation.get_gas_used()
    finally:
        state.revert(snapshot)
    return min(state.gas_limit, transaction.intrinsic_gas + used + used // 63 + 2_300)


class TesterChain(Chain):
    """eth-tester with the py-evm backend, in this process. Fast to start, state lost on exit."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, accounts: int = LOCAL_ACCOUNTS, gas_limit: int | None = None):
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider

        backend_cls = _raw_revert_backend()
        genesis_parameters = None
        if gas_limit is not None:  # larger blocks, for benchmarks that build big populations
            genesis_parameters = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": gas_limit})
        backend = backend_cls(genesis_parameters=genesis_parameters,
                              genesis_state=PyEVMBackend.generate_genesis_state(num_accounts=accounts))
        backend.chain.gas_estimator = staticmethod(_one_shot_gas_estimator)
        self.tester = EthereumTester(backend)
        w3 = Web3(EthereumTesterProvider(self.tester))
        keys = [Account.from_key(k.to_bytes()) for k in backend.account_keys]
        super().__init__("tester", w3, keys)
        self.call_defaults = {"from": keys[0].address, "gas": 30_000_000}
        self.default_simulation = "snapshot"  # this process alone uses the embedded chain

    def advance_time(self, seconds: int) -> int:
        # time_travel(t) leaves the latest block at t - 1 (the next one is mined at t).
        self.tester.time_travel(self.now() + max(1, seconds) + 1)
        return self.now()

    def snapshot(self) -> int:
        return self.tester.take_snapshot()

    def revert(self, snapshot_id: Any) -> None:
        self.tester.revert_to_snapshot(snapshot_id)
        self._nonces.clear()

    def call_with_overrides(self, tx: dict[str, Any], overrides: dict[str, Any]) -> bytes:
        """The same on the embedded chain: eth-tester has no state overrides, so the call runs in a
        py-evm state of the latest block into which the code and storage are written, between a
        snapshot and its revert. That state is never persisted; the chain keeps no trace."""
        return bytes(self._apply_with_overrides(tx, overrides)[0].output)

    def estimate_with_overrides(self, tx: dict[str, Any], overrides: dict[str, Any]) -> int:
        """Gas of ``tx`` under ``overrides``, estimated as the embedded chain estimates (one run at
        the block gas limit, plus the intrinsic gas and the 1/63 each call keeps back)."""
        computation, intrinsic = self._apply_with_overrides({**tx, "gas": 30_000_000}, overrides)
        used = computation.get_gas_used()
        return intrinsic + used + used // 63 + 2_300

    def _apply_with_overrides(self, tx: dict[str, Any], overrides: dict[str, Any]) -> tuple[Any, int]:
        from eth.exceptions import Revert
        from eth.vm.spoof import SpoofTransaction
        from eth_tester.backends.pyevm.main import _get_vm_for_block_number
        from eth_tester.exceptions import TransactionFailed
        from eth_utils import to_canonical_address

        def word(value: Any) -> int:
            return int(value, 16) if isinstance(value, str) else int(value)

        call = {**self.call_defaults, **tx}
        inbound = {k: call[k] for k in ("from", "to", "gas", "value", "data") if k in call}
        self.tester.validator.validate_inbound_transaction(inbound, txn_internal_type="call")
        raw = self.tester.normalizer.normalize_inbound_transaction(inbound)
        backend = self.tester.backend
        unsigned = backend._get_normalized_and_unsigned_evm_transaction(raw, "latest")
        spoof = SpoofTransaction(unsigned, from_=raw["from"])
        state = _get_vm_for_block_number(backend.chain, "latest").state
        snapshot = state.snapshot()
        try:
            for address, override in overrides.items():
                unknown = set(override) - {"code", "stateDiff"}
                if unknown:
                    raise ChainError(f"the embedded chain's state overrides take code and stateDiff, not {sorted(unknown)}")
                account = to_canonical_address(address)
                if "code" in override:
                    code = override["code"]
                    state.set_code(account, bytes.fromhex(code.removeprefix("0x")) if isinstance(code, str) else bytes(code))
                for slot, value in override.get("stateDiff", {}).items():
                    state.set_storage(account, word(slot), word(value))
            computation = state.apply_transaction(spoof)
        finally:
            state.revert(snapshot)
        if computation.is_error:
            error = computation.error
            if isinstance(error, Revert):  # reported as the raw-revert backend reports reverts
                data = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
                raise TransactionFailed("0x" + data.hex())
            raise TransactionFailed(f"{type(error).__name__}: {error}")
        return computation, unsigned.intrinsic_gas


def anvil_binary() -> Path:
    """The platform binary inside the npm package (not the Node wrapper, which always exits 0)."""
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system(), "")
    machine = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "")
    exe = "anvil.exe" if system == "win32" else "anvil"
    path = NODE_MODULES / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / exe
    if not path.is_file():
        raise ChainError(
            f"anvil binary not found at {path}: run `npm ci` in the project root "
            f"(it installs @foundry-rs/anvil for {platform.system()} {platform.machine()})."
        )
    return path


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_accounts(n: int = LOCAL_ACCOUNTS, mnemonic: str = ANVIL_MNEMONIC) -> list[LocalAccount]:
    """The first ``n`` accounts of ``mnemonic`` on the standard Ethereum derivation path."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)]


class LazyMnemonicAccounts(Sequence[LocalAccount]):
    """Like :func:`local_accounts`, but each key is derived when first used (a derivation costs
    about 35 ms; a command line that signs with one test account should not pay for twenty)."""

    def __init__(self, n: int = LOCAL_ACCOUNTS, mnemonic: str = ANVIL_MNEMONIC):
        self._n = n
        self._mnemonic = mnemonic
        self._seed: bytes | None = None
        self._cache: dict[int, LocalAccount] = {}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(f"test account index {index} out of range 0..{self._n - 1}")
        if index not in self._cache:
            from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

            if self._seed is None:
                self._seed = seed_from_mnemonic(self._mnemonic, "")
            self._cache[index] = Account.from_key(key_from_seed(self._seed, f"m/44'/60'/0'/0/{index}"))
        return self._cache[index]


class AnvilChain(Chain):
    """A local anvil node started from node_modules on a free loopback port, stopped on close.

    With ``state_file`` the node loads its state from that file at start (if it exists) and writes
    it back when stopped, so a commune survives a restart.
    """

    def __init__(
        self,
        state_file: Path | None = None,
        port: int | None = None,
        accounts: int = LOCAL_ACCOUNTS,
        block_time: float | None = None,
        startup_timeout: float = 20.0,
        hardfork: str | None = None,
        gas_limit: int | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_file = state_file
        args = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--accounts", str(accounts),
            "--mnemonic", ANVIL_MNEMONIC,
            "--silent",
        ]
        if state_file is not None:
            args += ["--state", str(state_file)]
        if block_time is not None:
            args += ["--block-time", str(block_time)]
        if hardfork is not None:  # e.g. "cancun", the contracts' evmVersion, for gas comparable with py-evm
            args += ["--hardfork", hardfork]
        if gas_limit is not None:  # larger blocks, for benchmarks that build big populations
            args += ["--gas-limit", str(gas_limit)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))
        deadline = time.monotonic() + startup_timeout
        while True:
            if self.process.poll() is not None:
                err = self.process.stderr.read() if self.process.stderr else ""
                raise ChainError(f"anvil exited with status {self.process.returncode} at start: {err.strip()}")
            try:
                if w3.is_connected():
                    break
            except Exception:  # not listening yet
                pass
            if time.monotonic() > deadline:
                self.close()
                raise ChainError(f"anvil did not answer on {self.url} within {startup_timeout:.0f} s")
            time.sleep(0.05)
        super().__init__("anvil", w3, local_accounts(accounts))
        self.default_simulation = "snapshot"  # a node this process started and alone uses

    def advance_time(self, seconds: int) -> int:
        self.w3.provider.make_request("evm_increaseTime", [max(1, seconds)])
        self.w3.provider.make_request("evm_mine", [])
        return self.now()

    def snapshot(self) -> str:
        return self.w3.provider.make_request("evm_snapshot", [])["result"]

    def revert(self, snapshot_id: Any) -> None:
        self.w3.provider.make_request("evm_revert", [snapshot_id])
        self._nonces.clear()

    def close(self) -> None:
        """Stop the node; SIGINT lets anvil write its state file before exiting."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


def connection_problem(exc: BaseException) -> str:
    """What went wrong reaching a node, in a few words (``connection refused``, ``the host name
    does not resolve``, ``no answer within 60 s``, ``HTTP 401 Unauthorized``), without the HTTP
    library's internals (pools, retries, object addresses)."""
    import requests

    chain: list[BaseException] = []  # the exception, what caused it, what caused that...
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or next((a for a in cause.args if isinstance(a, BaseException)), None) or (
            None if cause.__suppress_context__ else cause.__context__)
    for err in chain:
        if isinstance(err, requests.HTTPError) and err.response is not None:
            return f"the server answered HTTP {err.response.status_code} {err.response.reason or ''}".rstrip()
        if isinstance(err, requests.Timeout) or isinstance(err, (socket.timeout, TimeoutError)):
            return "no answer in time (timed out)"
        if isinstance(err, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(err, requests.exceptions.SSLError):
            return "the TLS handshake failed (check the URL's scheme and the server's certificate)"
        if isinstance(err, ConnectionRefusedError):
            return "connection refused"
        if isinstance(err, ConnectionResetError):
            return "the connection was reset"
        if isinstance(err, FileNotFoundError):
            return "no IPC socket at that path"
        if isinstance(err, ValueError):  # a JSON decoding error: something answered, but not a node
            return "the answer is not JSON-RPC (is this the node's RPC URL?)"
    errno = next((e.errno for e in reversed(chain) if isinstance(e, OSError) and e.errno), None)
    if errno is not None:
        return os.strerror(errno).lower()
    text = str(exc)
    return type(exc).__name__ if not text or "object at 0x" in text or "Pool(" in text else text


class RpcChain(Chain):
    """Any JSON-RPC endpoint, with the signing keys the caller provides."""

    def __init__(self, url: str, keys: list[str] | None = None, name: str = "rpc"):
        if url.startswith(("http://", "https://")):
            provider: Any = Web3.HTTPProvider(url, request_kwargs={"timeout": 60})
        elif url.startswith(("ws://", "wss://")):
            raise ChainError("websocket URLs are not supported; give the node's HTTP JSON-RPC URL")
        else:
            provider = Web3.IPCProvider(url)
        w3 = Web3(provider)
        try:
            w3.eth.chain_id
        except Exception as exc:
            raise ChainError(f"cannot reach a JSON-RPC node at {url}: {connection_problem(exc)}") from exc
        super().__init__(name, w3, [Account.from_key(k) for k in keys or []])


def connect(spec: str = "tester", **kwargs: Any) -> Chain:
    """Connect to ``spec``: ``tester`` (embedded), ``anvil`` (start a local node) or a JSON-RPC URL.

    For a URL, pass ``keys=[...]`` to sign with; keys may also come from ``VC_PRIVATE_KEY``.
    """
    if spec == "tester":
        return TesterChain(**kwargs)
    if spec == "anvil":
        return AnvilChain(**kwargs)
    if "://" in spec or spec.endswith(".ipc"):
        keys = kwargs.pop("keys", None)
        if keys is None and os.environ.get("VC_PRIVATE_KEY"):
            keys = [os.environ["VC_PRIVATE_KEY"]]
        return RpcChain(spec, keys=keys, **kwargs)
    raise ChainError(f"unknown chain {spec!r}: use 'tester', 'anvil' or a JSON-RPC URL such as http://127.0.0.1:8545")
