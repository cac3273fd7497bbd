"""Reading event logs in block ranges a node accepts: every log read of ``vc`` goes through here.

Public JSON-RPC endpoints cap the block range (or the result size) of one ``eth_getLogs`` request
(10,000 blocks is common, some allow far fewer). :func:`get_logs` splits ``[from_block,
to_block]`` into chunks of ``chunk`` blocks, asks for each in order, and when a node refuses a
chunk as too large it halves the chunk and asks again (down to one block), so a read that works on
a local node works unchanged on a capped endpoint. Logs come back in chain order.

The chunk is, first found: the ``chunk`` argument, ``VC_LOG_CHUNK``, ``log_chunk = N`` in the
network's table of ``vc.toml`` / ``config.toml``, else :data:`DEFAULT_CHUNK`.

Example::

    >>> logs = get_logs(commune.contract.events.MemberJoined, from_block=0, to_block=None, chunk=2_000)
    >>> [(log["args"]["member"], log["args"]["shareId"]) for log in logs]
    [('0xf39F...', 1), ('0x7099...', 2)]
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from vcengine.client import InputError

#: Blocks per ``eth_getLogs`` request unless configured otherwise (what most public providers accept).
DEFAULT_CHUNK = 10_000

#: How nodes and providers word "this range (or its result) is too large": geth and anvil ("block
#: range"), Alchemy ("Log response size exceeded ... block range"), Infura ("query returned more
#: than 10000 results"), QuickNode ("limited to a 10,000 range"), Ankr ("block range is too wide").
#: A rate limit ("too many requests") is not one: halving would not help.
_TOO_LARGE = re.compile(
    r"range|too (large|big|wide)|more than [\d,]+ (results|logs|blocks)|response size|results? (set )?too",
    re.IGNORECASE,
)


def log_chunk(network: Any = None) -> int:
    """Blocks per request for ``network`` (a :class:`vcengine.networks.Network` or None):
    ``VC_LOG_CHUNK``, else the network's ``log_chunk`` (checked when vc.toml is read), else
    :data:`DEFAULT_CHUNK`."""
    text = os.environ.get("VC_LOG_CHUNK")
    if not text:
        return getattr(network, "log_chunk", None) or DEFAULT_CHUNK
    try:
        chunk = int(str(text).replace("_", ""))
    except ValueError:
        chunk = 0
    if chunk < 1:
        raise InputError(f"VC_LOG_CHUNK must be a whole number of blocks, 1 or more, got {text!r}")
    return chunk


def is_range_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a node refusing an ``eth_getLogs`` request as too large."""
    message = str(exc)
    data = getattr(exc, "rpc_response", None)
    if isinstance(data, Mapping):
        message += " " + str(data.get("error", ""))
    return bool(_TOO_LARGE.search(message))


def get_logs(contract_event: Any, from_block: int, to_block: int | None = None, chunk: int | None = None,
             argument_filters: Mapping[str, Any] | None = None) -> list[Any]:
    """Every log of ``contract_event`` (``contract.events.Name``) from ``from_block`` to ``to_block``
    (None: the latest block, read once), in requests of at most ``chunk`` blocks (None:
    :func:`log_chunk` of no particular network). A request refused as too large is retried with
    half the chunk; a one-block request that is refused raises the node's error."""
    event = contract_event() if isinstance(contract_event, type) else contract_event
    w3 = event.w3
    last = w3.eth.block_number if to_block is None else int(to_block)
    size = int(chunk) if chunk is not None else log_chunk()
    if size < 1:
        raise InputError(f"the log chunk must be 1 block or more, got {size}")
    filters = dict(argument_filters) if argument_filters else None
    logs: list[Any] = []
    start = max(0, int(from_block))
    while start <= last:
        end = min(last, start + size - 1)
        try:
            logs.extend(event.get_logs(argument_filters=filters, from_block=start, to_block=end))
        except Exception as exc:
            if size == 1 or not is_range_error(exc):
                raise
            size = max(1, size // 2)  # the node caps the range: ask again for half as many blocks
            continue
        start = end + 1
    return logs


def merged(*groups: list[Any]) -> list[Any]:
    """Logs of several events in chain order (block, then position in the block)."""
    return sorted((log for group in groups for log in group), key=lambda log: (log["blockNumber"], log["logIndex"]))
