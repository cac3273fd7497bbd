"""The main job, as a story: a commune is founded, a worker earns a share, capital cannot buy one.

Each step records what was expected and what the chain did. A refusal step is ``ok`` only when
the chain refused with the expected custom error and nothing changed; an action step is ``ok``
only when its effect is visible on chain afterwards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from vcengine.chains import Chain
from vcengine.client import ContractReverted
from vcengine.commune import INTERFACE_ERC165, INTERFACE_ERC721, INTERFACE_ERC5192, CommuneClient
from vcengine.compiler import CompileResult, load_artifacts


@dataclass
class Step:
    name: str
    ok: bool
    detail: str


@dataclass
class DemoReport:
    chain: str
    compile: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    commune: str | None = None
    members: list[dict[str, Any]] = field(default_factory=list)
    gas: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chain": self.chain,
            "compile": self.compile,
            "commune": self.commune,
            "steps": [asdict(s) for s in self.steps],
            "members": self.members,
            "gas": self.gas,
        }


Say = Callable[[str], None]


def run_demo(chain: Chain, say: Say = lambda _: None, artifacts: CompileResult | None = None) -> DemoReport:
    """Run the demo on ``chain``; ``say`` receives the narrative one line at a time."""
    artifacts = artifacts or load_artifacts()
    report = DemoReport(
        chain=chain.name,
        compile={"compiler": artifacts.compiler, "cached": artifacts.cached, "key": artifacts.key},
    )
    names = ["alice", "bob", "carol", "dana", "erin"]
    alice, bob, carol, dana, erin = chain.accounts[:5]
    who = {acct.address: name for name, acct in zip(names, chain.accounts)}

    def step(name: str, ok: bool, detail: str) -> bool:
        report.steps.append(Step(name, ok, detail))
        say(f"{'ok ' if ok else 'FAIL'} {name}: {detail}")
        return ok

    def refused(name: str, expected: str, action: Callable[[], Any], unchanged: Callable[[], Any]) -> None:
        before = unchanged()
        try:
            action()
        except ContractReverted as exc:
            after = unchanged()
            same = before == after
            ok = exc.name == expected and same
            shown = exc.error.name or "empty revert"
            step(name, ok, f"refused with {shown}" + ("" if same else f"; but state changed from {before} to {after}")
                 + ("" if exc.name == expected else f" (expected {expected or 'empty revert'})"))
            return
        step(name, False, f"NOT refused (expected {expected or 'an empty revert'})")

    say(f"Compiled with {artifacts.compiler} ({'from cache' if artifacts.cached else 'fresh compile'}).")
    say("Alice, Bob and Carol found a venture commune: one share each, earned by the work of founding it.")
    commune = CommuneClient.deploy(
        chain, alice, founders=[alice.address, bob.address, carol.address], labour_threshold=10, quorum_cap=2,
        artifacts=artifacts,
    )
    report.commune = commune.address
    report.gas["deploy"] = commune.deploy_receipt.gas_used if commune.deploy_receipt else 0
    step("found commune", commune.member_count() == 3 and all(commune.balance_of(a.address) == 1 for a in (alice, bob, carol)),
         f"Commune at {commune.address}: 3 founders, labour threshold {commune.labour_threshold()} units, "
         f"quorum min({commune.quorum_cap()}, members) = {commune.quorum()}")
    step("shares are soulbound ERC-721",
         all(commune.supports_interface(i) for i in (INTERFACE_ERC165, INTERFACE_ERC721, INTERFACE_ERC5192))
         and commune.locked(commune.share_of(alice.address)),
         "supportsInterface answers ERC-165, ERC-721 and ERC-5192; locked(share) is true")

    say("Dana works for the commune and submits her labour; two members attest it.")
    submitted = commune.submit_labour(10, "ipfs://bafy-dana-timesheet-2026-11", sender=dana)
    report.gas["submitLabour"] = submitted.tx.gas_used
    first = commune.attest(submitted.claim_id, sender=alice)
    report.gas["attest"] = first.tx.gas_used
    second = commune.attest(submitted.claim_id, sender=bob)
    step("labour attested", not first.counted and second.counted and commune.counted_labour(dana.address) == 10,
         f"claim {submitted.claim_id}: 10 units, attested by alice and bob, counted at quorum {commune.quorum()}")
    joined = commune.join(sender=dana)
    report.gas["join"] = joined.tx.gas_used
    step("worker joins by labour", commune.is_member(dana.address) and commune.balance_of(dana.address) == 1
         and commune.counted_labour(dana.address) == 0,
         f"dana receives share #{joined.share_id}; her 10 counted units are spent on it")

    say("Erin has capital and wants a share. Every way she tries is refused.")
    erin_state = lambda: (commune.balance_of(erin.address), commune.member_count())  # noqa: E731
    refused("capital: ETH sent to the commune", "", lambda: commune.send_value(erin, 100 * 10**18), erin_state)
    refused("capital: join without attested labour", "LabourBelowThreshold", lambda: commune.join(sender=erin), erin_state)
    claim = commune.submit_labour(1_000, "I paid for this", sender=erin).claim_id
    refused("capital: attest her own claim as a non-member", "CommuneNotMember",
            lambda: commune.attest(claim, sender=erin), erin_state)
    refused("capital: join after an unattested claim", "LabourBelowThreshold", lambda: commune.join(sender=erin), erin_state)
    share = commune.share_of(alice.address)
    alice_state = lambda: (commune.owner_of(share), commune.balance_of(erin.address))  # noqa: E731
    refused("member sells her share (transferFrom)", "CommuneShareNotTransferable",
            lambda: commune.transfer_from(alice.address, erin.address, share, sender=alice), alice_state)
    refused("member sells her share (safeTransferFrom)", "CommuneShareNotTransferable",
            lambda: commune.safe_transfer_from(alice.address, erin.address, share, sender=alice), alice_state)
    refused("member approves a buyer (approve)", "CommuneShareApprovalDisabled",
            lambda: commune.approve(erin.address, share, sender=alice), alice_state)
    refused("member approves a broker (setApprovalForAll)", "CommuneShareApprovalDisabled",
            lambda: commune.set_approval_for_all(erin.address, True, sender=alice), alice_state)
    own = commune.submit_labour(5, "ipfs://bafy-dana-more-work", sender=dana).claim_id
    refused("member attests her own labour", "LabourSelfAttestation",
            lambda: commune.attest(own, sender=dana), lambda: commune.labour_claim(own))
    refused("member joins twice", "CommuneAlreadyMember", lambda: commune.join(sender=dana),
            lambda: (commune.balance_of(dana.address), commune.member_count()))
    step("capital holds no share", commune.balance_of(erin.address) == 0 and not commune.is_member(erin.address),
         f"erin holds {commune.balance_of(erin.address)} shares and is not a member after every attempt above")

    say("Carol leaves the commune; her share is burned, not sold.")
    carol_share = commune.share_of(carol.address)
    left = commune.leave(sender=carol)
    report.gas["leave"] = left.gas_used
    step("member leaves", not commune.is_member(carol.address) and commune.member_count() == 3,
         f"share #{carol_share} burned; {commune.member_count()} members remain")

    report.members = [
        {"name": who.get(a.address, a.address), "address": a.address, "share": commune.share_of(a.address)}
        for a in (alice, bob, carol, dana, erin)
    ]
    one_each = all(m["share"] == 0 or commune.balance_of(m["address"]) == 1 for m in report.members)
    step("one share per member", one_each and sum(1 for m in report.members if m["share"]) == commune.member_count(),
         "every address holds 0 or 1 share and shares outstanding equal the member count")
    return report
