"""The SDK's MCPServer with the two protocol answers this server gives differently.

- `prompts/get` for an unknown name is an invalid-params error naming the prompts (the SDK answers
  "Internal server error" on 2026-07-28, after logging a traceback);
- `completion/complete` offers sequence ids (completions.py); the SDK's own hook has no way to
  reach the API client, which lives in the lifespan's state.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CompleteRequestParams

from mcp_sequences.completions import SequenceCompleter
from mcp_sequences.prompt_files import FilePrompt, unknown_prompt


class SequencesServer(MCPServer):
    def __init__(self, *args: Any, prompts: list[FilePrompt], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prompt_names = [prompt.name for prompt in prompts]
        for prompt in prompts:
            self.add_prompt(prompt)
        completer = SequenceCompleter(prompts)
        self._lowlevel_server.add_request_handler("completion/complete", CompleteRequestParams, completer)

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        if name not in self.prompt_names:
            raise unknown_prompt(name, self.prompt_names)
        return await super().get_prompt(name, arguments, context)
