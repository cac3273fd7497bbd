"""Running `vc` in process (click's CliRunner on the real `vcengine.cli:main`) in a sandbox."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner, Result

from vcengine import networks
from vcengine.cli import main


@contextmanager
def sandbox(tmp: Path, network: str = "tester") -> Iterator[None]:
    """HOME, XDG_CONFIG_HOME, the working directory and the state folder inside ``tmp``; a fresh
    embedded chain. Nothing is written outside ``tmp``."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("VC_KEYSTORE_DIR", "VC_STATE_DIR", "VC_DEPLOYMENTS_DIR", "VC_PASSWORD", "VC_ACCOUNT",
                    "VC_NODE_PORT", "VC_PRIVATE_KEY"):
            mp.delenv(var, raising=False)
        mp.setenv("HOME", str(tmp / "home"))
        mp.setenv("XDG_CONFIG_HOME", str(tmp / "config"))
        mp.setenv("VC_NETWORK", network)
        mp.chdir(tmp)
        networks.reset_tester()
        try:
            yield
        finally:
            networks.reset_tester()


def vc(*args: str, input: str | None = None) -> Result:
    """``vc ARGS`` in this process; the embedded chain is shared between calls."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def last_json(result: Result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def ok(*args: str) -> dict:
    """Run ``vc ARGS --json``, assert exit 0, return the JSON last line."""
    result = vc(*args, "--json")
    assert result.exit_code == 0, result.output
    return last_json(result)
