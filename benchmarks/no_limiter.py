"""mcp-sequences with its rate limiter taken out, for throughput.py's "with and without" comparison only."""

from mcp_sequences.cli import main
from mcp_sequences.rate import RateLimiter


async def admit(self: RateLimiter) -> tuple[float, str]:
    return 0.0, ""


RateLimiter.take = admit  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
