"""Shared fixtures: one embedded chain per session, reset to a snapshot around every test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from vcengine.chains import Chain, TesterChain
from vcengine.commune import CommuneClient
from vcengine.compiler import CompileResult, load_artifacts

# Property tests run a small, fixed (derandomized) set of examples by default, so that CI runs what
# developers ran; VC_HYPOTHESIS_PROFILE=long runs many more, randomly, for long runs.
settings.register_profile("default", max_examples=8, stateful_step_count=20, deadline=None, derandomize=True)
settings.register_profile("long", max_examples=300, stateful_step_count=60, deadline=None)
settings.load_profile(os.environ.get("VC_HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def artifacts() -> CompileResult:
    return load_artifacts()


@pytest.fixture(scope="session")
def session_chain(artifacts: CompileResult) -> Iterator[Chain]:
    """The embedded chain, with the code every commune clones deployed once (before any snapshot, so
    each test's revert keeps it)."""
    from vcengine.deploy import chain_factory

    chain = TesterChain()
    chain_factory(chain, chain.accounts[0], artifacts)
    yield chain
    chain.close()


@pytest.fixture
def chain(session_chain: Chain) -> Iterator[Chain]:
    """The session chain, returned to its state before the test afterwards."""
    snap = session_chain.snapshot()
    yield session_chain
    session_chain.revert(snap)


@pytest.fixture
def accounts(chain: Chain):
    return chain.accounts


@pytest.fixture
def commune(chain: Chain, artifacts: CompileResult) -> CommuneClient:
    """Founders accounts[0..2], threshold 10 units, quorum cap 2."""
    founders = [a.address for a in chain.accounts[:3]]
    return CommuneClient.deploy(chain, chain.accounts[0], founders=founders, labour_threshold=10,
                                quorum_cap=2, artifacts=artifacts)


# ------------------------------------------------------------------ economy

UNIT = 10**6  # TestStablecoin has 6 decimals


@pytest.fixture(scope="session")
def session_deployment(session_chain: Chain, artifacts: CompileResult):
    """A commune (founders accounts[0..2]) with its token and common stock, deployed once per session.

    accounts[3..9] are funded with 1,000,000 tokens each. accounts[10] is the vendor.
    """
    from vcengine.deploy import CommuneParams, deploy_commune

    chain = session_chain
    founders = [a.address for a in chain.accounts[:3]]
    deployment = deploy_commune(chain, chain.accounts[0], CommuneParams(founders=founders, quorum_cap=2),
                                artifacts=artifacts)
    for acct in chain.accounts[:10]:
        deployment.test_token.faucet(acct.address, 1_000_000 * UNIT, sender=acct)
    return deployment


@pytest.fixture
def deployment(session_deployment, chain):
    """The session commune, returned to its deployed state after the test."""
    return session_deployment
