"""The resource template sequences://{id}: a sequence as JSON, for clients that attach context."""

from __future__ import annotations

import json

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from mcp_sequences import shaping
from mcp_sequences.errors import InvalidIdError, NotFoundError, SequencesError
from mcp_sequences.toolkit import app_state

TEMPLATE = "sequences://{id}"


async def read_sequence(id: str, ctx: Context) -> str:
    """Map API failures to the resource errors clients know (not found, or failed)."""
    try:
        record = shaping.shown(shaping.record(await app_state(ctx).api.get(id), id))
    except (InvalidIdError, NotFoundError) as exc:
        raise ResourceNotFoundError(str(exc)) from exc
    except SequencesError as exc:
        raise ResourceError(str(exc)) from exc
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def add_resources(server: MCPServer) -> None:
    server.resource(
        TEMPLATE,
        name="sequence",
        title="Sequence",
        description="One sequence of the CRM as JSON (all fields), by id.",
        mime_type="application/json",
    )(read_sequence)
