"""What the HTTP deployment adds to the MCP server: who may call it, what each caller may do, and limits.

- `endpoint.py`: where the endpoint is (IPv6-safe URL) and whether serving beyond loopback is allowed;
- `tokens.py`, `oauth.py`: who the caller is, from a static token or an OAuth 2.1 JWT;
- `callers.py`: what a caller may do: scopes per tool, per-caller delete policy, tools/list per caller;
- `gate.py`: the /mcp route's door: 401/403 as RFC 6750 says, sessions per caller, resource metadata;
- `listener.py`: the Starlette app and uvicorn, with timeouts and limits for slow or greedy clients.
"""
