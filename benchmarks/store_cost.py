"""Per-call cost of the state store, next to the in-process limiter it replaced, measured in one run.

    python benchmarks/store_cost.py [--calls N] [--postgres-url URL]

Prints the time of one rate-budget grant from the store, of one audit record (what every write
pays), and what one API request pays through the limiter that leases grants (rate.py) at full
speed: the old per-process deque limiter with 5,000 and 20,000 request times in its hour, the
embedded SQLite store (a file, as by default), and PostgreSQL (the URL given, else a throwaway
cluster when Debian's postgresql is installed). Figures are medians of per-call times (the leased
request: a mean) within this run; compare them with each other, not across machines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp_sequences.rate import RateLimiter  # noqa: E402
from mcp_sequences.store import Store, open_store  # noqa: E402

MINUTE, HOUR = 60.0, 3600.0


class DequeLimiter:
    """The limiter before the store (transport.py until this change): a scan of the hour, per process."""

    def __init__(self, stamps: int) -> None:
        now = time.monotonic()
        self.sent = deque(now - HOUR + HOUR * i / stamps for i in range(stamps))

    def take(self) -> None:
        now = time.monotonic()
        while self.sent and now - self.sent[0] >= HOUR:
            self.sent.popleft()
        _ = len(self.sent) >= 10**9, sum(1 for stamp in self.sent if now - stamp < MINUTE)
        self.sent.append(now)
        self.sent.popleft()  # keep the hour at the same size


def timed(calls: int, one) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        one()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def atimed(calls: int, one) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await one()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def leased(store: Store, calls: int) -> float:
    """Mean ms a request pays through the rate limiter, which leases from the store: most requests
    spend from the lease in memory; the first of each second, and a few while the pace grows, ask."""
    limiter = RateLimiter(store, "bench-leased", 10**9, 10**9)
    started = time.perf_counter()
    for _ in range(calls):
        await limiter.take()
    return (time.perf_counter() - started) / calls * 1000


async def store_costs(store: Store, calls: int) -> tuple[float, float, float]:
    fields = {"sequence_id": "s1", "tool": "patch_sequence", "caller": None, "outcome": "ok", "deletes": False,
              "has_before": True}  # fmt: skip
    entry = '{"tool":"patch_sequence","body":{"name":"x"},"before":{"id":"s1","name":"y","steps":[]}}'
    rate = await atimed(calls, lambda: store.take_rate("bench", time.time(), 10**9, 10**9))
    audit = await atimed(calls, lambda: store.append_audit(time.time(), fields, entry))
    return rate, audit, await leased(store, calls)


async def main(calls: int, postgres_url: str | None) -> None:
    print(f"median ms per call, {calls} calls each")
    for stamps in (5_000, 20_000):
        print(f"  in-process deque limiter, {stamps:>6} stamps   acquire {timed(calls, DequeLimiter(stamps).take):.3f}")
    with tempfile.TemporaryDirectory() as folder:
        sqlite = await open_store(str(Path(folder) / "state.db"))
        rate, audit, lease = await store_costs(sqlite, calls)
        await sqlite.aclose()
    print(f"  SQLite store (file, WAL)                acquire {rate:.3f}   audit record {audit:.3f}")
    print(f"    a request through the leasing limiter (mean) {lease:.4f}")
    cluster = None
    if postgres_url is None:
        from tests.postgres import binaries, remove, start_cluster

        if binaries() is not None:
            cluster = start_cluster()
            postgres_url = cluster.create_database("bench")
    try:
        if postgres_url is None:
            print("  PostgreSQL: not installed (apt-get install postgresql) and no --postgres-url")
            return
        postgres = await open_store(postgres_url)
        rate, audit, lease = await store_costs(postgres, calls)
        await postgres.aclose()
        print(f"  PostgreSQL store (localhost)            acquire {rate:.3f}   audit record {audit:.3f}")
        print(f"    a request through the leasing limiter (mean) {lease:.4f}")
    finally:
        if cluster is not None:
            remove(cluster)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--postgres-url")
    options = parser.parse_args()
    anyio.run(main, options.calls, options.postgres_url)
