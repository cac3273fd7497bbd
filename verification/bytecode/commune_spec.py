"""`Commune` (a clone of the membership implementation) against `verification/commune_model.py`."""

from __future__ import annotations

import z3

from verification import commune_model as cm
from verification import properties
from verification.bytecode import common as c
from verification.bytecode.layout import Place, member, namespace, slot_of
from verification.bytecode.validate import Arg, ContractSpec, Env, Function, Link, Variant, Write, unknown_selector
from verification.terms import State

ERC721 = "node_modules/@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol"
INITIALIZABLE = "node_modules/@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol"


def places(layout: dict, root) -> dict:
    ns721 = namespace(root / ERC721, "ERC721StorageLocation")  # {_name, _symbol, _owners, _balances, _tokenApprovals, _operatorApprovals}
    init = namespace(root / INITIALIZABLE, "INITIALIZABLE_STORAGE")  # {uint64 _initialized; bool _initializing}
    roll = slot_of(layout, "_roll")
    claims = slot_of(layout, "_claims")

    def roll_field(name: str) -> Place:
        w, off, bits = member(layout, "_roll", name)
        return Place(roll, word=w, offset=off, bits=bits)

    def claim_field(name: str, kind: str = "uint") -> Place:
        w, off, bits = member(layout, "_claims", name)
        return Place(claims, ("uint",), word=w, offset=off, bits=bits, kind=kind)

    return {
        "shareOf": Place(slot_of(layout, "_shareOf"), ("addr",)),
        "owners": Place(ns721 + 2, ("uint",), bits=160, kind="addr"),
        "balances": Place(ns721 + 3, ("addr",)),
        "memberCount": roll_field("memberCount"),
        "supply": "ghost",
        "lastShareId": roll_field("lastShareId"),
        "claimCount": Place(slot_of(layout, "claimCount")),
        "claimWorker": claim_field("worker", "addr"),
        "claimUnits": claim_field("units"),
        "claimAttestations": claim_field("attestations"),
        "claimCounted": claim_field("counted", "bool"),
        "attested": Place(slot_of(layout, "_attested"), ("uint", "addr"), bits=8, kind="bool"),
        "countedLabour": Place(slot_of(layout, "_countedLabour"), ("addr",)),
        "tokenApprovals": Place(ns721 + 4, ("uint",), bits=160, kind="addr"),
        "operatorApprovals": Place(ns721 + 5, ("addr", "addr"), bits=8, kind="bool"),
        "ether": "balance",
        "labourThreshold": roll_field("labourThreshold"),
        "quorumCap": roll_field("quorumCap"),
        "initialized": Place(init, bits=64, kind="nonzero"),
    }, ns721, init


def spec(artifact, root, *, wired: bool) -> tuple[ContractSpec, list[Function]]:
    """The membership clone as the factory makes it: wired to a treasury, a stock and a token
    (`create`), or alone (`createMembership`: no treasury, no stock)."""
    layout = artifact.storage_layout
    pl, ns721, init = places(layout, root)
    eoa_byte = z3.BitVec("CommuneArgs.eoaOnly", 8)
    treasury, stock, token = (c.TREASURY, c.STOCK, c.TOKEN) if wired else (0, 0, 0)
    blob = c.args_blob(factory=cm.FACTORY, commune=c.CLONE, treasury=treasury, stock=stock, token=token,
                       series=c.SERIES_IMPL if wired else 0, governance=cm.GOVERNANCE,
                       grid_origin=z3.BitVec("CommuneArgs.gridOrigin", 64),
                       period=z3.BitVec("CommuneArgs.periodSeconds", 32), decimals=z3.BitVec("CommuneArgs.decimals", 8),
                       eoa_only=eoa_byte)
    code = c.clone_code(c.IMPLEMENTATION, blob)
    runtime = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    honest = c.HonestToken(c.TOKEN, c.CLONE, z3.Function("tokenBalance", z3.BitVecSort(160), z3.IntSort()))

    def hook(cl, env, history):
        return [cl.ok == z3.Not(cm.HOOK_REFUSES)]

    def hook_member(cl, env):
        return [("the treasury is told of the caller", c.addr_arg(cl, 0) == env.caller)]

    links = {}
    if wired:
        links = {
            (c.STOCK, c.selector("commitments(address)")): Link(
                lambda cl, env, h: [cl.ok, cm.COMMITTED(c.addr_arg(cl, 0)) == (cl.word(0) != 0)],
                lambda cl, env: [("the stock is asked about the caller", c.addr_arg(cl, 0) == env.caller)]),
            (c.TREASURY, c.selector("onJoin(address)")): Link(hook, hook_member),
            (c.TREASURY, c.selector("onLeave(address)")): Link(hook, hook_member),
            (c.TREASURY, c.selector("token()")): Link(lambda cl, env, h: [cl.ok, cl.word(0) == c.TOKEN]),
            (c.TREASURY, c.selector("sweep()")): Link(lambda cl, env, h: [cl.ok]),
            **honest.links(lambda to, amount, env: z3.BoolVal(True)),
        }

    def bounds(s: State, env: Env) -> list[tuple[str, z3.BoolRef]]:
        initializing = z3.Extract(71, 64, env.storage.initial((init, 0, 0)))
        return [
            ("not mid-initialisation (Initializable's _initializing is false between calls)", initializing == 0),
            ("share ids below 2**64 - 1 (one per admission)", s.lastShareId < 2**64 - 1),
            ("members below 2**64 - 1", s.memberCount < 2**64 - 1),
            ("claims below 2**256 - 1", s.claimCount < 2**256 - 1),
            ("counted labour of the worker of the attested claim below 2**255",
             s.countedLabour[s.claimWorker[cm.CLAIM]] < 2**255),
            ("an uncounted claim's attestations below 2**24 - 1 (it is counted at its quorum <= quorumCap < 2**24)",
             z3.Or(s.claimCounted[cm.CLAIM], s.claimAttestations[cm.CLAIM] < 2**24 - 1)),
            ("a member's balance of shares below 2**256 - 1", s.balances[env.caller] < 2**256 - 1),
            ("the ETH of the accounts involved below 2**255", z3.And(
                z3.BV2Int(z3.Select(z3.Array("balance_00", z3.BitVecSort(160), z3.BitVecSort(256)), env.caller)) < 2**255,
                s.ether < 2**255)),
        ]

    def assume(env: Env) -> list[z3.BoolRef]:
        facts = [cm.EOA_ONLY == (eoa_byte != 0), cm.HAS_TREASURY == z3.BoolVal(wired), cm.ORIGIN == env.origin,
                 cm.TOKEN_BALANCE == honest.initial(c.a160(c.CLONE))]
        if not wired:  # no treasury to refuse a membership change, no stock to hold commitments
            facts += [z3.Not(cm.HOOK_REFUSES), z3.Not(cm.COMMITTED(env.caller))]
        return facts

    def terms(s: State, env: Env) -> list:
        return [env.caller, cm.FOUNDER, founders2[1], cm.FROM, cm.TO, s.claimWorker[cm.CLAIM], z3.BitVecVal(0, 160),
                cm.CLAIM, cm.TOKEN, s.shareOf[env.caller], s.lastShareId + 1, s.lastShareId + 2, s.claimCount + 1]

    accounts = [c.CLONE, c.IMPLEMENTATION] + ([c.TREASURY, c.STOCK, c.TOKEN] if wired else [])

    def has_code(env: Env) -> list[z3.BoolRef]:
        return [cm.HAS_CODE(t) == z3.Or(*[t == c.a160(a) for a in accounts]) for t in (env.caller, cm.FOUNDER, founders2[1])]

    contract = ContractSpec(
        name="Commune" + ("" if wired else " (membership only)"), address=c.CLONE, code=code,
        implementation=(c.IMPLEMENTATION, runtime), state=cm.CommuneState, places=pl, links=links,
        neighbours={a: n for a, n in ((c.TREASURY, "Treasury"), (c.STOCK, "CommonStock"), (c.TOKEN, "token")) if wired},
        bounds=bounds, has_code=has_code, assume=assume, invariant=tuple(properties.MEMBERSHIP), terms=terms)

    T = {t.name: t for t in cm.TRANSITIONS}
    short = (3,)  # name and symbol: short strings (stored in their slot)

    def evidence_write(idx, env):
        return z3.Extract(511, 256, idx) == z3.Int2BV(env.pre.claimCount + 1, 256)

    founders2 = (z3.BitVec("founder", 160), z3.BitVec("founder2", 160))

    def two_founders(s: State, env: Env):
        rev1 = T["initialize"].reverts(s, env.caller, env.value)
        mid = T["initialize"].post(s, env.caller, env.value)
        rev2 = z3.Or(cm.admit_reverts(mid, founders2[1]), z3.And(cm.EOA_ONLY, cm.HAS_CODE(founders2[1])))
        return z3.Or(rev1, rev2), cm.admit(mid, founders2[1])

    def no_founders(s: State, env: Env):
        return z3.BoolVal(True), s

    init_writes = (Write((ns721, 0, 0), lambda i, env: z3.BoolVal(True), "the ERC-721 name"),
                   Write((ns721 + 1, 0, 0), lambda i, env: z3.BoolVal(True), "the ERC-721 symbol"),
                   Write((init, 0, 0), lambda i, env: z3.BoolVal(True), "Initializable's flags"))
    fns = [
        Function("initialize(string,string,address[],uint256,uint256)", T["initialize"],
                 (Arg("string"), Arg("string"), Arg("address[]", elements=founders2), Arg("uint256", cm.THRESHOLD),
                  Arg("uint256", cm.QUORUM_CAP)),
                 writes=init_writes,
                 # A clone is created with empty storage and only `initialize` writes the name and symbol.
                 assume=lambda env: [z3.Implies(z3.Not(env.pre.initialized), z3.And(
                     env.storage.initial((ns721, 0, 0)) == 0, env.storage.initial((ns721 + 1, 0, 0)) == 0,
                     env.storage.initial(pl["memberCount"].array_key) == 0))],
                 variants=(Variant("one founder", (3, 2, 1)), Variant("two founders", (3, 2, 2), two_founders),
                           Variant("no founders", (3, 2, 0), no_founders))),
        Function("setParameters(uint256,uint256)", T["setParameters"],
                 (Arg("uint256", cm.THRESHOLD), Arg("uint256", cm.QUORUM_CAP))),
        Function("submitLabour(uint256,string)", T["submitLabour"], (Arg("uint256", cm.UNITS), Arg("string", cm.EVIDENCE_LEN)),
                 writes=(Write((slot_of(layout, "_evidenceHash"), 2, 512), evidence_write,
                               "the new claim's evidence hash (not in the model)"),),
                 variants=(Variant("evidence of 0 bytes", (0,)), Variant("evidence of 1 byte", (1,)),
                           Variant("evidence of 40 bytes", (40,)))),
        Function("attest(uint256)", T["attest"], (Arg("uint256", cm.CLAIM),)),
        Function("join()", T["join"]),
        Function("leave()", T["leave"]),
        Function("sweep()", T["sweep"]),
        Function("transferFrom(address,address,uint256)", T["transferFrom"],
                 (Arg("address", cm.FROM), Arg("address", cm.TO), Arg("uint256", cm.TOKEN))),
        Function("safeTransferFrom(address,address,uint256)", T["safeTransferFrom(address,address,uint256)"],
                 (Arg("address", cm.FROM), Arg("address", cm.TO), Arg("uint256", cm.TOKEN))),
        Function("safeTransferFrom(address,address,uint256,bytes)", T["safeTransferFrom(address,address,uint256,bytes)"],
                 (Arg("address", cm.FROM), Arg("address", cm.TO), Arg("uint256", cm.TOKEN), Arg("bytes")),
                 variants=(Variant("data of 0 bytes", (0,)), Variant("data of 4 bytes", (4,)))),
        Function("approve(address,uint256)", T["approve"], (Arg("address", cm.TO), Arg("uint256", cm.TOKEN))),
        Function("setApprovalForAll(address,bool)", T["setApprovalForAll"], (Arg("address", cm.TO), Arg("bool", cm.APPROVED))),
        Function("<receive or fallback>", T["<receive or fallback>"],
                 variants=(Variant("plain ETH (no calldata)", (0,)), Variant("an unknown selector", (36,))),
                 assume=lambda env: [unknown_selector(36, artifact.abi)] if env.lengths.get("raw") == 36 else []),
    ]
    return contract, fns
