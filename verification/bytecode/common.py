"""Pieces every contract's specification shares: the scene's addresses, the clone's code with its
argument blob, selectors, and the neighbours' meanings (an honest ERC-20 as the settlement token)."""

from __future__ import annotations

from typing import Any

import z3
from eth_hash.auto import keccak

from halmos.bytevec import ByteVec

from vcengine.deploy import clone_code as proxy_code
from verification.bytecode.sevm import OracleCall

#: Concrete addresses of the scene (distinct, none a precompile); the caller and every argument stay symbolic.
CLONE = 0xC1000000000000000000000000000000000000C1
IMPLEMENTATION = 0x1300000000000000000000000000000000000013
COMMUNE = 0xC0000000000000000000000000000000000000C0
TREASURY = 0x7E000000000000000000000000000000000000E7
STOCK = 0x5700000000000000000000000000000000000075
TOKEN = 0x70000000000000000000000000000000000000E0
SERIES_IMPL = 0x5E000000000000000000000000000000000000E5



def selector(signature: str) -> int:
    return int.from_bytes(keccak(signature.encode())[:4], "big")


def a160(x: int) -> z3.BitVecRef:
    return z3.BitVecVal(x, 160)


def clone_code(implementation: int, parts: list[Any], size: int = 154) -> ByteVec:
    """EIP-1167 proxy to ``implementation`` with the immutable arguments built from ``parts`` (each
    a bit-vector: symbolic where the model keeps the argument symbolic), ``size`` bytes in all (the
    154-byte `CommuneArgs` blob, or a bond series' three words)."""
    code = ByteVec(proxy_code(f"{implementation:040x}"))
    blob = parts[0]
    for p in parts[1:]:
        blob = z3.Concat(blob, p)
    assert blob.size() == size * 8, blob.size()
    code.append(blob)
    return code


def args_blob(*, factory: Any, commune: Any, treasury: Any, stock: Any, token: Any, series: Any, governance: Any,
              grid_origin: Any, period: Any, decimals: Any, eoa_only: Any) -> list[Any]:
    """The 154-byte `CommuneArgs` blob, field by field in its order."""
    def bv(x: Any, bits: int) -> z3.BitVecRef:
        return z3.BitVecVal(x, bits) if isinstance(x, int) else x
    return [bv(factory, 160), bv(commune, 160), bv(treasury, 160), bv(stock, 160), bv(token, 160), bv(series, 160),
            bv(governance, 160), bv(grid_origin, 64), bv(period, 32), bv(decimals, 8), bv(eoa_only, 8)]


def addr_arg(c: OracleCall, i: int) -> z3.BitVecRef:
    return z3.Extract(159, 0, c.arg(i))


class HonestToken:
    """The settlement token as an honest ERC-20 seen from one contract: `balanceOf(a)` answers the
    balance the model names (``initial(a)``) moved by the transfers the path made before it, a
    transfer succeeds (returning true) exactly when ``transfer_ok`` says so. The contracts check
    every transfer's effect on balances (`SettlementToken`), so a token that is not honest makes
    them revert, which the models treat as the transfer failing."""

    def __init__(self, token: int, me: int, initial: z3.FuncDeclRef):
        self.token, self.me, self.initial = token, me, initial
        self.transfer = selector("transfer(address,uint256)")
        self.transfer_from = selector("transferFrom(address,address,uint256)")
        self.balance_of = selector("balanceOf(address)")

    def balance(self, account: z3.BitVecRef, history: list[OracleCall]) -> z3.ArithRef:
        b = self.initial(account)
        for h in history:
            if h.target != self.token:
                continue
            moved = z3.And(h.ok, h.word(0) == 1)
            if h.selector == self.transfer:
                to, amt = addr_arg(h, 0), z3.BV2Int(h.arg(1))
                b = b + z3.If(z3.And(moved, to == account), amt, 0) - z3.If(
                    z3.And(moved, a160(self.me) == account), amt, 0)
            elif h.selector == self.transfer_from:
                frm, to, amt = addr_arg(h, 0), addr_arg(h, 1), z3.BV2Int(h.arg(2))
                b = b + z3.If(z3.And(moved, to == account), amt, 0) - z3.If(z3.And(moved, frm == account), amt, 0)
        return b

    def links(self, transfer_ok: Any, transfer_from_ok: Any = None) -> dict:
        from verification.bytecode.validate import Link

        def balance_of(c: OracleCall, env: Any, history: list[OracleCall]) -> list[z3.BoolRef]:
            b = self.balance(addr_arg(c, 0), history)
            return [c.ok, z3.BV2Int(c.word(0)) == b, b >= 0]

        def transfer(c: OracleCall, env: Any, history: list[OracleCall]) -> list[z3.BoolRef]:
            ok = transfer_ok(addr_arg(c, 0), z3.BV2Int(c.arg(1)), env)
            return [c.ok == ok, z3.Implies(c.ok, c.word(0) == 1)]

        out = {(self.token, self.balance_of): Link(balance_of), (self.token, self.transfer): Link(transfer)}
        if transfer_from_ok is not None:
            def transfer_from(c: OracleCall, env: Any, history: list[OracleCall]) -> list[z3.BoolRef]:
                ok = transfer_from_ok(addr_arg(c, 0), addr_arg(c, 1), z3.BV2Int(c.arg(2)), env)
                return [c.ok == ok, z3.Implies(c.ok, c.word(0) == 1)]
            out[(self.token, self.transfer_from)] = Link(transfer_from)
        return out
