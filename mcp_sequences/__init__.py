"""mcp-sequences: an MCP server for the iCloudReady CRM Sequences API."""

__version__ = "0.1.0"
