"""mcp-sequences with its rate limiter taken out, for throughput.py's "with and without" comparison only."""

from mcp_sequences import transport
from mcp_sequences.cli import main

transport.RateLimiter.wait_needed = lambda self: (0.0, "")  # type: ignore[method-assign]
transport.RateLimiter.record = lambda self: None  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
