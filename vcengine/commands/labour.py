"""``vc labour submit|attest|join|leave``: earning a share by attested labour, and giving it back."""

from __future__ import annotations

from pathlib import Path

import click

from vcengine.cli import handle_errors
from vcengine.client import InputError
from vcengine.commands.common import Session, actor_options, check_id, confirm


@click.group()
def labour() -> None:
    """Labour claims, attestations, joining and leaving (one share per member, earned by labour)."""


@labour.command()
@click.argument("units", type=int)
@click.option("--evidence", required=True, help="A hash or URI that lets members check the work.")
@actor_options
@handle_errors
def submit(units: int, evidence: str, network_name: str, account: str | None, account_index: int | None,
           password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Submit a labour claim of UNITS for yourself."""
    check_id(units, "UNITS (labour units)")
    if not evidence.strip():
        raise InputError("--evidence must not be empty: members need a hash or URI to check the work")
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    sender = s.signer(account, account_index, password_file)
    result = d.commune.submit_labour(units, evidence, sender=sender)
    s.report_tx("submit labour", result.tx)
    s.say(f"labour claim {result.claim_id}: {units} units by {sender.address}; "
          f"it counts after {d.commune.quorum()} attestation(s) by members")
    s.finish({"claim_id": result.claim_id, "units": units, "worker": sender.address})


@labour.command()
@click.argument("claim_id", type=int)
@actor_options
@handle_errors
def attest(claim_id: int, network_name: str, account: str | None, account_index: int | None,
           password_file: Path | None, commune_address: str | None, as_json: bool) -> None:
    """Attest labour claim CLAIM_ID as a member."""
    check_id(claim_id, "CLAIM_ID")
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    sender = s.signer(account, account_index, password_file)
    result = d.commune.attest(claim_id, sender=sender)
    s.report_tx("attest", result.tx)
    claim = d.commune.labour_claim(claim_id)
    s.say(f"claim {claim_id}: {result.attestations} attestation(s)"
          + (f"; counted: {claim.worker} now has {d.commune.counted_labour(claim.worker)} counted units"
             if result.counted else ""))
    s.finish({"claim_id": claim_id, "attestations": result.attestations, "counted": result.counted})


@labour.command()
@actor_options
@handle_errors
def join(network_name: str, account: str | None, account_index: int | None, password_file: Path | None,
         commune_address: str | None, as_json: bool) -> None:
    """Join the commune with your counted labour (mints your one share)."""
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    sender = s.signer(account, account_index, password_file)
    for tx in d.treasury.release_pending(sender):  # a join waits until begun periods' income is released
        s.report_tx("release income", tx)
    result = d.commune.join(sender=sender)
    s.report_tx("join", result.tx)
    s.say(f"{sender.address} is a member with share {result.share_id}; members: {d.commune.member_count()}")
    s.finish({"member": sender.address, "share_id": result.share_id, "members": d.commune.member_count()})


@labour.command()
@actor_options
@handle_errors
def leave(network_name: str, account: str | None, account_index: int | None, password_file: Path | None,
          commune_address: str | None, as_json: bool) -> None:
    """Leave the commune (your share is burned; payouts accrued stay claimable)."""
    s = Session.start(network_name, as_json, commune_address)
    d = s.deployment
    sender = s.signer(account, account_index, password_file)
    if d.treasury.pending_periods() < d.treasury.max_release_periods():
        d.commune.estimate("leave", sender=sender.address)  # refused (not a member, the last one): say so first
    share = d.commune.share_of(sender.address)
    confirm(f"Leave the commune? Share {share} of {sender.address} is burned for good: payouts accrued stay "
            f"claimable, but a share can only be earned again by counted labour")
    for tx in d.treasury.release_pending(sender):  # a leave waits until begun periods' income is released
        s.report_tx("release income", tx)
    d.commune.leave(sender=sender)
    s.say(f"{sender.address} left; members: {d.commune.member_count()}")
    s.finish({"member": sender.address, "members": d.commune.member_count()})


from vcengine.commands.inspect import labour_list  # noqa: E402 - the read-only view, registered last

labour.add_command(labour_list, "list")
