"""`python -m mcp_sequences`: the same as the `mcp-sequences` command."""

from mcp_sequences.cli import main

if __name__ == "__main__":
    main()
