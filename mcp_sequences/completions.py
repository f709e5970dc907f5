"""MCP `completion/complete` for sequence ids, so that clients can offer a pick list.

Completed: the `id` of the `sequences://{id}` resource template, and every prompt argument whose
file declares `type = "sequence_id"`. What the person typed is searched in the API's list (`q`), and
the ids of the sequences whose name starts with it are offered, in the API's order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from mcp.server.context import ServerRequestContext
from mcp.types import CompleteRequestParams, CompleteResult, Completion, PromptReference

from mcp_sequences.errors import SequencesError
from mcp_sequences.prompt_files import FilePrompt
from mcp_sequences.records import record_id, scalar_text
from mcp_sequences.resources import TEMPLATE
from mcp_sequences.shaping import ListAnswer
from mcp_sequences.toolkit import AppState

logger = logging.getLogger(__name__)

MAX_VALUES = 100  # the protocol's limit for one answer


class SequenceCompleter:
    """The request handler: which arguments name a sequence is fixed when the server is built."""

    def __init__(self, prompts: Iterable[FilePrompt]) -> None:
        self.prompt_arguments = {(p.name, name) for p in prompts for name in p.sequence_arguments()}

    async def __call__(self, ctx: ServerRequestContext[AppState], params: CompleteRequestParams) -> CompleteResult:
        if not self.names_a_sequence(params.ref, params.argument.name):
            return CompleteResult(completion=Completion(values=[]))
        return CompleteResult(completion=await sequence_ids(ctx.lifespan_context, params.argument.value))

    def names_a_sequence(self, ref: object, argument: str) -> bool:
        if isinstance(ref, PromptReference):
            return (ref.name, argument) in self.prompt_arguments
        return getattr(ref, "uri", None) == TEMPLATE and argument == "id"


async def sequence_ids(state: AppState, typed: str) -> Completion:
    """Ids of the sequences whose name starts with `typed` (any case); none when the API fails."""
    typed = typed.strip()
    params = {"limit": MAX_VALUES, "page": 1} | ({"q": typed} if typed else {})
    try:
        answer = ListAnswer(await state.api.list(params))
    except SequencesError as exc:  # a pick list is a convenience: the error shows when the id is used
        logger.warning("completing a sequence id: %s", exc)
        return Completion(values=[])
    ids = [
        record_id(item)
        for item in answer.items
        if (scalar_text(item.get("name")) or "").casefold().startswith(typed.casefold())
    ]
    values = [sequence_id for sequence_id in ids if sequence_id][:MAX_VALUES]
    return Completion(values=values, total=len(values), has_more=answer.has_more(1, MAX_VALUES))
