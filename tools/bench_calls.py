"""Which of a commune's clones each measured operation calls, and which modules it runs.

Runs the gas benchmark's scenario (vcengine/bench/gas.py, 10 members, bids and holders) on anvil
and reads every measured transaction's call tree with anvil's `callTracer`: each distinct EIP-1167
clone called (by the implementation it runs) and each DELEGATECALL into a common-stock module.
The README's account of every gas rise of issue 13 counts these. Prints one line an operation and
writes bench-results/calls.json.

    .venv/bin/python tools/bench_calls.py
"""
import json
from vcengine.bench.scaling import open_chain
from vcengine.bench.gas import measure, OPERATIONS
from vcengine.compiler import load_artifacts
from vcengine.deploy import chain_factory

arts = load_artifacts()
HEAD = bytes.fromhex("363d3d373d3d3d363d73")
with open_chain("anvil") as chain:
    res = measure(chain, 10, arts)
    made = chain_factory(chain, chain.accounts[0], arts)
    impl_name = {v.lower(): k for k, v in made.implementations.items()}
    impl_name[made.series_implementation.lower()] = "BondSeries"
    out = {}
    for op in OPERATIONS:
        clones, modules = {}, []
        for h in res[op].tx_hashes:
            tr = chain.w3.provider.make_request("debug_traceTransaction", [h, {"tracer": "callTracer"}])["result"]
            def walk(f):
                to = (f.get("to") or "").lower()
                if to:
                    code = bytes(chain.w3.eth.get_code(chain.w3.to_checksum_address(to)))
                    if code.startswith(HEAD):
                        impl = "0x" + code[10:30].hex()
                        clones.setdefault(to, impl_name.get(impl, impl))
                    elif f.get("type") == "DELEGATECALL" and impl_name.get(to) in ("BondAuction", "RentalMarket", "Liquidation"):
                        modules.append(impl_name[to])
                for c in f.get("calls", []) or []:
                    walk(c)
            walk(tr)
        names = sorted(v for v in clones.values())
        out[op] = {"clones": names, "modules": modules}
        print(f"{op:34s} clones {names} modules {modules}")
with open("bench-results/calls.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
