"""Baseline for the cold-start benchmark: the smallest useful server on the same SDK."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("one-tool", log_level="WARNING")


@server.tool()
async def echo(text: str) -> str:
    """Echo the text back."""
    return text


if __name__ == "__main__":
    server.run()
