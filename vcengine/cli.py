"""The ``vc`` command line.

Exit status: 0 on success, 1 when the chain refused something or a demo step failed, 2 for bad
input or environment caught before anything was sent, 130 when interrupted (what was sent and is
still pending is named), 3 from ``vc node status`` when no node runs. With ``--json`` the last line
of stdout is one JSON object.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from typing import Any, Callable

import click
from rich.console import Console
from requests.exceptions import RequestException
from rich.markup import escape

from vcengine.chains import ChainError, connect
from vcengine.client import ContractReverted, InputError
from vcengine.compiler import CompilerError, CompilerNotFound, load_artifacts


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    raise TypeError(f"cannot encode {type(value).__name__}")


def emit_json(obj: dict[str, Any]) -> None:
    """Print ``obj`` as one JSON line on stdout."""
    click.echo(json.dumps(obj, default=_json_default, separators=(",", ":")))


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the engine's exceptions into one clear message and the documented exit status.

    With ``--json`` the failure is also the JSON last line: ``{"ok": false, "error": ..., "kind": ...}``.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        as_json = bool(kwargs.get("as_json"))

        def fail(status: int, kind: str, message: str, extra: dict[str, Any] | None = None) -> None:
            if as_json:
                emit_json({"ok": False, "kind": kind, "error": message, **_session_txs(), **(extra or {})})
            sys.exit(status)

        from vcengine.commands import common

        common.CURRENT = None  # a session of an earlier command in this process is not this one's
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err.print(f"[red]error:[/] {escape(str(exc))}")
            fail(2, "bad_input", str(exc))
        except ContractReverted as exc:
            why = explain_error(exc.name)
            shown, args = _shown_revert(exc)
            err.print(f"[red]refused:[/] {escape(shown)}" + (f"\n  {escape(why)}" if why else ""))
            fail(1, "reverted", shown, {"revert": {"contract": exc.contract, "function": exc.function,
                                                   "name": exc.name, "args": args, "why": why,
                                                   "tx_hash": exc.tx_hash}})
        except (ChainError, CompilerNotFound) as exc:
            err.print(f"[red]error:[/] {escape(str(exc))}")
            fail(2, "chain", str(exc))
        except CompilerError as exc:
            err.print(f"[red]compile error:[/]\n" + escape("\n".join(exc.messages)))
            fail(1, "compile", "\n".join(exc.messages))
        except (ConnectionError, RequestException) as exc:  # the node went away mid-command
            from vcengine.chains import connection_problem

            pending = _pending_note()
            message = (f"lost the connection to the node ({connection_problem(exc)}). "
                       + (pending.removeprefix("; ") if pending else "Nothing more was sent")
                       + "; check the node with `vc node status`")
            err.print(f"[red]error:[/] {escape(message)}")
            fail(2, "chain", message, _session_txs())
        except click.Abort as exc:
            if not isinstance(exc.__context__, KeyboardInterrupt):  # end of input at a prompt: bad input
                message = "no answer to a prompt (end of input): give the value as an option or variable"
                err.print(f"[red]error:[/] {escape(message)}")
                fail(2, "bad_input", message)
            _interrupted(err, fail)
        except KeyboardInterrupt:
            _interrupted(err, fail)
        except (click.ClickException, click.exceptions.Exit):
            raise  # click's own: its message and status
        except Exception as exc:  # anything else the node or a library raised: one line, and what was sent
            message = f"{type(exc).__name__}: {exc}" + _pending_note()
            sent = _session_txs().get("transactions", [])
            if sent:
                message += "; already sent: " + ", ".join(f"{t['action']} {t['hash']}" for t in sent)
            err.print(f"[red]error:[/] {escape(message)}")
            fail(1, "error", message)
        finally:
            session = common.CURRENT
            if session is not None and session._status is not None:  # a spinner left by an error
                session._status.stop()
                session._status = None
            if session is not None and session._chain is not None and session._chain.observer is session:
                session._chain.observer = None  # the embedded chain outlives the command in this process

    return wrapper


def _shown_revert(exc: ContractReverted) -> tuple[str, dict[str, Any]]:
    """The revert as people read it (amounts, times, enum names, named addresses) and its --json args."""
    from vcengine.commands import common
    from vcengine.display import Display

    session = common.CURRENT
    display = Display()
    try:
        if session is not None:
            display = session.display
    except Exception:  # formatting must never hide the error itself
        pass
    if not exc.name and not exc.args_dict:
        return str(exc), {}
    where = f" in transaction {exc.tx_hash}" if exc.tx_hash else ""
    shown = f"{exc.contract}.{exc.function} reverted{where}: {exc.name}({display.args(exc.name, exc.args_dict)})"
    return shown, display.json_args(exc.name, exc.args_dict)


def _interrupted(err: Console, fail: Callable[..., None]) -> None:
    """Ctrl-C: name what was sent and is still pending, and what was mined; exit 130."""
    report = _session_txs()
    lines = ["interrupted"]
    for p in report.get("pending", []):
        how = "being sent when interrupted (the node may have it)" if p.get("maybe") else "sent and still pending"
        lines.append(f"  {how}: {p['action']} {p['hash']} (it may still be mined: `vc tx {p['hash']}`)")
    for t in report.get("transactions", []):
        lines.append(f"  mined: {t['action']} {t['hash']} (block {t['block']})")
    if len(lines) == 1:
        lines.append("  nothing was sent")
    err.print(escape("\n".join(lines)))
    fail(130, "interrupted", "interrupted", report)


def _session_txs() -> dict[str, Any]:
    from vcengine.commands import common

    session = common.CURRENT
    return session.interrupted() if session is not None else {}


def _pending_note() -> str:
    pending = _session_txs().get("pending", [])
    if not pending:
        return ""
    return "; sent (or being sent) and not yet known to be mined: " + ", ".join(
        f"{p['action']} {p['hash']}" for p in pending)


def explain_error(name: str) -> str:
    """The NatSpec notice of custom error ``name`` (``Thrown when ...``), in plain words, or ""."""
    if not name:
        return "The call was refused without a reason (for example, ETH sent to a contract that accepts none)."
    try:
        artifacts = load_artifacts()
    except Exception:  # explaining must never hide the error itself
        return ""
    for artifact in artifacts.artifacts.values():
        for signature, docs in (artifact.userdoc.get("errors") or {}).items():
            if signature.split("(")[0] == name and docs and docs[0].get("notice"):
                return docs[0]["notice"]
    return ""


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on the last line of stdout.")
chain_option = click.option(
    "--chain",
    default="tester",
    show_default=True,
    envvar="VC_CHAIN",
    help="'tester' (embedded eth-tester), 'anvil' (start a local node) or a JSON-RPC URL.",
)


class WholeNumber(click.ParamType):
    """An integer written in plain digits (``12``, ``-5``): ``1e3``, ``1_000``, ``12.0``, ``NaN`` and
    ``inf`` are refused with the accepted format named. The sign is accepted so that a negative
    value reaches the command's own check ("must be 1 or more"), which names the rule."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"[-+]?[0-9]+", text):
            self.fail(f"{value!r} is not a valid integer: write it in plain digits, such as 12 "
                      "(no exponent, '.', '_' or ',')", param, ctx)
        return int(text)


WHOLE_NUMBER = WholeNumber()
#: A command-line token that looks like a negative number (``-5``, ``-0.5``, ``-.5``, ``-1e3``,
#: ``-inf``, ``-nan``): no vc option starts with a digit or a '.', or is spelled so, so such a token is
#: always a value, never an option.
_NEGATIVE_NUMBER = re.compile(r"-([0-9.].*|inf|infinity|nan)", re.IGNORECASE)
#: Hides a negative number's '-' from click's option parser for the length of one parse.
_HIDDEN = "\x00"


def _unhide(value: Any) -> Any:
    if isinstance(value, str):
        return value[len(_HIDDEN):] if value.startswith(_HIDDEN) else value
    if isinstance(value, (list, tuple)):
        return type(value)(_unhide(v) for v in value)
    if isinstance(value, dict):
        return {k: _unhide(v) for k, v in value.items()}
    return value


def _numbers_as_values(command: click.Command) -> None:
    """Make every command under ``command`` read numbers the same way: a token such as ``-5`` is
    an argument (or an option's value), never an unknown option, so ``vc assets bid 1 -5`` gets the
    command's "must be more than zero" rather than click's "No such option: -5"; and every integer
    parameter is a :class:`WholeNumber`. Done once per command, when LazyGroup first hands it out."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _numbers_as_values(sub)
        return
    if getattr(command, "_vc_numbers_as_values", False):
        return
    command._vc_numbers_as_values = True  # type: ignore[attr-defined]
    for param in command.params:
        if param.type is click.INT:
            param.type = WHOLE_NUMBER
    make_parser = command.make_parser

    def make_number_parser(ctx: click.Context) -> Any:
        parser = make_parser(ctx)
        parse = parser.parse_args

        def parse_args(args: list[str]) -> Any:
            shown = [_HIDDEN + a if _NEGATIVE_NUMBER.fullmatch(a) else a for a in args]
            opts, rest, order = parse(shown)
            return _unhide(opts), _unhide(rest), order

        parser.parse_args = parse_args  # type: ignore[method-assign]
        return parser

    command.make_parser = make_number_parser  # type: ignore[method-assign]


class LazyGroup(click.Group):
    """A group whose command modules are imported only when used (``vc --help`` stays fast).

    Every command it hands out reads numbers one way (:func:`_numbers_as_values`): ``-5`` is a value,
    and integers are plain digits.
    """

    LAZY = {
        "node": "vcengine.commands.node:node",
        "accounts": "vcengine.commands.accounts:accounts",
        "deploy": "vcengine.commands.deploy:deploy",
        "labour": "vcengine.commands.labour:labour",
        "assets": "vcengine.commands.assets:assets",
        "payout": "vcengine.commands.money:payout",
        "bonds": "vcengine.commands.money:bonds",
        "balance": "vcengine.commands.money:balance",
        "faucet": "vcengine.commands.money:faucet",
        "status": "vcengine.commands.status:status",
        "bids": "vcengine.commands.inspect:bids",
        "tx": "vcengine.commands.inspect:tx",
        "keeper": "vcengine.commands.keeper:keeper",
        "abi": "vcengine.commands.abi:abi",
        "bench": "vcengine.bench.cli:bench",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.LAZY:
            import importlib

            module, attr = self.LAZY[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _numbers_as_values(command)
        return command

    def main(self, args: Any = None, *rest: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """Click's own refusals (an unknown option, a value of the wrong type) are bad input too:
        exit 2 and, with ``--json``, the same ``{"ok": false, ...}`` last line as every other error."""
        if not standalone_mode:
            return super().main(args, *rest, standalone_mode=False, **kwargs)
        argv = list(args) if args is not None else sys.argv[1:]
        try:
            result = super().main(argv, *rest, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            exc.show()
            if "--json" in argv:
                emit_json({"ok": False, "kind": "bad_input" if exc.exit_code == 2 else "error",
                           "error": exc.format_message()})
            sys.exit(exc.exit_code)
        except click.Abort as exc:
            click.echo("Aborted!", err=True)
            interrupted = isinstance(exc.__context__, KeyboardInterrupt) or isinstance(exc.__cause__, KeyboardInterrupt)
            if "--json" in argv:
                emit_json({"ok": False, "kind": "interrupted" if interrupted else "bad_input",
                           "error": "interrupted" if interrupted else "no answer to a prompt (end of input)"})
            sys.exit(130 if interrupted else 2)
        sys.exit(result if isinstance(result, int) else 0)  # an Exit (e.g. after --help) returns its code


@click.group(cls=LazyGroup)
@click.version_option(package_name="vcengine")
def main() -> None:
    """Venture commune engine: deploy and run a commune owned equally by its workers.

    Networks: --network tester (embedded, lives in this process only), local (`vc node start`), or
    any name from vc.toml; VC_NETWORK sets the default. Exit status: 0 ok, 1 the chain refused,
    2 bad input or environment (nothing was sent), 130 interrupted; `vc node status` 3 when no node
    runs. A command that would be refused sends nothing, not even an approval.
    """


@main.command()
@json_option
@handle_errors
def compile(as_json: bool) -> None:  # noqa: A001 - the verb users expect
    """Compile the contracts (a cached build is reused when nothing changed)."""
    result = load_artifacts()
    if as_json:
        emit_json({"compiler": result.compiler, "cached": result.cached, "key": result.key,
                   "contracts": sorted(result.artifacts), "warnings": result.warnings})
        return
    how = "cached build" if result.cached else "compiled"
    click.echo(f"{how}: {len(result.artifacts)} contracts with {result.compiler} (key {result.key})")
    for warning in result.warnings:
        click.echo(f"warning: {warning}")


@main.command()
@chain_option
@json_option
@handle_errors
def demo(chain: str, as_json: bool) -> None:
    """Found a commune, admit a worker by labour, and show capital failing to buy a share."""
    from vcengine.demo import run_demo

    console = Console(highlight=False, soft_wrap=True)
    artifacts = load_artifacts()
    with connect(chain) as ch:
        report = run_demo(ch, say=console.print, artifacts=artifacts)
    console.print(f"ok: {'true' if report.ok else 'false'}")
    if as_json:
        emit_json(report.to_json())
    if not report.ok:
        sys.exit(1)


@main.command()
@click.option("--no-mutants", is_flag=True, help="Skip the seeded mutants (proofs, coverage and conformance only).")
@click.option("--no-smtchecker", is_flag=True, help="Skip the SMTChecker second line.")
@click.option("--runs", default=3, show_default=True, help="Conformance runs of the membership contract.")
@click.option("--steps", default=40, show_default=True, help="Random calls per membership conformance run.")
@click.option("--economy-runs", default=1, show_default=True,
              help="Conformance runs of the common stock, treasury and bond series.")
@click.option("--economy-steps", default=10, show_default=True,
              help="Random calls per economic conformance run (after the scripted opening).")
@click.option("--long", "long_run", is_flag=True,
              help="A long conformance run: 10 runs x 200 calls of each system and 10,000 rules of each "
                   "system's stateful machine (tens of minutes).")
@click.option("--stateful-steps", default=0, show_default=True,
              help="Rules of each system's Hypothesis machine with the models as the oracle (0: skip).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write verification-report.md and verification-report.json into this folder.")
@click.option("--no-validation", is_flag=True,
              help="Skip translation validation (the bytecode against the models; the report says it was not run).")
@click.option("--no-validation-cache", is_flag=True,
              help="Validate again even where build/validation/ holds a result for the same bytecode and model.")
@click.option("--validation-workers", type=click.IntRange(min=1), default=2 if (os.cpu_count() or 1) >= 2 else 1,
              show_default="2 if the machine has 2 cores, else 1", help="Processes validating functions side by side.")
@click.option("--validate", "validate_only", multiple=True, metavar="CONTRACT:FUNCTION",
              help="Validate only this function (repeatable, e.g. 'Commune:leave()'); the contract's other "
                   "functions are reported as skipped.")
@click.option("--allow-unvalidated", is_flag=True,
              help="Pass although some functions are not validated (no specification yet, or skipped): the "
                   "report says how many and marks itself incomplete.")
@json_option
@handle_errors
def verify(no_mutants: bool, no_smtchecker: bool, runs: int, steps: int, economy_runs: int, economy_steps: int,
           long_run: bool, stateful_steps: int, out_dir: str | None, no_validation: bool, no_validation_cache: bool,
           validation_workers: int, validate_only: tuple[str, ...], allow_unvalidated: bool, as_json: bool) -> None:
    """Prove P1 to P12 with Z3, check model coverage, conformance and the bytecode against the models,
    and catch every seeded mutant."""
    from rich.table import Table

    from verification.report import verify as run_verify

    if long_run:
        runs, steps, economy_runs, economy_steps = 10, 200, 10, 200
        stateful_steps = max(stateful_steps, 10_000)
    subset: dict[str, tuple[str, ...]] | None = None
    for item in validate_only:
        contract, sep, function = item.partition(":")
        if not sep or not contract or not function:
            raise click.BadParameter(f"{item!r}: write CONTRACT:FUNCTION, such as Commune:leave()",
                                     param_hint="--validate")
        subset = subset or {}
        subset[contract] = subset.get(contract, ()) + (function,)
    if subset is not None and not no_validation:
        from verification.bytecode.run import resolve_subset

        try:
            resolve_subset(load_artifacts(), subset)
        except ValueError as exc:
            raise InputError(f"--validate: {exc}") from None
    console = Console(highlight=False, soft_wrap=True)
    report = run_verify(load_artifacts(), say=console.print, conformance_runs=runs, conformance_steps=steps,
                        economy_runs=economy_runs, economy_steps=economy_steps, mutants=not no_mutants,
                        smtchecker=not no_smtchecker, validation=not no_validation,
                        validation_cache=not no_validation_cache, validation_workers=validation_workers,
                        validation_functions=subset, allow_unvalidated=allow_unvalidated,
                        stateful_steps=stateful_steps)
    table = Table(title="Properties")
    for column in ("property", "name", "contract (methods modelled)", "result", "code (functions validated)",
                   "time (s)"):
        table.add_column(column, justify="right" if column == "time (s)" else "left")
    for row in report.properties():
        table.add_row(row["id"], row["name"], ", ".join(f"{c} {n}" for c, n in row["method_coverage"].items()),
                      row["status"], row["code"], f"{row['seconds']:.2f}")
    Console(highlight=False, width=160).print(table)
    if out_dir:
        md, js = report.write(out_dir)
        console.print(f"report: {md} and {js}")
    summary = report.to_json()
    mutants = summary["mutants"]
    console.print(f"mutants: {mutants['killed']}/{mutants['total']} caught"
                  + (f" ({mutants['not_run']} not run: only translation validation catches them)"
                     if mutants["not_run"] else ""))
    if report.validation_ran:
        v = summary["validation"]
        validated = sum(c["validated"] for c in v["contracts"].values())
        console.print(f"translation validation: {validated} of {len(v['rows'])} functions validated"
                      + ("" if report.complete else " (incomplete)"))
    console.print(f"ok: {'true' if report.ok else 'false'} ({report.seconds:.1f} s)"
                  + (f": {report.result_line()}" if report.ok and report.unvalidated else ""))
    if as_json:
        emit_json(summary)
    if not report.ok:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
