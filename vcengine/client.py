"""The shared base of the typed contract clients: calls, locally signed transactions, events, errors.

A transaction is first estimated against the current state. If it would revert, nothing is sent
and :class:`ContractReverted` names the custom error and its arguments, decoded from the ABI. If a
transaction is mined and reverts anyway (the state changed in between), the same exception is
raised with the transaction hash.

Example::

    >>> from vcengine.chains import connect
    >>> from vcengine.commune import CommuneClient
    >>> chain = connect("tester")
    >>> founder, worker = chain.accounts[:2]
    >>> commune = CommuneClient.deploy(chain, founder, founders=[founder.address])
    >>> commune.join(worker)
    Traceback (most recent call last):
    ...
    vcengine.client.ContractReverted: Commune.join reverted: LabourBelowThreshold(worker=0x2B5A..., counted=0, threshold=10)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence, TypeVar

from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import event_abi_to_log_topic, function_signature_to_4byte_selector, is_address, to_checksum_address
from web3.contract import Contract

from vcengine.chains import Chain
from vcengine.compiler import Artifact, CompileResult, load_artifacts

#: Gas margin added to estimates: a state change between estimate and inclusion may cost a little more.
GAS_MARGIN = 1.2

T = TypeVar("T", bound="ContractClient")


class InputError(ValueError):
    """Bad input caught before any transaction was sent; the message names the bad value."""


@dataclass(frozen=True)
class DecodedError:
    """A revert decoded from the ABI: ``name`` and ``args`` as in the Solidity source."""

    name: str
    args: dict[str, Any]

    def __str__(self) -> str:
        if self.name == "" and not self.args:
            return "empty revert (no error data: the call was refused without a reason, e.g. ETH sent to a contract that accepts none)"
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args.items())
        return f"{self.name}({shown})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class ContractReverted(Exception):
    """A call or transaction reverted; ``error.name`` is the custom error (``""`` for an empty revert)."""

    def __init__(self, contract: str, function: str, error: DecodedError, data: bytes, tx_hash: str | None = None):
        self.contract = contract
        self.function = function
        self.error = error
        self.data = data
        self.tx_hash = tx_hash
        where = f" in transaction {tx_hash}" if tx_hash else ""
        super().__init__(f"{contract}.{function} reverted{where}: {error}")

    @property
    def name(self) -> str:
        return self.error.name

    @property
    def args_dict(self) -> dict[str, Any]:
        return self.error.args


_BUILTIN_ERRORS = {
    function_signature_to_4byte_selector("Error(string)"): ("Error", [("reason", "string")]),
    function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", [("code", "uint256")]),
}


class ErrorDecoder:
    """Decodes revert data by selector, from the errors of every compiled contract's ABI."""

    def __init__(self, abis: Sequence[Sequence[Mapping[str, Any]]]):
        self._by_selector: dict[bytes, tuple[str, list[tuple[str, str]]]] = dict(_BUILTIN_ERRORS)
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = [_abi_type(i) for i in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                self._by_selector[selector] = (item["name"], [(i["name"], t) for i, t in zip(item["inputs"], types)])

    def decode(self, data: bytes) -> DecodedError:
        if not data:
            return DecodedError("", {})
        known = self._by_selector.get(data[:4])
        if known is None:
            return DecodedError(f"UnknownError[0x{data[:4].hex()}]", {"data": data})
        name, inputs = known
        values = abi_decode([t for _, t in inputs], data[4:])
        args = {}
        for (arg, typ), value in zip(inputs, values):
            args[arg] = to_checksum_address(value) if typ == "address" else value
        return DecodedError(name, args)


def _abi_type(param: Mapping[str, Any]) -> str:
    typ = param["type"]
    if typ.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + typ[len("tuple") :]
    return typ


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data carried by a web3 or eth-tester exception, or None if it is not a revert."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, dict) and isinstance(data.get("data"), str):
        return bytes.fromhex(data["data"][2:])
    message = str(exc.args[0]) if exc.args else ""
    if type(exc).__name__ == "TransactionFailed":  # eth-tester, through TesterChain's raw-revert backend
        raw = message.removeprefix("execution reverted: ")
        if raw.startswith("0x"):
            return bytes.fromhex(raw[2:])
        return None
    if "execution reverted" in message and data is None:
        return b""
    return None


@dataclass(frozen=True)
class Event:
    """A decoded log: the event's name, its arguments and the emitting contract."""

    name: str
    args: dict[str, Any]
    address: str
    log_index: int


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str
    gas_used: int
    block_number: int
    events: list[Event] = field(default_factory=list)

    def event(self, name: str) -> Event:
        """The first event named ``name``; raises LookupError naming the events that were emitted."""
        for ev in self.events:
            if ev.name == name:
                return ev
        raise LookupError(f"no {name} event in {self.tx_hash}; emitted: {[e.name for e in self.events]}")


def require_address(value: str, what: str) -> str:
    """``value`` as a checksum address, or InputError naming ``what``."""
    if not isinstance(value, str) or not is_address(value):
        raise InputError(f"{what} must be a 20-byte hex address such as 0x00000000000000000000000000000000000000a1, got {value!r}")
    return to_checksum_address(value)


def require_int(value: Any, what: str, minimum: int = 0, maximum: int = 2**256 - 1) -> int:
    """``value`` as an int within [minimum, maximum], or InputError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} must be a whole number, got {value!r}")
    if value < minimum or value > maximum:
        raise InputError(f"{what} must be between {minimum} and {maximum}, got {value}")
    return value


class ContractClient:
    """One deployed contract: typed clients subclass this and name their contract in ``CONTRACT``."""

    CONTRACT: ClassVar[str]
    #: The deployment transaction, when this client deployed the contract.
    deploy_receipt: TxResult | None = None

    def __init__(self, chain: Chain, address: str, artifacts: CompileResult | None = None):
        self.chain = chain
        self.artifacts = artifacts or load_artifacts()
        self.artifact: Artifact = self.artifacts[self.CONTRACT]
        self.address = require_address(address, f"{self.CONTRACT} address")
        self.contract: Contract = chain.w3.eth.contract(address=self.address, abi=self.artifact.abi)
        self.errors = ErrorDecoder([a.abi for a in self.artifacts.artifacts.values()])
        self._events = {
            event_abi_to_log_topic(item): item["name"] for item in self.artifact.abi if item.get("type") == "event"
        }

    # ------------------------------------------------------------------ deploy

    @classmethod
    def deploy(cls: type[T], chain: Chain, sender: LocalAccount, *args: Any, artifacts: CompileResult | None = None) -> T:
        """Deploy the contract with constructor ``args`` from ``sender``; returns a client for it."""
        artifacts = artifacts or load_artifacts()
        art = artifacts[cls.CONTRACT]
        factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        decoder = ErrorDecoder([a.abi for a in artifacts.artifacts.values()])
        receipt = _send(chain, factory.constructor(*args), sender, 0, decoder, cls.CONTRACT, "constructor")
        client = cls(chain, receipt["contractAddress"], artifacts)
        client.deploy_receipt = _result(receipt, client.decode_events(receipt))
        return client

    # ------------------------------------------------------------ calls and txs

    def call(self, function: str, *args: Any) -> Any:
        """Read ``function(*args)``; a revert raises ContractReverted."""
        try:
            return self.contract.functions[function](*args).call(dict(self.chain.call_defaults))
        except Exception as exc:
            data = revert_data(exc)
            if data is None:
                raise
            raise ContractReverted(self.CONTRACT, function, self.errors.decode(data), data) from None

    def transact(self, function: str, *args: Any, sender: LocalAccount, value: int = 0, gas: int | None = None) -> TxResult:
        """Sign and send ``function(*args)`` from ``sender``; returns the result with decoded events.

        With ``gas`` the estimate is skipped: the transaction is sent as is, and a revert is only
        seen once mined (useful for large batches on the slow embedded chain).
        """
        call: Any = self.contract.functions[function](*args)
        if value and call.abi.get("stateMutability") != "payable":
            # web3 refuses to build this; send it raw so that the chain, not the client, refuses it.
            call = {"to": self.address, "data": self.contract.encode_abi(function, args=list(args))}
        receipt = _send(self.chain, call, sender, value, self.errors, self.CONTRACT, function, gas)
        return _result(receipt, self.decode_events(receipt))

    def estimate(self, function: str, *args: Any, sender: str, value: int = 0,
                 overrides: dict[str, Any] | None = None) -> int:
        """Gas ``function(*args)`` would use from ``sender`` (optionally under eth_call state
        ``overrides``); a revert raises ContractReverted. Nothing is sent."""
        tx = {"from": sender, "to": self.address, "value": value,
              "data": self.contract.encode_abi(function, args=list(args))}
        try:
            if overrides:
                return self.chain.estimate_with_overrides(tx, overrides)
            return self.chain.w3.eth.estimate_gas(tx)
        except Exception as exc:
            data = revert_data(exc)
            if data is None:
                raise
            raise ContractReverted(self.CONTRACT, function, self.errors.decode(data), data) from None

    def send_value(self, sender: LocalAccount, value: int) -> TxResult:
        """Send plain ETH to the contract (refused by every commune contract)."""
        tx = {"to": self.address, "value": value}
        receipt = _send(self.chain, tx, sender, value, self.errors, self.CONTRACT, "<plain ETH transfer>")
        return _result(receipt, self.decode_events(receipt))

    def decode_events(self, receipt: Mapping[str, Any]) -> list[Event]:
        """This contract's events in ``receipt``, in log order."""
        events = []
        for log in receipt["logs"]:
            if log["address"] != self.address or not log["topics"]:
                continue
            name = self._events.get(bytes(log["topics"][0]))
            if name is None:
                continue
            decoded = self.contract.events[name]().process_log(log)
            events.append(Event(name, dict(decoded["args"]), log["address"], log["logIndex"]))
        return events


class InsufficientFunds(InputError):
    """The signer cannot pay for the gas (and value) of what a command would send; nothing was sent."""


#: Seconds a sent transaction may wait for its receipt (``VC_TX_TIMEOUT`` overrides).
RECEIPT_TIMEOUT = 300.0


def gas_price_ceiling(w3: Any) -> int:
    """The most a unit of gas may cost in the transactions this client builds (``maxFeePerGas``)."""
    return _fees(w3)["maxFeePerGas"]


def require_gas_funds(chain: Chain, sender: str, gas: Sequence[int], value: int = 0, what: str = "this command",
                      price: int | None = None) -> int:
    """Raise InsufficientFunds unless ``sender`` can pay ``sum(gas)`` at the fee ceiling plus ``value``.

    The node refuses a transaction whose ``gas × maxFeePerGas + value`` exceeds the balance; this
    is the same test made before anything is signed, for every transaction of a command at once.
    Returns the most the command may cost, in wei. ``price`` is the fee ceiling when already known.
    """
    price = gas_price_ceiling(chain.w3) if price is None else price
    cost = sum(gas) * price + value
    balance = chain.w3.eth.get_balance(sender)
    if balance < cost:
        raise InsufficientFunds(
            f"account {sender} holds {_ether(balance)} ETH, less than the {_ether(cost)} ETH {what} may cost "
            f"({sum(gas):,} gas at up to {price / 1e9:.3g} gwei" + (f", plus {_ether(value)} ETH sent" if value else "")
            + "): nothing was sent" + ("; fund it with `vc faucet --eth 1 --to ADDRESS`" if chain.is_local else ""))
    return cost


def _ether(wei: int) -> str:
    from vcengine.display import ether

    return ether(wei, "")


def _send(
    chain: Chain,
    call: Any,
    sender: LocalAccount,
    value: int,
    errors: ErrorDecoder,
    contract: str,
    function: str,
    gas: int | None = None,
) -> Mapping[str, Any]:
    """Estimate, check the signer's ETH, sign, send and wait. Raises ContractReverted before sending
    when the call would revert, and InsufficientFunds when the signer cannot pay the gas.

    The chain's observer (the command line's session) hears of the transaction the moment it is
    sent, waits with it for the receipt (a progress indicator), and hears when it is mined.
    """
    w3 = chain.w3
    params: dict[str, Any] = {"from": sender.address, "value": value, "chainId": chain.chain_id}
    if gas is None:
        try:
            estimate = call.estimate_gas(params) if not isinstance(call, dict) else w3.eth.estimate_gas({**call, **params})
        except Exception as exc:
            data = revert_data(exc)
            if data is None:
                raise
            raise ContractReverted(contract, function, errors.decode(data), data) from None
        gas = int(estimate * GAS_MARGIN) + 10_000
    params["gas"] = gas
    params.update(_fees(w3))
    require_gas_funds(chain, sender.address, [gas], value, f"{contract}.{function}", params["maxFeePerGas"])
    observer = chain.observer
    if observer is not None:
        observer.before_send(contract, function, gas * params["maxFeePerGas"] + value)
    params["nonce"] = chain.next_nonce(sender.address)
    tx = {**call, **params} if isinstance(call, dict) else call.build_transaction(params)
    signed = sender.sign_transaction(tx)
    tx_hash = "0x" + bytes(signed.hash).hex()  # known before it is sent: named even if the send is cut short
    try:
        w3.eth.send_raw_transaction(signed.raw_transaction)
    except BaseException as exc:
        chain.forget_nonce(sender.address)
        if observer is not None and (isinstance(exc, KeyboardInterrupt) or _maybe_delivered(exc)):
            observer.maybe_sent(contract, function, tx_hash)  # the node may have it: never "nothing sent"
        raise
    if observer is not None:
        observer.sent(contract, function, tx_hash)
    receipt = _wait(chain, tx_hash, observer)
    if observer is not None:
        observer.mined(contract, function, receipt)
    if receipt["status"] != 1:
        data = _replay_revert(w3, tx, receipt["blockNumber"])
        raise ContractReverted(contract, function, errors.decode(data), data, tx_hash)
    return receipt


def _maybe_delivered(exc: BaseException) -> bool:
    """Whether a failed ``eth_sendRawTransaction`` may still have reached the node (a timeout or a
    lost connection after the request left), as opposed to the node's answer refusing it."""
    import requests

    return isinstance(exc, (requests.Timeout, requests.ConnectionError, TimeoutError, ConnectionError))


def _wait(chain: Chain, tx_hash: str, observer: Any) -> Mapping[str, Any]:
    """Poll for the receipt of ``tx_hash`` (the observer shows the wait); ChainError after the timeout."""
    import os
    import time

    from web3.exceptions import TransactionNotFound

    from vcengine.chains import ChainError

    timeout = float(os.environ.get("VC_TX_TIMEOUT") or RECEIPT_TIMEOUT)
    started = time.monotonic()
    delay = 0.05
    while True:
        try:
            receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
            if receipt is not None:
                return receipt
        except TransactionNotFound:
            pass
        waited = time.monotonic() - started
        if waited > timeout:
            raise ChainError(f"transaction {tx_hash} was sent but not mined within {timeout:.0f} s; it may still be "
                             f"mined: look it up with `vc tx {tx_hash}`")
        if observer is not None:
            observer.waiting(tx_hash, waited)
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def _fees(w3: Any) -> dict[str, int]:
    base = w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0
    tip = w3.eth.max_priority_fee
    return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip}


def _replay_revert(w3: Any, tx: Mapping[str, Any], block: int) -> bytes:
    """Revert data of a mined failed transaction, by replaying it as a call on the state before it."""
    call = {k: tx[k] for k in ("from", "to", "data", "value", "gas") if k in tx and tx[k] not in (b"", None)}
    try:
        w3.eth.call(call, block - 1)
    except Exception as exc:
        return revert_data(exc) or b""
    return b""


def _result(receipt: Mapping[str, Any], events: list[Event]) -> TxResult:
    return TxResult("0x" + bytes(receipt["transactionHash"]).hex(), receipt["gasUsed"], receipt["blockNumber"], events)
