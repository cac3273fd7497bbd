"""Where the project's files are: the contracts, node_modules and the build folder.

The package is installed in editable mode from the project root, so the root is the parent of
this package unless ``VC_PROJECT_ROOT`` names another one.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("VC_PROJECT_ROOT", Path(__file__).resolve().parent.parent))
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
NODE_MODULES = PROJECT_ROOT / "node_modules"
BUILD_DIR = Path(os.environ.get("VC_BUILD_DIR", PROJECT_ROOT / "build"))
