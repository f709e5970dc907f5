"""HTTP throughput of one process, next to a one-tool server on the same SDK and the same HTTP client.

Every server runs as its own process over streamable HTTP on 127.0.0.1, against one stand-in API
(stand_in_api.py), rate limits set high so they never throttle. The load is N concurrent sessions
calling get_sequence for a fixed time; the figures are calls a second and the server's CPU per
call (from /proc), each the median of --rounds rounds that alternate the servers, so a noisy
machine shows in every column alike.

Servers: the baseline (one_call_server.py: one tool, one httpx GET), mcp-sequences as shipped, and
mcp-sequences without its rate limiter (no_limiter.py), to see what the limiter costs.

Run: python benchmarks/throughput.py [--seconds 2] [--rounds 5] [--sessions 1 4 16]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from load import Session, cpu_seconds, now

HERE = Path(__file__).parent
HIGH = str(10**9)
START_TIMEOUT = 30.0


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def stand_in_api() -> Iterator[str]:
    """The stand-in API in its own process; its base URL."""
    process = subprocess.Popen([sys.executable, str(HERE / "stand_in_api.py")], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{line.split()[-1]}"
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def launched(name: str, command: list[str], env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen([*command, "--port", str(port)], env=os.environ | (env or {}), stdout=subprocess.DEVNULL)
    try:
        wait_listening(process, port)
        yield Server(name, process, port)
    finally:
        stop(process)


def wait_listening(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port} after {START_TIMEOUT} s")


def ours(api: str, folder: Path, *, limiter: bool = True) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of mcp-sequences against the stand-in API."""
    entry = ["-m", "mcp_sequences"] if limiter else [str(HERE / "no_limiter.py")]
    command = [sys.executable, *entry, "--transport", "http", "--rate-per-minute", HIGH, "--rate-per-hour", HIGH]
    # The default embedded store, in a folder of its own rather than the user's data folder.
    command += ["--audit-log", str(folder / "audit.jsonl"), "--state-url", str(folder / "state.db")]
    return command, {"ICLOUDREADY_BASE_URL": api, "ICLOUDREADY_API_KEY": "stand-in-key"}


async def measure(server: Server, sessions: int, seconds: float) -> tuple[float, float, int]:
    """(calls a second, server CPU ms a call, errors) for `sessions` sessions calling for `seconds`."""
    opened = [Session(server.url) for _ in range(sessions)]
    for session in opened:
        await session.open()
    done, errors = [0], [0]

    async def loop(session: Session, until: float) -> None:
        while now() < until:
            try:
                result = await session.call("get_sequence", {"id": "seq-1"})
                done[0] += 0 if result.get("isError") else 1
                errors[0] += 1 if result.get("isError") else 0
            except Exception:
                errors[0] += 1

    cpu, start = cpu_seconds(server.process.pid), now()
    async with anyio.create_task_group() as group:
        for session in opened:
            group.start_soon(loop, session, start + seconds)
    elapsed, used = now() - start, cpu_seconds(server.process.pid) - cpu
    for session in opened:
        await session.close()
    return done[0] / elapsed, used / max(done[0], 1) * 1000, errors[0]


async def run(servers: list[Server], sessions: list[int], seconds: float, rounds: int) -> dict:
    """Each round measures every server back to back, in an order that turns each round, so a
    machine that slows down for a while weighs on all of them alike."""
    figures: dict[tuple[str, int], list[tuple[float, float, int]]] = {}
    for server in servers:  # warm up: imports, pools, caches
        await measure(server, 2, 1.0)
    for round_ in range(rounds):
        for n in sessions:
            turned = servers[round_ % len(servers) :] + servers[: round_ % len(servers)]
            for server in turned:
                figures.setdefault((server.name, n), []).append(await measure(server, n, seconds))
    return figures


def report(figures: dict, names: list[str], sessions: list[int]) -> None:
    """Medians of each server's figures, and of the ratios to the baseline within each round (with
    their lowest and highest): a paired ratio is steadier than a ratio of medians on a shared machine."""
    base = names[0]
    columns = ("server", "sessions", "calls/s", "x base (range)", "CPU ms/call", "x base", "errors")
    print("{:34} {:>8} {:>9} {:>17} {:>12} {:>6} {:>6}".format(*columns))
    for n in sessions:
        base_rounds = figures[(base, n)]
        for name in names:
            mine = figures[(name, n)]
            rates = [rate / base_rate for (rate, _, _), (base_rate, _, _) in zip(mine, base_rounds, strict=True)]
            cpus = [cpu / base_cpu for (_, cpu, _), (_, base_cpu, _) in zip(mine, base_rounds, strict=True)]
            rate, cpu = statistics.median(r for r, _, _ in mine), statistics.median(c for _, c, _ in mine)
            spread = f"{statistics.median(rates):.2f} ({min(rates):.2f}-{max(rates):.2f})"
            errors = sum(e for _, _, e in mine)
            print(f"{name:34} {n:8d} {rate:9.1f} {spread:>17} {cpu:12.3f} {statistics.median(cpus):6.2f} {errors:6d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="load time per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="measurements per server and session count")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--no-limiter", action="store_true", help="also measure mcp-sequences without its limiter")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        api = stack.enter_context(stand_in_api())
        baseline = [sys.executable, str(HERE / "one_call_server.py"), "--base-url", api]
        servers = [stack.enter_context(launched("one-tool server (same SDK, httpx)", baseline))]
        servers.append(stack.enter_context(launched("mcp-sequences", *ours(api, Path(folder)))))
        if args.no_limiter:
            command, env = ours(api, Path(folder), limiter=False)
            servers.append(stack.enter_context(launched("mcp-sequences, no rate limiter", command, env)))
        figures = anyio.run(run, servers, args.sessions, args.seconds, args.rounds)
    print(f"streamable HTTP, get_sequence, {args.seconds:g} s per measurement, median of {args.rounds}")
    report(figures, [server.name for server in servers], args.sessions)


if __name__ == "__main__":
    main()
