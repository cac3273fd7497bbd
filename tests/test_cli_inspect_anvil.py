"""Chunked log reads against a real anvil node behind an endpoint that caps `eth_getLogs` ranges,
as public RPC providers do: `vc status` and `vc labour list` through it show what an unchunked read
of the node shows, in the number of requests the chunk size implies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vcengine.chains import free_port
from vcengine.commune import CommuneClient
from vcengine.logs import get_logs
from vcengine.networks import LocalNodeChain

pytestmark = pytest.mark.anvil

VC = Path(sys.executable).parent / "vc"
CAP = 3  # blocks the capped endpoint serves in one eth_getLogs request


class CappedEndpoint:
    """A JSON-RPC proxy to ``upstream`` that refuses log ranges wider than ``cap`` blocks and
    records every ``eth_getLogs`` request it sees as (from, to, refused)."""

    def __init__(self, upstream: str, cap: int):
        self.upstream, self.cap, self.requests = upstream, cap, []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                calls = body if isinstance(body, list) else [body]
                answers = [endpoint.answer(call) for call in calls]
                data = json.dumps(answers if isinstance(body, list) else answers[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, call: dict) -> dict:
        if call.get("method") == "eth_getLogs":
            query = call["params"][0]
            first, last = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            refused = last - first + 1 > self.cap
            self.requests.append((first, last, refused))
            if refused:
                return {"jsonrpc": "2.0", "id": call.get("id"),
                        "error": {"code": -32005, "message": f"block range too large: at most {self.cap} blocks"}}
        request = urllib.request.Request(self.upstream, json.dumps(call).encode(), {"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request, timeout=30).read())

    def close(self) -> None:
        self.server.shutdown()


def test_status_and_labour_list_through_an_endpoint_that_caps_log_ranges(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "VC_NODE_PORT": str(port)}
    for var in ("VC_NETWORK", "VC_ACCOUNT", "VC_PASSWORD", "VC_STATE_DIR", "VC_KEYSTORE_DIR", "VC_DEPLOYMENTS_DIR",
                "VC_LOG_CHUNK"):
        env.pop(var, None)

    def run(*args: str, **extra: str) -> dict:
        proc = subprocess.run([str(VC), *args, "--json"], cwd=tmp_path, env={**env, **extra}, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, f"vc {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
        return json.loads(proc.stdout.strip().splitlines()[-1])

    endpoint = None
    try:
        run("node", "start")
        url = f"http://127.0.0.1:{port}"
        deployed = run("deploy", "--network", "local", "--founder", "0", "--founder", "1", "--quorum-cap", "1",
                       "--account", "0")
        # events spread over many blocks (anvil mines one a transaction): claims, two joins, a leave
        chain = LocalNodeChain(url)
        commune = CommuneClient(chain, deployed["contracts"]["Commune"])
        for index in (2, 3, 4, 5, 6):
            commune.submit_labour(10, f"ipfs://timesheet-{index}", sender=chain.accounts[index])
        for claim_id, index in ((1, 2), (2, 3)):
            commune.attest(claim_id, sender=chain.accounts[0])
            commune.join(sender=chain.accounts[index])
        commune.leave(sender=chain.accounts[3])
        start, last = deployed["block"], chain.w3.eth.block_number
        blocks = last - start + 1
        assert blocks >= 10

        endpoint = CappedEndpoint(url, CAP)
        (tmp_path / "vc.toml").write_text(f'[networks.capped]\nurl = "{endpoint.url}"\nchain_id = 31337\n'
                                          f'log_chunk = 2\n')
        shutil.copy(tmp_path / "deployments" / "local.json", tmp_path / "deployments" / "capped.json")

        # the network's log_chunk (2 blocks): two reads (MemberJoined, MemberLeft) of ceil(blocks / 2)
        # what one unchunked request per event, straight to the node, says
        joined = {log["args"]["member"]: log["args"]["shareId"]
                  for log in get_logs(commune.contract.events.MemberJoined, start, last, chunk=10**9)}
        left = {log["args"]["member"] for log in get_logs(commune.contract.events.MemberLeft, start, last, chunk=10**9)}
        assert left == {chain.accounts[3].address}
        capped = run("status", "--network", "capped")
        assert [(m["address"], m["share"]) for m in capped["members"]] == sorted(
            ((a, s) for a, s in joined.items() if a not in left), key=lambda m: m[1])
        assert [m["share"] for m in capped["members"]] == [1, 2, 3]  # founders 1, 2; account 2 joined third
        # the former member who left with nothing owed is not listed (no income yet)
        assert capped["former_members"] == [] and capped["member_count"] == 3
        requests = list(endpoint.requests)
        assert len(requests) == 2 * -(-blocks // 2) and not any(refused for _, _, refused in requests)
        assert requests[0][0] == start and max(b for _, b, _ in requests) == last

        # VC_LOG_CHUNK=8 wins over log_chunk; the endpoint refuses 8 and 4, so the read halves to 2
        endpoint.requests.clear()
        listed = run("labour", "list", "--network", "capped", VC_LOG_CHUNK="8")
        submitted = get_logs(commune.contract.events.LabourSubmitted, start, last, chunk=10**9)
        assert [(c["claim_id"], c["worker"], c["evidence"]) for c in listed["claims"]] == [
            (log["args"]["claimId"], log["args"]["worker"], log["args"]["evidence"]) for log in submitted]
        assert [c["evidence"] for c in listed["claims"]] == [f"ipfs://timesheet-{i}" for i in (2, 3, 4, 5, 6)]
        refused = [r for r in endpoint.requests if r[2]]
        served = [r for r in endpoint.requests if not r[2]]
        assert [(b - a + 1) for a, b, _ in refused] == [min(8, blocks), min(4, blocks)]
        assert len(served) == -(-blocks // 2) and all(b - a + 1 <= 2 for a, b, _ in served)
        run("node", "stop")
    finally:
        if endpoint is not None:
            endpoint.close()
        record = tmp_path / ".vc" / "node.json"
        if record.is_file():  # a failed step left the node running
            os.kill(json.loads(record.read_text())["pid"], signal.SIGKILL)
