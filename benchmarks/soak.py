"""Soak: three replicas behind nginx, one PostgreSQL, 16 sessions of mixed reads and writes for 60 s.

Everything runs on 127.0.0.1 and stops at the end: a stand-in API (stand_in_api.py), a throwaway
PostgreSQL cluster (Debian's initdb/pg_ctl; as root it runs as the `postgres` user), three
mcp-sequences replicas sharing it through --state-url and one MCP_SEQUENCES_STATE_KEY, and nginx
with deploy/nginx.conf (only its ports and paths changed). Without nginx the clients rotate over the
replicas themselves; without PostgreSQL they share an SQLite file (as replicas on one machine may),
and the report says so.

The load: 12 clients of 2026-07-28 (round robin: each request may reach another replica) and 4
handshake-era sessions (sticky), each looping over get / list / patch / create / delete.

Printed: calls/s, p50/p99 latency, errors (target 0; refusals by the rate limit counted apart), the
peak combined rate reaching the API in any 60 s window against the budget, each replica's RSS growth
after warm-up (target < 5 %), and the server CPU per call with each state store (SQLite and
PostgreSQL) next to the one-tool server, on one process in this same run.

Run: python benchmarks/soak.py [--seconds 60] [--sessions 16] [--rate-per-minute 1200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import anyio
import httpx
from load import Modern, Session, now, rss_kib
from throughput import free_port, launched, stand_in_api, stop
from throughput import report as compared
from throughput import run as in_rounds

HERE = Path(__file__).parent
NGINX_CONF = HERE.parent / "deploy" / "nginx.conf"
REPLICAS = 3
THROTTLED = "keeps under the API's limit"  # the words of a refusal by the rate limit (transport.PacingExceeded)
STATE_KEY = "soak-benchmark-state-key-of-32-bytes-or-more"


# --- the parts: PostgreSQL, the replicas, nginx -------------------------------------------------


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway cluster's URL, or None when initdb is not installed."""
    initdb = shutil.which("initdb") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None)
    if initdb is None:
        yield None
        return
    bin_dir, folder, port = Path(initdb).parent, Path(tempfile.mkdtemp(prefix="soak-pg-")), free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    data, options = folder / "data", f"-c fsync=off -c listen_addresses=127.0.0.1 -p {port} -k {folder}"
    run = lambda *command: subprocess.run([*as_postgres, *command], check=True, capture_output=True, timeout=120)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def replica_command(folder: Path, name: str, rate: int, state_url: str | None, metrics: bool = True) -> list[str]:
    command = [sys.executable, "-m", "mcp_sequences", "--transport", "http"]
    command += ["--rate-per-minute", str(rate), "--rate-per-hour", str(rate * 60)]  # the minute's budget binds
    command += ["--log-level", "ERROR", *(["--metrics"] if metrics else [])]
    command += ["--delete-policy", "allow", "--max-deletes", "1000000", "--audit-log", str(folder / f"{name}.jsonl")]
    if state_url is not None:
        command += ["--state-url", state_url]
    return command


@contextmanager
def nginx(ports: list[int]) -> Iterator[str | None]:
    """deploy/nginx.conf with these replica ports and a free listening port; its /mcp URL, or None."""
    if shutil.which("nginx") is None:
        yield None
        return
    prefix, port = Path(tempfile.mkdtemp(prefix="soak-nginx-")), free_port()
    (prefix / "tmp").mkdir()
    conf = NGINX_CONF.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    for default, actual in zip((8001, 8002, 8003), ports, strict=True):
        conf = conf.replace(f"127.0.0.1:{default} ", f"127.0.0.1:{actual} ")
    (prefix / "nginx.conf").write_text(conf)
    process = subprocess.Popen(["nginx", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"])
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)
        shutil.rmtree(prefix, ignore_errors=True)


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code != 404:
        assert time.monotonic() < deadline, f"nginx did not start on {port}"


# --- the load -------------------------------------------------------------------------------------


class Mix:
    """One client's loop: mostly reads, some writes, deletes only of what it created."""

    def __init__(self, client: Session, seed: int) -> None:
        self.client, self.random, self.created = client, random.Random(seed), []
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.throttled = 0  # refused by the rate limit: what keeps the budget, not a failure

    async def run(self, until: float) -> None:
        while now() < until:
            name, arguments = self._next()
            start = now()
            try:
                result = await self.client.call(name, arguments)
            except Exception as exc:  # a transport or protocol failure: counted, the soak goes on
                status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else ""
                self.errors.append(f"{name}: {type(exc).__name__} {status}")
                continue
            text = result["content"][0]["text"] if result.get("isError") else ""
            if THROTTLED in text:
                self.throttled += 1
                continue
            self.latencies.append(now() - start)
            if text:
                self.errors.append(f"{name}: {text[:120]}")
            elif name == "create_sequence":
                created = result["structuredContent"].get("sequence", {})
                self.created.append(created.get("id") or created.get("_id"))

    def _next(self) -> tuple[str, dict]:
        roll = self.random.random()
        if roll < 0.45:
            return "get_sequence", {"id": f"seq-{self.random.randrange(40)}"}
        if roll < 0.65:
            return "list_sequences", {"limit": 5}
        if roll < 0.85:
            return "patch_sequence", {"id": f"seq-{self.random.randrange(40)}", "priority": f"soak {roll:.6f}"}
        if roll < 0.95 or not self.created:
            return "create_sequence", {"name": f"soak {self.random.random():.6f}"}
        return "delete_sequence", {"id": self.created.pop()}


async def soak(urls: list[str], front: str | None, sessions: int, seconds: float) -> list[Mix]:
    modern = sessions * 3 // 4
    clients: list[Session] = [
        Modern(front or urls[0], urls=() if front else tuple(urls[i:] + urls[:i])) for i in range(modern)
    ]
    clients += [Session(front or urls[i % len(urls)]) for i in range(sessions - modern)]
    for client in clients:
        await client.open()
    mixes = [Mix(client, seed) for seed, client in enumerate(clients)]
    until = now() + seconds
    async with anyio.create_task_group() as group:
        for mix in mixes:
            group.start_soon(mix.run, until)
    for client in clients:
        await client.close()
    return mixes


# --- the report -------------------------------------------------------------------------------------


def peak_per_minute(per_second: dict[str, int]) -> int:
    counts = {int(second): n for second, n in per_second.items()}
    if not counts:
        return 0
    first, last = min(counts), max(counts)
    return max(
        sum(counts.get(s, 0) for s in range(start, start + 60)) for start in range(first, max(first, last - 59) + 1)
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def served(url: str) -> int:
    """Tool calls a replica has answered, from its /metrics."""
    text = httpx.get(url.removesuffix("/mcp") + "/metrics", timeout=10).text
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("mcp_sequences_tool_calls_total{")
        )
    )


def report(mixes: list[Mix], seconds: float, api: str, rate: int, rss: list[tuple[int, int]], state: str) -> None:
    latencies = [t for mix in mixes for t in mix.latencies]
    errors = [e for mix in mixes for e in mix.errors]
    throttled = sum(mix.throttled for mix in mixes)
    stats = httpx.get(f"{api}/_stats", timeout=10).json()
    peak = peak_per_minute(stats["per_second"])
    print(f"state: {state}")
    print(
        f"calls: {len(latencies) + len(errors) + throttled} in {seconds:g} s; answered {len(latencies) / seconds:.1f}/s"
    )
    print(f"refused by the rate limit (the budget holding): {throttled}")
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    print(f"latency of answered calls: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"errors: {len(errors)} (target 0)" + "".join(f"\n  {e}" for e in sorted(set(errors))[:10]))
    verdict = "within" if peak <= rate else "OVER"
    print(f"peak API rate: {peak} requests in a 60 s window, budget {rate}/min: {verdict}")
    for n, (start, end) in enumerate(rss, 1):
        growth = (end - start) / start * 100
        print(f"replica {n} RSS: {start / 1024:.1f} -> {end / 1024:.1f} MiB ({growth:+.1f} %, target < 5 %)")


async def store_cost(api: str, folder: Path, state_url: str | None) -> None:
    """Server CPU per call on one process at 4 sessions, per store, next to the one-tool server: in
    rounds that turn the order, as throughput.py measures, and without --metrics (the default)."""
    env = {"ICLOUDREADY_BASE_URL": api, "ICLOUDREADY_API_KEY": "stand-in-key"}
    kinds = {
        "one-tool server (no state)": ([sys.executable, str(HERE / "one_call_server.py"), "--base-url", api], {}),
        "SQLite store": (replica_command(folder, "cost-sqlite", 10**9, str(folder / "cost.db"), metrics=False), env),
    }
    if state_url:
        kinds["PostgreSQL store"] = (replica_command(folder, "cost-pg", 10**9, state_url, metrics=False), env)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(launched(kind, command, kind_env)) for kind, (command, kind_env) in kinds.items()
        ]
        figures = await in_rounds(servers, [4], 2.0, 5)
    print("a single process, 4 sessions of get_sequence (median of 5 rounds):")
    compared(figures, list(kinds), [4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--rate-per-minute", type=int, default=1200, help="the API budget every replica shares")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        api = stack.enter_context(stand_in_api())
        state_url = stack.enter_context(postgres())
        shared = state_url or str(folder / "state.db")
        env = {"ICLOUDREADY_BASE_URL": api, "ICLOUDREADY_API_KEY": "stand-in-key", "MCP_SEQUENCES_STATE_KEY": STATE_KEY}
        replicas = [
            stack.enter_context(launched(f"r{n}", replica_command(folder, f"r{n}", args.rate_per_minute, shared), env))
            for n in range(REPLICAS)
        ]
        front = stack.enter_context(nginx([r.port for r in replicas]))
        print(f"front: {'nginx with deploy/nginx.conf' if front else 'none (nginx not installed): clients rotate'}")
        warm = max(args.seconds / 10, 2.0)
        anyio.run(soak, [r.url for r in replicas], front, args.sessions, warm)
        before = [rss_kib(r.process.pid) for r in replicas]
        mixes = anyio.run(soak, [r.url for r in replicas], front, args.sessions, args.seconds)
        rss = list(zip(before, [rss_kib(r.process.pid) for r in replicas], strict=True))
        state = state_description(state_url)
        report(mixes, args.seconds, api, args.rate_per_minute, rss, state)
        print("calls served per replica (warm-up included): " + " / ".join(str(served(r.url)) for r in replicas))
        anyio.run(store_cost, api, folder, state_url)


def state_description(state_url: str | None) -> str:
    if state_url:
        return f"PostgreSQL shared by {REPLICAS} replicas"
    return f"an SQLite file shared by {REPLICAS} replicas (PostgreSQL's initdb is not installed)"


if __name__ == "__main__":
    main()
