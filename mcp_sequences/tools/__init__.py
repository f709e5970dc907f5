"""Every tool of the server, in the order clients list them."""

from mcp_sequences.tools.delete import delete_sequence
from mcp_sequences.tools.reads import get_sequence, list_sequences
from mcp_sequences.tools.restore import restore_sequence
from mcp_sequences.tools.writes import create_sequence, create_sequence_activity, patch_sequence, update_sequence

ALL_TOOLS = (
    list_sequences,
    get_sequence,
    create_sequence,
    update_sequence,
    patch_sequence,
    delete_sequence,
    create_sequence_activity,
    restore_sequence,
)
