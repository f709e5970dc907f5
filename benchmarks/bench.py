"""Measure what a user feels: cold start, memory, tools/list size and per-call latency.

Run: python benchmarks/bench.py [--runs N]. Start-up is compared with a one-tool server on the same
SDK in the same run (alternating, medians), so a shared, noisy machine shows in both figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
from mcp import Client

from mcp_sequences.sandbox import SANDBOX_API_KEY, SandboxTransport, create_sandbox_app
from mcp_sequences.sandbox.seed import SEED_SEQUENCES, realistic_copies
from mcp_sequences.sandbox.store import SequenceStore
from mcp_sequences.server import build_server
from mcp_sequences.settings import Settings
from mcp_sequences.upstream import SANDBOX_BASE_URL

HERE = Path(__file__).parent
OURS = [sys.executable, "-m", "mcp_sequences", "--sandbox", "--sandbox-db", ":memory:"]
BASELINE = [sys.executable, str(HERE / "one_tool_server.py")]
INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"},
        },
    }
)
TIMEOUT = 30.0
FIRST_ID = SEED_SEQUENCES[0]["id"]
LABELS = {
    "tools_list": "tools/list, whole (budget 2,000 tokens)",
    "model_view": "tools: name+description+input (budget 1,300)",
    "default_page": "list_sequences, 20 sequences (budget 1,500)",
    "get_sequence": "get_sequence, one seeded sequence",
}


def sandbox_settings() -> Settings:
    return Settings(base_url=SANDBOX_BASE_URL, api_key=SANDBOX_API_KEY, audit_log=os.devnull)


def cold_start(command: list[str]) -> tuple[float, int]:
    """Seconds from spawn to the initialize result, and the idle process's peak RSS in KiB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        process.stdin.write((INITIALIZE + "\n").encode())
        process.stdin.flush()
        line = process.stdout.readline()
        elapsed = time.perf_counter() - start
        assert json.loads(line)["id"] == 1, line
        return elapsed, peak_rss_kib(process.pid)
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)


def peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():  # not Linux
        return 0
    return next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:"))


def tokens(text: str) -> int:
    """o200k_base tokens (quicktok ships the vocabulary; `pip install -e '.[test]'` brings it)."""
    import quicktok

    return len(quicktok.get_encoding("o200k_base").encode(text))


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def context_costs(client: Client, store: SequenceStore) -> dict[str, float]:
    """What the catalogue and typical results put in a model's context, in bytes and tokens."""
    listed = await client.list_tools()
    whole = compact(listed.model_dump(mode="json", by_alias=True, exclude_none=True))
    view = compact(
        [{"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in listed.tools]
    )
    for record in realistic_copies(20):
        store.create_sequence(record)
    page = (await client.call_tool("list_sequences", {})).content[0].text
    record = (await client.call_tool("get_sequence", {"id": FIRST_ID})).content[0].text
    texts = {"tools_list": whole, "model_view": view, "default_page": page, "get_sequence": record}
    return {f"{name}_{unit}": count(text) for name, text in texts.items() for unit, count in MEASURES.items()}


MEASURES = {"bytes": lambda text: len(text.encode()), "tokens": tokens}


async def in_process_figures(calls: int) -> dict[str, float]:
    sandbox = create_sandbox_app(":memory:")
    server = build_server(sandbox_settings(), transport=SandboxTransport(sandbox))
    figures: dict[str, float] = {}
    for mode in ("legacy", "auto"):
        async with Client(server, mode=mode) as client:
            if mode == "legacy":
                figures |= await context_costs(client, sandbox.state.store)
            samples = []
            for _ in range(calls):
                start = time.perf_counter()
                await client.call_tool("get_sequence", {"id": FIRST_ID})
                samples.append(time.perf_counter() - start)
            figures[f"get_sequence_ms_{mode}"] = statistics.median(samples) * 1000
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="cold starts per server (alternating)")
    parser.add_argument("--calls", type=int, default=200, help="in-process calls per protocol era")
    args = parser.parse_args()

    ours, base = [], []
    for _ in range(args.runs):
        ours.append(cold_start(OURS))
        base.append(cold_start(BASELINE))
    ours_ms = statistics.median(t for t, _ in ours) * 1000
    base_ms = statistics.median(t for t, _ in base) * 1000
    figures = anyio.run(in_process_figures, args.calls)

    print(f"cold start, spawn -> initialize result (median of {args.runs}):")
    print(f"  mcp-sequences --sandbox   {ours_ms:7.1f} ms   peak RSS {max(r for _, r in ours) / 1024:6.1f} MiB")
    print(f"  one-tool server (same SDK) {base_ms:6.1f} ms   peak RSS {max(r for _, r in base) / 1024:6.1f} MiB")
    print(f"  ratio                      {ours_ms / base_ms:6.2f}x")
    print("what a model's context holds (compact JSON; o200k_base tokens):")
    for name, label in LABELS.items():
        print(f"  {label:44} {figures[name + '_bytes']:7,.0f} bytes {figures[name + '_tokens']:6,.0f} tokens")
    for mode in ("legacy", "auto"):
        print(f"get_sequence in-process, {mode:6}: {figures[f'get_sequence_ms_{mode}']:.2f} ms median of {args.calls}")


if __name__ == "__main__":
    main()
