"""Compile the commune's Solidity sources with one pinned solc release, cached by content hash.

The compiler input is a self-contained standard-JSON document: every source unit, the project's
own and the OpenZeppelin files it imports from ``node_modules``, is embedded by content. The same
document goes to a native ``solc`` through py-solc-x when one of the pinned release is installed
(found by py-solc-x, or named by ``VC_SOLC``), and otherwise to the official solc-js build from
``node_modules/solc``. Both produce identical artifacts because they get identical input.

Artifacts are cached under ``build/artifacts/<key>.json`` where ``key`` hashes the input document
and the compiler release, so a warm load reads one JSON file and never starts a compiler.

Example::

    >>> from vcengine.compiler import load_artifacts
    >>> arts = load_artifacts()
    >>> arts["Commune"].abi[0]["type"]
    'constructor'
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from vcengine.paths import BUILD_DIR, CONTRACTS_DIR, NODE_MODULES, PROJECT_ROOT

#: The one Solidity release this project compiles with (pinned in package.json too).
SOLC_VERSION = "0.8.30"
#: The EVM version compiled for: run by both eth-tester (py-evm) and anvil.
EVM_VERSION = "cancun"
#: Optimizer runs: tuned for cheap calls, since members pay for calls far more often than deploys,
#: within EIP-170: CommonStock's runtime is 25.1 KB at 10,000 runs (over the 24,576-byte limit) and
#: 22.7 KB at 1,000, for a few hundred gas more per call (README, "Performance").
OPTIMIZER_RUNS = 1_000

OUTPUT_SELECTION = {
    "*": {
        "*": [
            "abi",
            "evm.bytecode.object",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.immutableReferences",
            "evm.methodIdentifiers",
            "storageLayout",
            "devdoc",
            "userdoc",
            "metadata",
        ]
    }
}

_IMPORT_RE = re.compile(r"""^\s*import\s+(?:[^'";]*?\bfrom\s+)?["']([^"']+)["']\s*;""", re.MULTILINE)


class CompilerError(Exception):
    """Solidity refused the sources. ``messages`` are ``file:line:col: Kind: message`` strings."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("Solidity compilation failed:\n" + "\n".join(messages))


class CompilerNotFound(Exception):
    """Neither a native solc of the pinned release nor solc-js is available."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: what deployment, clients and verification read."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    storage_layout: dict[str, Any]
    method_identifiers: dict[str, str] = field(default_factory=dict)
    devdoc: dict[str, Any] = field(default_factory=dict)
    userdoc: dict[str, Any] = field(default_factory=dict)
    #: The compiler's metadata JSON, byte for byte as solc wrote it (its keccak256 and IPFS hash
    #: are what Sourcify checks; it embeds the settings, the sources' hashes and the NatSpec).
    metadata: str = ""
    #: Where the runtime code holds each immutable (AST id -> [{"start", "length"}], in bytes):
    #: those bytes are zero in ``deployed_bytecode`` and set by the constructor on chain.
    immutable_references: dict[str, list[dict[str, int]]] = field(default_factory=dict)

    @property
    def compiler_version(self) -> str:
        """The full compiler version of the build, as explorers ask for it: ``0.8.30+commit.73712a01``."""
        return json.loads(self.metadata)["compiler"]["version"] if self.metadata else ""


@dataclass(frozen=True)
class CompileResult:
    """All artifacts of one compilation, and how they were obtained."""

    artifacts: dict[str, Artifact]
    key: str
    cached: bool
    compiler: str
    warnings: list[str]

    def __getitem__(self, name: str) -> Artifact:
        try:
            return self.artifacts[name]
        except KeyError:
            known = ", ".join(sorted(self.artifacts))
            raise KeyError(f"no compiled contract named {name!r}; known contracts: {known}") from None


# ----------------------------------------------------------------------------- sources


def _resolve_import(importer: str, path: str) -> str:
    """Source unit name of ``path`` imported from source unit ``importer``."""
    if path.startswith("./") or path.startswith("../"):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    return posixpath.normpath(path)


def _read_unit(unit: str, contracts_dir: Path) -> str:
    """Content of a source unit: ``contracts/...`` from the project, anything else from node_modules."""
    if unit.startswith("contracts/"):
        file = contracts_dir / unit[len("contracts/") :]
    else:
        file = NODE_MODULES / unit
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = "" if unit.startswith("contracts/") else " (run `npm ci` in the project root to install it)"
        raise CompilerError([f"{unit}: imported source not found at {file}{hint}"]) from None


def collect_sources(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, str]:
    """Every source unit the contracts need, keyed by source unit name, imports followed transitively."""
    roots = sorted(
        "contracts/" + p.relative_to(contracts_dir).as_posix() for p in contracts_dir.rglob("*.sol")
    )
    sources: dict[str, str] = {}
    pending = list(roots)
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _read_unit(unit, contracts_dir)
        sources[unit] = text
        pending.extend(_resolve_import(unit, imp) for imp in _IMPORT_RE.findall(text))
    return dict(sorted(sources.items()))


def standard_json_input(sources: dict[str, str], optimize: bool = True, only: str | None = None) -> dict[str, Any]:
    """The standard-JSON compiler input for ``sources`` (identical for native solc and solc-js).

    ``optimize=False`` is for throwaway builds whose behaviour, not their gas, matters (the
    verification layer's mutants): the same semantics in about half the compile time. ``only`` (a
    source unit such as ``contracts/Treasury.sol``) generates code for that file's contracts alone;
    the others are still parsed and type-checked.
    """
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": {"enabled": optimize, "runs": OPTIMIZER_RUNS},
            "viaIR": False,
            "metadata": {"bytecodeHash": "none"},
            "outputSelection": OUTPUT_SELECTION if only is None else {only: OUTPUT_SELECTION["*"]},
        },
    }


def build_input(contracts_dir: Path = CONTRACTS_DIR, optimize: bool = True, only: str | None = None) -> dict[str, Any]:
    """The exact standard-JSON input of the build of ``contracts_dir`` (what :func:`load_artifacts`
    compiles and keys its cache by). Explorers accept it as it is for source verification."""
    return standard_json_input(collect_sources(contracts_dir), optimize, only)


def cache_key(std_input: dict[str, Any]) -> str:
    """Hash of the compiler input (sources and settings) and the compiler release."""
    blob = json.dumps({"solc": SOLC_VERSION, "input": std_input}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


# ---------------------------------------------------------------------------- backends

Backend = Callable[[dict[str, Any]], dict[str, Any]]


def _native_solc() -> Path | None:
    """A native solc binary of exactly SOLC_VERSION, if one is installed."""
    named = os.environ.get("VC_SOLC")
    candidates: list[Path] = []
    if named:
        candidates.append(Path(named))
    try:
        import solcx

        try:
            candidates.append(Path(solcx.install.get_executable(SOLC_VERSION)))
        except Exception:  # not installed by py-solc-x; the system one may still be right
            pass
    except ImportError:  # pragma: no cover - py-solc-x is a dependency
        pass
    system = shutil.which("solc")
    if system:
        candidates.append(Path(system))
    for path in candidates:
        if path.is_file() and _solc_release(path) == SOLC_VERSION:
            return path
    if named:
        raise CompilerNotFound(f"VC_SOLC names {named}, which is not solc {SOLC_VERSION}.")
    return None


def _solc_release(path: Path) -> str | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"Version:\s*(\d+\.\d+\.\d+)", out)
    return match.group(1) if match else None


def _solcjs_release() -> str | None:
    pkg = NODE_MODULES / "solc" / "package.json"
    if not pkg.is_file():
        return None
    return json.loads(pkg.read_text())["version"]


def _compile_native(path: Path) -> Backend:
    def run(std_input: dict[str, Any]) -> dict[str, Any]:
        import solcx

        return solcx.compile_standard(std_input, solc_binary=path, allow_empty=True)

    return run


_SOLCJS_DRIVER = (
    "const solc = require(process.argv[1]);"
    "let input = '';"
    "process.stdin.setEncoding('utf8');"
    "process.stdin.on('data', c => input += c);"
    "process.stdin.on('end', () => process.stdout.write(solc.compile(input)));"
)


def _compile_solcjs(std_input: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise CompilerNotFound("Node.js is needed to run solc-js: install Node.js 18 or newer.")
    proc = subprocess.run(
        [node, "-e", _SOLCJS_DRIVER, str(NODE_MODULES / "solc")],
        input=json.dumps(std_input),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    if proc.returncode != 0:
        raise CompilerError([f"solc-js failed: {proc.stderr.strip()}"])
    return json.loads(proc.stdout)


def select_backend() -> tuple[str, Backend]:
    """The compiler to use: native solc of the pinned release first, then solc-js from node_modules."""
    native = _native_solc()
    if native is not None:
        return f"solc {SOLC_VERSION} (native, {native})", _compile_native(native)
    release = _solcjs_release()
    if release == SOLC_VERSION:
        return f"solc-js {SOLC_VERSION}", _compile_solcjs
    found = f" (node_modules has solc-js {release})" if release else ""
    raise CompilerNotFound(
        f"No Solidity compiler {SOLC_VERSION} found{found}: run `npm ci` in {PROJECT_ROOT} "
        f"to install solc-js {SOLC_VERSION}, or install a native solc {SOLC_VERSION} and set VC_SOLC to its path."
    )


# ------------------------------------------------------------------------------ output


def _format_error(err: dict[str, Any], sources: dict[str, str]) -> str:
    loc = err.get("sourceLocation")
    where = ""
    if loc and loc.get("file") in sources and loc.get("start", -1) >= 0:
        text = sources[loc["file"]]
        start = loc["start"]
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        where = f"{loc['file']}:{line}:{col}: "
    elif loc and loc.get("file"):
        where = f"{loc['file']}: "
    return f"{where}{err.get('type', 'Error')}: {err.get('message', '').strip()}"


def _artifacts_from_output(output: dict[str, Any]) -> dict[str, Artifact]:
    artifacts: dict[str, Artifact] = {}
    for unit, contracts in output.get("contracts", {}).items():
        if not unit.startswith("contracts/"):
            continue  # library sources are compiled only as dependencies
        for name, data in contracts.items():
            if name in artifacts:
                raise CompilerError([f"{unit}: contract name {name} is also defined in {artifacts[name].source}"])
            evm = data.get("evm", {})
            artifacts[name] = Artifact(
                name=name,
                source=unit,
                abi=data.get("abi", []),
                bytecode="0x" + evm.get("bytecode", {}).get("object", ""),
                deployed_bytecode="0x" + evm.get("deployedBytecode", {}).get("object", ""),
                storage_layout=data.get("storageLayout") or {},
                method_identifiers=evm.get("methodIdentifiers", {}),
                devdoc=data.get("devdoc", {}),
                userdoc=data.get("userdoc", {}),
                metadata=data.get("metadata", ""),
                immutable_references=evm.get("deployedBytecode", {}).get("immutableReferences") or {},
            )
    return artifacts


def compile_sources(
    sources: dict[str, str], backend: Backend | None = None, compiler: str | None = None, optimize: bool = True,
    only: str | None = None,
) -> tuple[dict[str, Artifact], list[str]]:
    """Compile ``sources`` (not cached). Returns artifacts and warning messages; raises CompilerError."""
    if backend is None:
        compiler, backend = select_backend()
    output = backend(standard_json_input(sources, optimize, only))
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilerError([_format_error(e, sources) for e in errors])
    warnings = [
        _format_error(e, sources)
        for e in output.get("errors", [])
        if e.get("severity") == "warning" and str(e.get("sourceLocation", {}).get("file", "")).startswith("contracts/")
    ]
    return _artifacts_from_output(output), warnings


def load_artifacts(
    contracts_dir: Path = CONTRACTS_DIR, build_dir: Path = BUILD_DIR, backend: Backend | None = None,
    optimize: bool = True, only: str | None = None,
) -> CompileResult:
    """Artifacts of every contract under ``contracts_dir``, from the cache when the sources are unchanged."""
    sources = collect_sources(contracts_dir)
    key = cache_key(standard_json_input(sources, optimize, only))
    cache_file = build_dir / "artifacts" / f"{key}.json"
    if cache_file.is_file():
        data = json.loads(cache_file.read_text())
        artifacts = {name: Artifact(**fields) for name, fields in data["artifacts"].items()}
        return CompileResult(artifacts, key, True, data["compiler"], data["warnings"])

    compiler = "custom backend"
    if backend is None:
        compiler, backend = select_backend()
    artifacts, warnings = compile_sources(sources, backend, optimize=optimize, only=only)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
    payload = {
        "compiler": compiler,
        "warnings": warnings,
        "artifacts": {name: art.__dict__ for name, art in artifacts.items()},
    }
    tmp.write_text(json.dumps(payload))
    tmp.replace(cache_file)  # atomic: a concurrent reader sees the whole file or none
    return CompileResult(artifacts, key, False, compiler, warnings)
