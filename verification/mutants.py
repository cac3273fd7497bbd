"""Seeded mutants of the real Solidity sources, each a small edit that breaks one named property.

For each mutant the layer copies `contracts/`, applies the edit, compiles the mutated sources
(cached by content hash like every build; without the optimizer, which preserves behaviour and
halves the compile, on an embedded chain without the EIP-170 size limit), deploys them on a fresh
embedded chain and runs the
checks that should catch it: conformance against the membership model for `Commune`
(`conformance`); conformance of the economic contracts against their models, from the scripted
opening (`economy_conformance`) or from its re-rental schedule part alone on a fresh commune
(`economy_schedule`, for mutants only those branches can catch); and property probes (short
scenarios asserting the property on chain). A mutant survives when every check passes; the suite
fails if any survives.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from vcengine.paths import BUILD_DIR, CONTRACTS_DIR

#: Random call sequences run against each membership mutant (each stops at the first divergence).
CONFORMANCE_SEEDS = 2
CONFORMANCE_STEPS = 30


@dataclass(frozen=True)
class Mutant:
    id: str
    prop: str
    file: str
    find: str
    replace: str
    description: str
    checks: tuple[str, ...]
    #: For the "validation" check: the functions validated against their models on the mutant's
    #: bytecode (the ones the edit is in; the rest of the contract is unchanged).
    validate: tuple[str, ...] = ()


MUTANTS: list[Mutant] = [
    Mutant("M01", "P10", "Commune.sol", "        if (_shareOf[msg.sender] == 0) revert CommuneNotMember(msg.sender);\n"
           "        LabourClaim storage claim", "        LabourClaim storage claim",
           "attest without the membership check", ("conformance",)),
    Mutant("M02", "P3", "Commune.sol", "        if (worker == msg.sender) revert LabourSelfAttestation(claimId, msg.sender);\n",
           "", "attest one's own labour claim", ("conformance",)),
    Mutant("M03", "P3", "Commune.sol", "        if (_attested[claimId][msg.sender]) revert LabourAlreadyAttested(claimId, msg.sender);\n",
           "", "attest the same claim twice", ("conformance",)),
    Mutant("M04", "P3", "Commune.sol",
           "        if (counted < threshold) revert LabourBelowThreshold(msg.sender, counted, threshold);\n",
           "", "join without enough counted labour", ("conformance",)),
    Mutant("M05", "P1", "Commune.sol", "        delete _shareOf[member];\n", "",
           "leave keeps the member's share id: a member without a share", ("conformance",)),
    Mutant("M06", "P3", "Commune.sol", "    function join() external returns (uint256 shareId) {",
           "    function join() external payable returns (uint256 shareId) {", "a payable membership path",
           ("abi_nonpayable", "conformance")),
    Mutant("M07", "P2", "Commune.sol", "    function approve(address to, uint256) public override {\n"
           "        revert CommuneShareApprovalDisabled(to);",
           "    function approve(address to, uint256 tokenId) public override {\n"
           "        _approve(to, tokenId, msg.sender);", "approvals of a share allowed", ("conformance",)),
    Mutant("M08", "P1", "Commune.sol", "        _burn(shareId);\n", "", "leave without burning the share",
           ("conformance",)),
    Mutant("M09", "P3", "Commune.sol", "        return Math.min(roll.quorumCap, attesters);", "        return attesters;",
           "a quorum that ignores the cap", ("conformance",)),
    Mutant("M10", "P3", "Commune.sol", "            _countedLabour[msg.sender] = counted - threshold;\n", "",
           "join without spending the labour that earned the share", ("conformance",)),
    Mutant("M11", "P10", "Commune.sol", "            if (commitments != 0) revert CommuneMemberCommitted(msg.sender, commitments);\n",
           "", "leave while renting", ("probe_commitments",)),
    Mutant("M12", "P4", "Treasury.sol", "        uint256 remainder = pool - perShare * members;",
           "        uint256 remainder = 0;", "lose the rounding remainder", ("probe_payouts",)),
    Mutant("M13", "P4", "Treasury.sol", "        _checkpoint[member] = incomePerShare;\n    }\n\n    /// @notice Keeps",
           "    }\n\n    /// @notice Keeps", "a new member shares earlier income", ("probe_payouts",)),
    Mutant("M14", "P4", "Treasury.sol", "        _owed[member] += incomePerShare - _checkpoint[member];\n", "",
           "a leaving member loses what accrued", ("probe_payouts",)),
    Mutant("M15", "P6", "stock/StockLedger.sol",
           "        uint256 toBonds = _serviceDebt(assetId, _debts[assetId], asset.clearingRateBps, amount);",
           "        uint256 toBonds = 0;", "rent pays members before bondholders", ("probe_rent",)),
    Mutant("M16", "P9", "stock/StockLedger.sol", "        if (b.rateBps < rate) return b.amount;",
           "        if (b.rateBps <= rate) return b.amount;", "bids at the clearing rate filled in full",
           ("probe_auction",)),
    Mutant("M17", "P10", "stock/RentalMarket.sol", "        if (!_commune().isMember(msg.sender)) revert StockNotMember(msg.sender);\n", "",
           "non-members bid for rentals", ("probe_rental",)),
    Mutant("M18", "P7", "stock/RentalMarket.sol", "        if (block.timestamp < dueAt) revert ReclaimNotDue(assetId, dueAt);\n",
           "", "reclaim before the grace period", ("probe_rental",)),
    Mutant("M19", "P5", "BondSeries.sol", "        if (from != address(0)) _corrections[from] += paidOnValue;\n", "",
           "a bond transfer moves past payments too", ("probe_bonds",)),
    Mutant("M20", "P5", "CommonStock.sol", "        creditsHeld -= amount;\n        emit Withdrawn(msg.sender, amount);",
           "        emit Withdrawn(msg.sender, amount);", "a withdrawal leaves the credits counter as it was",
           ("economy_conformance",)),
    Mutant("M21", "P10", "stock/RentalMarket.sol", "        --_commitments[renter];\n        _assets[assetId].state = AssetState.RentalAuction;",
           "        _assets[assetId].state = AssetState.RentalAuction;",
           "a returned asset still binds its renter (who can never leave)", ("economy_conformance",)),
    # The hardening of the outside review (issue 11): removing any one fix is caught.
    Mutant("M22", "P5", "libraries/SettlementToken.sol",
           "        token.safeTransferFrom(from, to, amount);\n        _expectGain(token, to, before, amount);",
           "        token.safeTransferFrom(from, to, amount);",
           "a fee-on-transfer token's short delivery booked in full", ("probe_fee_token",)),
    Mutant("M23", "P6", "stock/RentalMarket.sol",
           "        if (!Amortization.repays(owed, asset.clearingRateBps, rent, Math.min(periods, left))) {",
           "        if (false) {", "a rental bid that cannot repay the outstanding bonds accepted",
           ("economy_conformance",)),
    Mutant("M24", "P6", "stock/RentalMarket.sol",
           "        if ((last.defaulted && last.renter == msg.sender) || (owed > 0 && _defaulted[assetId][msg.sender])) {",
           "        if (false) {", "the defaulter bids again in the next rental auction", ("economy_conformance",)),
    Mutant("M25", "P4", "Commune.sol", "        if (_roll.memberCount == 1) revert CommuneLastMember(msg.sender);\n", "",
           "the last member leaves: later income is owed to nobody", ("conformance",)),
    Mutant("M26", "P7", "stock/StockLedger.sol",
           "        escrowHeld -= rent;\n        _payRent(assetId, renter, 0, 1, rent, address(this));",
           "", "a rental starts without its first period paid (reclaimable at once with no grace)",
           ("economy_conformance",)),
    Mutant("M27", "P4", "Treasury.sol", "        uint256 waiting = periods - begun;",
           "        uint256 waiting = 0 * (periods - begun);",
           "rent paid ahead divided at once (a join before a prepayment skims it)", ("economy_conformance",)),
    Mutant("M28", "P5", "stock/RentalMarket.sol",
           "        if (_debts[assetId].redeemed) _treasury().refundRental(assetId, msg.sender, paid, rental.rentPerPeriod);\n",
           "", "an early return refunds nothing of the member income not yet released", ("economy_conformance",)),
    Mutant("M29", "P3", "Commune.sol", "        uint256 quorum_ = quorumFor(worker);",
           "        uint256 quorum_ = quorum();", "a member's own labour needs the whole membership's quorum",
           ("conformance",)),
    Mutant("M30", "P10", "CommonStock.sol", "        if (commune_.isMember(vendor)) revert AssetVendorIsMember(vendor);\n",
           "", "a requester names a member as vendor", ("economy_conformance",)),
    Mutant("M31", "P5", "CommonStock.sol", "        amount = held - owed;\n        emit SurplusSwept(msg.sender, amount);",
           "        amount = held;\n        emit SurplusSwept(msg.sender, amount);",
           "a sweep takes the escrow with the surplus", ("economy_conformance",)),
    Mutant("M32", "P6", "stock/StockLedger.sol", "        debt.accruedPeriods = SafeCast.toUint32(started);",
           "        debt.accruedPeriods = uint32(started);", "the accrued-period counter wraps at 2**32",
           ("probe_accrual_cast",)),
    Mutant("M33", "P7", "stock/Liquidation.sol",
           "            if (sale.reopenings < LIQUIDATION_STEPS) sale.reopenings = uint8(sale.reopenings + 1);\n", "",
           "a liquidation nobody meets the reserve of reopens forever at the same reserve", ("economy_conformance",)),
    Mutant("M34", "P3", "Commune.sol", "        if (eoaOnly() && (msg.sender != tx.origin || msg.sender.code.length != 0)) {",
           "        if (false) {", "a contract wallet joins a commune that admits only externally owned accounts",
           ("probe_eoa_only",)),
    Mutant("M35", "P5", "stock/RentalMarket.sol",
           "        if (_settleInSelfCall(assetId, 0, 0)) return true;\n        // The token refused",
           "        (bool ok_,) = address(this).call(abi.encodeWithSignature(\"runSettlement(uint256,uint256,uint256)\", "
           "assetId, 0, 0));\n        require(ok_);\n        return true;\n        // The token refused",
           "a refused rental payment leaves the leader's escrow stuck", ("probe_refused_settlement",)),
    Mutant("M36", "P5", "Treasury.sol", "        totalIncome += amount;\n        emit SurplusSwept(msg.sender, amount);",
           "        emit SurplusSwept(msg.sender, amount);", "a swept surplus is divided without being counted as owed",
           ("economy_conformance",)),
    Mutant("M37", "P6", "stock/RentalMarket.sol",
           "(last.defaulted && last.renter == msg.sender) || (owed > 0 && _defaulted[assetId][msg.sender])",
           "last.defaulted && last.renter == msg.sender",
           "members take turns to default and rent again while the debt grows", ("probe_repeat_defaulter",)),
    # Found in review of the hardening: removing either fix is caught too.
    Mutant("M38", "P6", "stock/RentalMarket.sol",
           "        if (paid < rental.periods && block.timestamp >= rental.start + paid * _period()) {",
           "        if (false) {", "a renter returns the asset with rent due and unpaid and is not a defaulter",
           ("probe_overdue_return",)),
    Mutant("M39", "P4", "Commune.sol",
           "        if (notify && address(treasury_) != address(0)) treasury_.onJoin(member);\n"
           "        Roll storage roll = _roll;\n",
           "        Roll storage roll = _roll;\n        roll.memberCount += 1;\n"
           "        if (notify && address(treasury_) != address(0)) treasury_.onJoin(member);\n"
           "        roll.memberCount -= 1;\n",
           "a join counts the new member before the begun periods' income is released", ("probe_join_release",)),
    Mutant("M41", "P10", "CommonStock.sol",
           "        if (vendor == address(this) || vendor == CommuneArgs.treasury() || vendor == address(commune_)) {",
           "        if (false) {", "a requester names the commune's own contract as vendor: the price is stuck",
           ("economy_conformance",)),
    Mutant("M40", "P6", "stock/RentalMarket.sol", "rent, Math.min(periods, left))) {", "rent, periods)) {",
           "a renter returns early and rebids over a fresh long term: the series never matures",
           ("economy_schedule",)),
    Mutant("M42", "P6", "stock/RentalMarket.sol",
           "        (uint256 principal, uint256 interest) = _debtAt(assetId, block.timestamp);\n"
           "        _requireRepays(assetId, principal + interest, rent, periods, block.timestamp);\n", "",
           "a rental settled late starts on a bid that no longer repays", ("economy_schedule",)),
    Mutant("M43", "P6", "stock/StockLedger.sol", "uint256 elapsed = (time - _debts[assetId].start) / _period();",
           "uint256 elapsed = (time - _rentals[assetId].start) / _period();",
           "the schedule left restarts with every rental", ("economy_schedule",)),
    Mutant("M44", "P6", "stock/StockLedger.sol", "return elapsed < term ? term - elapsed : 1;",
           "return elapsed < term ? term - elapsed : 0;",
           "past the schedule's end no rental bid can repay: the asset can only be liquidated",
           ("economy_schedule",)),
    # Issue 13: clones, parameters within bounds, terms kept by what exists.
    Mutant("M45", "P12", "CommonStock.sol", "        if (params.graceSeconds == 0 || params.graceSeconds > MAX_DURATION_SECONDS) {",
           "        if (params.graceSeconds > MAX_DURATION_SECONDS) {", "a grace period of 0 accepted",
           ("probe_parameter_bounds",)),
    Mutant("M46", "P12", "Commune.sol",
           "        if (quorumCap_ == 0 || quorumCap_ > MAX_QUORUM_CAP) revert CommuneInvalidParameter(\"quorumCap\", quorumCap_);\n",
           "", "a quorum cap out of bounds accepted (setParameters and initialize skip it)", ("probe_parameter_bounds",)),
    Mutant("M47", "P1", "Commune.sol", "        if (msg.sender != CommuneArgs.factory()) revert CommuneOnlyFactory(msg.sender);\n",
           "", "anyone initialises a fresh membership clone", ("probe_only_factory",)),
    Mutant("M48", "P12", "CommonStock.sol", "        if (msg.sender != CommuneArgs.factory()) revert StockOnlyFactory(msg.sender);\n",
           "", "anyone initialises a fresh common stock clone", ("probe_only_factory",)),
    Mutant("M49", "P11", "stock/BondAuction.sol", "        uint256 cap = asset.rateCapBps;",
           "        uint256 cap = _params.rateCapBps;", "a bond bid checked against the live rate cap, not its asset's",
           ("probe_snapshots",)),
    Mutant("M50", "P11", "stock/StockLedger.sol", "paidPeriods) * period + rental.graceSeconds,",
           "paidPeriods) * period + _params.graceSeconds,", "reclaim under the live grace period, not the rental's",
           ("probe_snapshots",)),
    Mutant("M51", "P11", "stock/StockLedger.sol", "uint256(sale.reserveBps) * steps",
           "uint256(_params.liquidationReserveBps) * steps", "a liquidation's reserve read live, not its own",
           ("probe_snapshots",)),
    # Caught by translation validation of the mutated function's bytecode against its model
    # (verification/bytecode): bugs in code the models describe correctly.
    Mutant("M52", "P3", "Commune.sol", "        if (counted < threshold) revert LabourBelowThreshold",
           "        if (counted <= threshold) revert LabourBelowThreshold", "join refused at exactly the threshold "
           "(off by one)", ("validation",), ("join()",)),
    Mutant("M53", "P3", "Commune.sol", "            _countedLabour[msg.sender] = counted - threshold;",
           "            _countedLabour[tx.origin] = counted - threshold;",
           "join spends the labour of tx.origin, not the caller's (the wrong address)", ("validation",), ("join()",)),
    Mutant("M54", "P1", "Commune.sol", "        roll.memberCount += 1;", "        roll.memberCount = 1;",
           "the member count overwritten on admission instead of added to", ("validation",), ("join()",)),
    Mutant("M55", "P1", "Commune.sol", "        roll.lastShareId = uint64(shareId);",
           "        roll.lastShareId = uint64(shareId - 1);", "the last share id not advanced: the next member "
           "gets the same id (off by one)", ("validation",), ("join()",)),
    Mutant("M56", "P12", "Commune.sol", "        _roll.quorumCap = uint24(quorumCap_);\n", "",
           "a parameter change that keeps the old quorum cap (one field not written)", ("validation",),
           ("setParameters(uint256,uint256)",)),
    Mutant("M57", "P12", "Commune.sol", "quorumCap_ == 0 || quorumCap_ > MAX_QUORUM_CAP",
           "quorumCap_ == 0 || quorumCap_ >= MAX_QUORUM_CAP", "the quorum cap's upper bound refused (off by one)",
           ("validation",), ("setParameters(uint256,uint256)",)),
    Mutant("M58", "P10", "Commune.sol", "        if (msg.sender != governance()) revert CommuneOnlyGovernance",
           "        if (msg.sender != CommuneArgs.factory()) revert CommuneOnlyGovernance",
           "parameters changed by the factory, not governance (a check against the wrong address)",
           ("validation",), ("setParameters(uint256,uint256)",)),
    Mutant("M59", "P1", "Commune.sol", "        if (_roll.memberCount == 1) revert CommuneLastMember",
           "        if (_roll.memberCount == 0) revert CommuneLastMember", "the last member may leave (off by one)",
           ("validation",), ("leave()",)),
    Mutant("M60", "P10", "Commune.sol", "ICommitments(stock_).commitments(msg.sender);",
           "ICommitments(stock_).commitments(tx.origin);", "leave checks tx.origin's commitments, not the caller's "
           "(the wrong address)", ("validation",), ("leave()",)),
    Mutant("M61", "P4", "Commune.sol", "        if (address(treasury_) != address(0)) treasury_.onLeave(member);",
           "        if (address(treasury_) != address(0)) treasury_.onLeave(tx.origin);",
           "the treasury told that tx.origin left, not the member (the wrong address)", ("validation",),
           ("leave()",)),
    Mutant("M62", "P5", "BondSeries.sol", "        uint256 total = totalPaid + amount;",
           "        uint256 total = amount;", "a payment overwrites the series' total paid instead of adding to it",
           ("validation",), ("pay(uint256)",)),
    Mutant("M63", "P5", "BondSeries.sol", "        if (supply > face_) revert BondSeriesFaceExceeded",
           "        if (supply >= face_) revert BondSeriesFaceExceeded", "the last bond of a series refused (off by one)",
           ("validation",), ("mint(address,uint256)",)),
]


@dataclass
class MutantResult:
    mutant: Mutant
    caught_by: str | None
    detail: str

    @property
    def caught(self) -> bool:
        return self.caught_by is not None


#: What the mutants' checks never deploy (the benchmarks' mocks, the factory: probes and conformance
#: deploy the contracts directly), so their builds leave it out.
NOT_DEPLOYED = ("mocks", "probes", "CommuneFactory.sol", "factory", "ICommuneFactoryErrors.sol")

#: Checks that deploy the membership contract alone (its mutants compile only what it imports).
MEMBERSHIP_ONLY = {"conformance", "abi_nonpayable", "validation"}


#: Source files whose code has no contract of its own: it is compiled into the contracts inheriting it.
BASE_CONTRACTS = ("stock/StockLedger.sol",)


def mutated_sources(m: Mutant, root: Path) -> Path:
    """A copy of contracts/ with the mutant's edit; the edit must match exactly once.

    A mutant checked only against the membership contract gets `Commune.sol`, its interfaces and
    the libraries alone, which compiles in about half the time.
    """
    target = root / "contracts"
    if set(m.checks) <= MEMBERSHIP_ONLY and m.file == "Commune.sol":
        (target).mkdir(parents=True)
        shutil.copy(CONTRACTS_DIR / "Commune.sol", target / "Commune.sol")
        shutil.copytree(CONTRACTS_DIR / "interfaces", target / "interfaces")
        shutil.copytree(CONTRACTS_DIR / "libraries", target / "libraries")
    else:  # everything a commune is deployed from
        shutil.copytree(CONTRACTS_DIR, target, ignore=shutil.ignore_patterns(*NOT_DEPLOYED))
    path = target / m.file
    text = path.read_text()
    if text.count(m.find) != 1:
        raise ValueError(f"{m.id}: the text to mutate occurs {text.count(m.find)} times in {m.file}")
    path.write_text(text.replace(m.find, m.replace))
    return target


def compile_mutant(m: Mutant) -> Any:
    """The build a mutant is checked with: the mutated file's contracts compiled without the
    optimizer (the checks test behaviour, which the optimizer preserves; about half the compile),
    every other contract from the project's own build."""
    from vcengine.compiler import CompileResult, load_artifacts

    original = load_artifacts()
    with tempfile.TemporaryDirectory() as tmp:
        contracts = mutated_sources(m, Path(tmp))
        # A library's internal functions, and an abstract base contract's code (StockLedger: the
        # common stock's storage and shared rules), are compiled into the contracts that use them:
        # build them all.
        only = None if m.file.startswith("libraries/") or m.file in BASE_CONTRACTS else f"contracts/{m.file}"
        mutated = load_artifacts(contracts, BUILD_DIR / "mutants", optimize=False, only=only)
    return CompileResult({**original.artifacts, **mutated.artifacts}, mutated.key, mutated.cached, mutated.compiler,
                         mutated.warnings)


@contextlib.contextmanager
def unlimited_code_size() -> Iterator[None]:
    """Lift the embedded chain's EIP-170 code-size limit while a mutant is checked: unoptimized,
    `CommonStock` is about 31 KB. Restored afterwards, so no other check runs without the limit."""
    from eth.vm.forks.spurious_dragon import computation

    limit = computation.EIP170_CODE_SIZE_LIMIT
    computation.EIP170_CODE_SIZE_LIMIT = 2**24
    try:
        yield
    finally:
        computation.EIP170_CODE_SIZE_LIMIT = limit


def _check(m: Mutant, artifacts: Any) -> MutantResult:
    from verification import probes
    from verification.conformance import Divergence, run_conformance

    for check in m.checks:
        if check in ("economy_conformance", "economy_schedule"):
            from verification.economy_conformance import run_economy_conformance, schedule_opening

            # economy_schedule: the re-rental schedule's branches alone, on a fresh commune
            opening = schedule_opening(1) if check == "economy_schedule" else None
            try:
                run_economy_conformance(0, 0, artifacts=artifacts, opening=opening)
            except Divergence as exc:
                return MutantResult(m, check, str(exc))
            except Exception as exc:  # a mutant may break deployment itself
                return MutantResult(m, check, f"{type(exc).__name__}: {exc}")
        elif check == "validation":
            from verification.bytecode.run import validate_mutant

            try:
                refuted = validate_mutant(m.file, artifacts, m.validate or None)
            except Exception as exc:  # a mutant may break the validator's reading of the code
                return MutantResult(m, check, f"{type(exc).__name__}: {exc}")
            if refuted:
                return MutantResult(m, check, refuted)
        elif check == "conformance":
            for seed in range(CONFORMANCE_SEEDS):
                try:
                    run_conformance(seed, CONFORMANCE_STEPS, artifacts=artifacts)
                except Divergence as exc:
                    return MutantResult(m, "conformance", str(exc))
                except Exception as exc:  # a mutant may break deployment itself
                    return MutantResult(m, "conformance", f"{type(exc).__name__}: {exc}")
        else:
            probe: Callable[[Any], None] = getattr(probes, check)
            try:
                probe(artifacts)
            except AssertionError as exc:
                return MutantResult(m, check, str(exc) or "assertion failed")
            except Exception as exc:
                return MutantResult(m, check, f"{type(exc).__name__}: {exc}")
    return MutantResult(m, None, "survived every check")


def check_mutant(m: Mutant) -> MutantResult:
    """Compile one mutant and run its checks."""
    artifacts = compile_mutant(m)
    with unlimited_code_size():
        return _check(m, artifacts)


def run_mutants(mutants: list[Mutant] | None = None, workers: int = 2) -> list[MutantResult]:
    """Compile and check every mutant, `workers` at a time. Returns one result per mutant, in order."""
    return start_mutants(mutants, workers)()


def start_mutants(mutants: list[Mutant] | None = None, workers: int = 2) -> Callable[[], list[MutantResult]]:
    """Start compiling and checking every mutant in `workers` background processes, and return the
    function that waits for their results (one per mutant, in order). `vc verify` proves and runs
    conformance in the meantime, so the machine's cores are busy from the start."""
    mutants = mutants or MUTANTS
    pool = ProcessPoolExecutor(max_workers=workers)
    futures = [pool.submit(check_mutant, m) for m in mutants]

    def results() -> list[MutantResult]:
        try:
            return [f.result() for f in futures]
        finally:
            pool.shutdown(cancel_futures=True)

    return results
