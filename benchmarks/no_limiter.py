"""mcp-sequences with its rate limiter taken out, for throughput.py's "with and without" comparison only."""

from mcp_sequences import transport
from mcp_sequences.cli import main


async def admit(self: transport.RateLimiter) -> tuple[float, str]:
    return 0.0, ""


transport.RateLimiter.take = admit  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
