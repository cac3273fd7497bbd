"""Keystores: new, import (a key, a wallet's file), list, show, and signing a real transaction with
one; the password is never shown and a wrong one sends nothing."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import last_json, ok, sandbox, vc
from eth_account import Account

from vcengine import networks

PASSWORD = "correct horse battery staple"
# A throwaway key used only here (never holds value anywhere).
KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_keystore_round_trip_new_import_sign(tmp_path: Path, monkeypatch):
    with sandbox(tmp_path):
        (tmp_path / "pw").write_text(PASSWORD + "\n")
        created = ok("accounts", "new", "alice", "--password-file", "pw")
        keystore = Path(created["keystore"])
        assert keystore.parent == tmp_path / "config" / "vc" / "keystores"
        # the file is the standard v3 format: eth-account (and so any wallet) decrypts it
        data = json.loads(keystore.read_text())
        assert data["version"] == 3 and "crypto" in data
        alice = Account.from_key(Account.decrypt(data, PASSWORD))
        assert alice.address == created["address"]
        assert oct(keystore.stat().st_mode & 0o777) == "0o600"

        # import a private key (from a file) and a wallet's keystore file (keeps its own password)
        (tmp_path / "key").write_text(KEY)
        monkeypatch.setenv("VC_PASSWORD", PASSWORD)
        imported = ok("accounts", "import", "bob", "--private-key-file", "key")
        assert imported["address"] == Account.from_key(KEY).address
        wallet_file = tmp_path / "wallet.json"
        carol = Account.create()
        wallet_file.write_text(json.dumps(Account.encrypt(carol.key, "carols own", iterations=2**10)))
        monkeypatch.setenv("VC_PASSWORD", "carols own")  # a keystore is imported with its own password, checked
        assert ok("accounts", "import", "carol", "--keystore", str(wallet_file))["address"] == carol.address
        monkeypatch.setenv("VC_PASSWORD", PASSWORD)

        listed = ok("accounts", "list")
        assert [(a["name"], a["address"]) for a in listed["accounts"]] == [
            ("alice", alice.address), ("bob", imported["address"]), ("carol", carol.address)]
        assert ok("accounts", "show", "bob")["address"] == imported["address"]
        assert ok("accounts", "show", alice.address.lower())["name"] == "alice"  # by address too
        assert vc("accounts", "new", "alice").exit_code == 2  # names are unique

        # sign with the keystore: fund alice with gas, deploy with her as the signer
        chain = networks.tester_chain()
        funder = chain.accounts[0]
        tx = {"to": alice.address, "value": 10**18, "gas": 21_000, "gasPrice": chain.w3.eth.gas_price,
              "nonce": chain.w3.eth.get_transaction_count(funder.address), "chainId": chain.chain_id}
        chain.w3.eth.wait_for_transaction_receipt(
            chain.w3.eth.send_raw_transaction(funder.sign_transaction(tx).raw_transaction))
        monkeypatch.delenv("VC_PASSWORD")
        deployed = ok("deploy", "--founder", "alice", "--founder", "1", "--account", "alice", "--password-file", "pw")
        sent = chain.w3.eth.get_transaction(deployed["transactions"][-1]["hash"])
        assert sent["from"] == alice.address  # signed locally with the decrypted keystore key
        status = ok("status", "--account", "alice")
        assert status["you"]["member"] and status["you"]["share"] == 1

        # a wrong password: exit 2, nothing sent, and the password is not echoed anywhere
        nonce = chain.w3.eth.get_transaction_count(alice.address)
        (tmp_path / "wrong").write_text("not the password")
        bad = vc("labour", "submit", "1", "--evidence", "x", "--account", "alice", "--password-file", "wrong", "--json")
        assert bad.exit_code == 2 and "wrong password for account 'alice'" in bad.stderr
        assert last_json(bad)["kind"] == "bad_input"
        assert chain.w3.eth.get_transaction_count(alice.address) == nonce
        # no password given and no terminal to ask on (tests/test_cli_numbers_passwords.py prompts on one)
        prompted = vc("labour", "submit", "1", "--evidence", "x", "--account", "alice", input=PASSWORD + "\n")
        assert prompted.exit_code == 2 and "set VC_PASSWORD or --password-file" in prompted.stderr
        assert chain.w3.eth.get_transaction_count(alice.address) == nonce
        for result in (created, imported, listed, deployed):
            assert PASSWORD not in json.dumps(result) and KEY[2:] not in json.dumps(result)
        assert PASSWORD not in prompted.output and "not the password" not in bad.output
