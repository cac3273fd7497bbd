"""Typed client of the membership contract ``Commune``: labour, attestation, admission and exit.

Example::

    >>> from vcengine.chains import connect
    >>> from vcengine.commune import CommuneClient
    >>> chain = connect("tester")
    >>> alice, bob, worker = chain.accounts[:3]
    >>> commune = CommuneClient.deploy(chain, alice, founders=[alice.address, bob.address],
    ...                                labour_threshold=10, quorum_cap=2)
    >>> claim = commune.submit_labour(10, "ipfs://bafy-timesheet", sender=worker).claim_id
    >>> _ = commune.attest(claim, sender=alice); _ = commune.attest(claim, sender=bob)
    >>> commune.join(sender=worker).share_id
    3
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from vcengine.chains import Chain
from vcengine.client import ContractClient, InputError, TxResult, _result, require_address, require_int
from vcengine.compiler import CompileResult, load_artifacts

UINT64_MAX = 2**64 - 1
ZERO_ADDRESS = "0x" + "00" * 20
UINT24_MAX = 2**24 - 1

# ERC-165 interface ids the share answers for.
INTERFACE_ERC165 = bytes.fromhex("01ffc9a7")
INTERFACE_ERC721 = bytes.fromhex("80ac58cd")
INTERFACE_ERC5192 = bytes.fromhex("b45a3c0e")


@dataclass(frozen=True)
class LabourClaim:
    """A labour claim as stored on chain."""

    claim_id: int
    worker: str
    units: int
    attestations: int
    counted: bool
    evidence_hash: bytes


@dataclass(frozen=True)
class SubmitResult:
    """A submitted labour claim and its transaction."""

    claim_id: int
    tx: TxResult


@dataclass(frozen=True)
class AttestResult:
    """An attestation: the claim's attestations afterwards and whether this one counted the claim."""

    attestations: int
    counted: bool
    tx: TxResult


@dataclass(frozen=True)
class JoinResult:
    """An admission: the share minted and its transaction."""

    share_id: int
    tx: TxResult


class CommuneClient(ContractClient):
    """The membership contract: one soulbound share per member, earned by attested labour."""

    CONTRACT = "Commune"

    @classmethod
    def deploy(  # type: ignore[override]
        cls,
        chain: Chain,
        sender: LocalAccount,
        founders: list[str],
        labour_threshold: int = 10,
        quorum_cap: int = 3,
        name: str = "Venture Commune Share",
        symbol: str = "VCS",
        artifacts: CompileResult | None = None,
        eoa_only: bool = False,
    ) -> CommuneClient:
        """Create a membership-only commune owned by ``founders`` (one share each): a clone made by
        ``CommuneFactory.createMembership`` (the factory and the code it clones are deployed once
        per chain, see :func:`vcengine.deploy.chain_factory`). With ``eoa_only`` only externally
        owned accounts (without delegated code) may hold a share. ``deploy_receipt`` is the
        creating transaction."""
        from vcengine.deploy import CommuneFactoryClient, chain_factory

        if not founders:
            raise InputError("founders must name at least one address: the initial workers")
        checked = [require_address(f, "founder") for f in founders]
        if len(set(checked)) != len(checked):
            raise InputError(f"founders must be distinct, got {founders}")
        require_int(labour_threshold, "labour threshold", 1, 2**64 - 1)
        require_int(quorum_cap, "quorum cap", 1, UINT24_MAX)
        if not isinstance(eoa_only, bool):
            raise InputError(f"eoa_only must be true or false, got {eoa_only!r}")
        artifacts = artifacts or load_artifacts()
        factory = CommuneFactoryClient(chain, chain_factory(chain, sender, artifacts).factory, artifacts)
        tx = factory.transact("createMembership", name, symbol, checked, labour_threshold, quorum_cap, eoa_only,
                              sender=sender)
        client = cls(chain, tx.event("CommuneCreated").args["commune"], artifacts)
        # The creation as the membership contract sees it: its own events (the shares minted) decoded.
        receipt = chain.w3.eth.get_transaction_receipt(tx.tx_hash)
        client.deploy_receipt = _result(receipt, client.decode_events(receipt))
        return client

    def leave_blocked_by(self, member: str) -> int:
        """Commitments in the common stock that stop ``member`` leaving (0 for a membership-only commune)."""
        stock = self.call("stock")
        if stock == ZERO_ADDRESS:
            return 0
        from vcengine.stock import CommonStockClient

        return CommonStockClient(self.chain, stock, self.artifacts).commitments(member)

    # ----------------------------------------------------------------- labour

    def submit_labour(self, units: int, evidence: str, sender: LocalAccount) -> SubmitResult:
        """Submit a labour claim of ``units`` for ``sender`` with ``evidence`` (a hash or URI)."""
        require_int(units, "labour units", 1, UINT64_MAX)
        if not isinstance(evidence, str) or not evidence.strip():
            raise InputError("labour evidence must be a non-empty hash or URI that lets members check the work")
        tx = self.transact("submitLabour", units, evidence, sender=sender)
        return SubmitResult(tx.event("LabourSubmitted").args["claimId"], tx)

    def attest(self, claim_id: int, sender: LocalAccount) -> AttestResult:
        """Attest labour claim ``claim_id`` as the member ``sender``."""
        require_int(claim_id, "claim id", 1)
        tx = self.transact("attest", claim_id, sender=sender)
        attested = tx.event("LabourAttested").args["attestations"]
        return AttestResult(attested, any(e.name == "LabourCounted" for e in tx.events), tx)

    # ------------------------------------------------------------- membership

    def join(self, sender: LocalAccount) -> JoinResult:
        """Join with ``sender``'s counted labour; mints one share."""
        tx = self.transact("join", sender=sender)
        return JoinResult(tx.event("MemberJoined").args["shareId"], tx)

    def leave(self, sender: LocalAccount) -> TxResult:
        """Leave the commune; ``sender``'s share is burned (never the last member's)."""
        return self.transact("leave", sender=sender)

    def sweep(self, sender: LocalAccount) -> TxResult:
        """Send settlement tokens stranded in the membership contract to the treasury as income (anyone)."""
        return self.transact("sweep", sender=sender)

    # --------------------------------------- ERC-721 entry points (all refused)

    def transfer_from(self, from_: str, to: str, share_id: int, sender: LocalAccount) -> TxResult:
        """ERC-721 ``transferFrom``: always refused with CommuneShareNotTransferable."""
        return self.transact("transferFrom", require_address(from_, "from"), require_address(to, "to"), share_id, sender=sender)

    def safe_transfer_from(
        self, from_: str, to: str, share_id: int, sender: LocalAccount, data: bytes | None = None
    ) -> TxResult:
        """ERC-721 ``safeTransferFrom`` (with or without data): always refused."""
        args: list = [require_address(from_, "from"), require_address(to, "to"), share_id]
        if data is None:
            return self.transact("safeTransferFrom(address,address,uint256)", *args, sender=sender)
        return self.transact("safeTransferFrom(address,address,uint256,bytes)", *args, data, sender=sender)

    def approve(self, to: str, share_id: int, sender: LocalAccount) -> TxResult:
        """ERC-721 ``approve``: always refused with CommuneShareApprovalDisabled."""
        return self.transact("approve", require_address(to, "approved address"), share_id, sender=sender)

    def set_approval_for_all(self, operator: str, approved: bool, sender: LocalAccount) -> TxResult:
        """ERC-721 ``setApprovalForAll``: always refused with CommuneShareApprovalDisabled."""
        return self.transact("setApprovalForAll", require_address(operator, "operator"), approved, sender=sender)

    # ------------------------------------------------------------------ views

    def is_member(self, account: str) -> bool:
        return self.call("isMember", require_address(account, "account"))

    def member_count(self) -> int:
        return self.call("memberCount")

    def total_shares(self) -> int:
        """Shares outstanding, counted by ERC-721 ownership (equals member_count)."""
        return self.member_count()

    def share_of(self, account: str) -> int:
        """Share id held by ``account``, 0 if none."""
        return self.call("shareOf", require_address(account, "account"))

    def balance_of(self, account: str) -> int:
        """ERC-721 balance: 0 or 1."""
        return self.call("balanceOf", require_address(account, "account"))

    def owner_of(self, share_id: int) -> str:
        return self.call("ownerOf", share_id)

    def locked(self, share_id: int) -> bool:
        return self.call("locked", share_id)

    def supports_interface(self, interface_id: bytes) -> bool:
        return self.call("supportsInterface", interface_id)

    def quorum(self) -> int:
        return self.call("quorum")

    def quorum_for(self, worker: str) -> int:
        """Attestations a claim of ``worker`` needs now (a member's own claim has one attester fewer)."""
        return self.call("quorumFor", require_address(worker, "worker"))

    def eoa_only(self) -> bool:
        return self.call("eoaOnly")

    def labour_threshold(self) -> int:
        return self.call("labourThreshold")

    def quorum_cap(self) -> int:
        return self.call("quorumCap")

    def claim_count(self) -> int:
        return self.call("claimCount")

    def counted_labour(self, worker: str) -> int:
        return self.call("countedLabour", require_address(worker, "worker"))

    def labour_claim(self, claim_id: int) -> LabourClaim:
        worker, units, attestations, counted, evidence_hash = self.call("labourClaim", claim_id)
        return LabourClaim(claim_id, worker, units, attestations, counted, bytes(evidence_hash))

    def has_attested(self, claim_id: int, attester: str) -> bool:
        return self.call("hasAttested", claim_id, require_address(attester, "attester"))
