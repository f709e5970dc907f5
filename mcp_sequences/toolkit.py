"""How a tool is declared here, and how a declaration becomes an MCP SDK tool.

A tool is an async handler `(args: SomeArgs, ctx: Context, ...) -> SomeResult` under `@tool(...)`.
Its input schema comes from `SomeArgs`, its output schema from `SomeResult`, its description from
the docstring. Three things differ from the SDK's own `@mcp.tool()`, each on purpose:

* arguments arrive as one validated model, so a tool can tell "not given" from "given as null"
  (PATCH needs that) and many tools can share one set of field declarations;
* unknown argument fields are rejected with a message that names them and the allowed ones;
* results go out as compact JSON text beside `structuredContent`, and API failures as
  `isError` results whose text says what to do next.
"""

from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from mcp_sequences.audit import AuditError, AuditLog
from mcp_sequences.budget import DeleteBudget
from mcp_sequences.client import SequencesClient
from mcp_sequences.errors import InvalidIdError, SequencesError, ThrottledError
from mcp_sequences.guard import Refused
from mcp_sequences.keys import KeyCatalog
from mcp_sequences.models import MAX_NESTING, ArgumentError, nesting
from mcp_sequences.operations.metrics import Metrics
from mcp_sequences.operations.readiness import Readiness
from mcp_sequences.schema import model_schema
from mcp_sequences.settings import Settings
from mcp_sequences.store import Store
from mcp_sequences.transport import WaitReporter, wait_reporter

ARGS = "args"
# Echoed bad values are clipped: they are the caller's own data, and may be huge.
MAX_ECHOED_INPUT_CHARS = 60

Handler = Callable[..., Awaitable[BaseModel]]
# Why a call failed, as its metrics label; the first match wins (ThrottledError is an API error too).
OUTCOMES: tuple[tuple[type[BaseException], str], ...] = (
    (ValidationError, "invalid"),
    (InvalidIdError, "invalid"),
    (Refused, "refused"),
    (ThrottledError, "throttled"),
    (SequencesError, "api_error"),
    (AuditError, "audit_error"),
)
MALFORMED_ANSWER = (
    "Nothing was changed: the client's answer to the confirmation was not the form it was asked to fill "
    "(the sequence's name, as text); ask the person again."
)


@dataclass(frozen=True)
class AppState:
    """What every tool call can reach, shared by all sessions of the process (made in the lifespan)."""

    api: SequencesClient
    settings: Settings
    store: Store
    audit: AuditLog
    budget: DeleteBudget
    metrics: Metrics
    readiness: Readiness  # the store adds its check here
    keys: KeyCatalog = field(default_factory=KeyCatalog)


def app_state(ctx: Context) -> AppState:
    return ctx.request_context.lifespan_context


class ToolArgs(ArgModelBase):
    """Base of every tool's arguments: unknown fields are errors; the handler gets the model whole."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        if nesting(data) > MAX_NESTING:
            raise ValueError(f"the arguments nest deeper than {MAX_NESTING} levels of arrays and objects")
        return data

    def model_dump_one_level(self) -> dict[str, Any]:
        return {ARGS: self}


@dataclass(frozen=True)
class ToolSpec:
    """A tool's declaration: everything but the schemas, which come from the handler's types."""

    handler: Handler
    name: str
    title: str
    annotations: ToolAnnotations
    deletes: bool = False  # offered only when the delete policy allows deleting at all

    @property
    def args_model(self) -> type[ToolArgs]:
        return get_type_hints(self.handler)[ARGS]

    @property
    def output_model(self) -> type[BaseModel]:
        return get_type_hints(self.handler)["return"]

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)


def tool(
    title: str, *, read_only: bool = False, destructive: bool = False, idempotent: bool = False, deletes: bool = False
) -> Callable[[Handler], ToolSpec]:
    """Declare a tool. Its hints are stated where they differ from the spec's defaults (not read-only,
    destructive, not idempotent, open-world: every tool here talks to the CRM), so each one says
    something; the others are the defaults, and every token of the catalogue is the user's."""

    def declare(handler: Handler) -> ToolSpec:
        hints = {"read_only_hint": True} if read_only else {"destructive_hint": False} if not destructive else {}
        if idempotent and not read_only:
            hints["idempotent_hint"] = True
        annotations = ToolAnnotations(**hints)
        return ToolSpec(handler, handler.__name__, title, annotations, deletes)

    return declare


class ToolMetadata(FuncMetadata):
    """The SDK's argument and result handling, with two changes.

    A string argument arrives as the string sent: the SDK decodes JSON-looking strings for any
    field not typed exactly `str` (for clients that send arrays as JSON text), which would turn
    q="null" into no search and code="[1]" into a list. Here only fields that cannot take a
    string are decoded. Results go out as compact JSON text (what most clients put in the
    model's context) beside structuredContent.
    """

    def pre_parse_json(self, data: dict[str, Any]) -> dict[str, Any]:
        text = _text_fields(self.arg_model)
        decoded = super().pre_parse_json({key: value for key, value in data.items() if key not in text})
        return {key: value if key in text else decoded[key] for key, value in data.items()}

    def convert_result(self, result: Any) -> Any:
        # Anything else (an InputRequiredResult between elicitation rounds) is the SDK's to handle.
        if not isinstance(result, self.output_model):
            return super().convert_result(result)
        data = result.model_dump(mode="json", by_alias=True, exclude_unset=True)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


class SequencesTool(Tool):
    """An SDK tool whose failures read as instructions to the model rather than stack traces."""

    async def run(self, arguments: dict[str, Any], context: Context, convert_result: bool = False) -> Any:
        outcome = "error"
        try:
            result = await self._explained(arguments, context, convert_result)
            outcome = "asking" if isinstance(result, InputRequiredResult) else "ok"
            return result
        except ToolError as exc:
            outcome = outcome_of(exc.__cause__)
            raise
        finally:
            app_state(context).metrics.tool_call(self.name, outcome)

    async def _explained(self, arguments: dict[str, Any], context: Context, convert_result: bool) -> Any:
        reporting = wait_reporter.set(progress_of_waits(context))
        try:
            return await super().run(arguments, context, convert_result)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(describe_invalid(self.name, cause, self.fn_metadata.arg_model)) from cause
            if isinstance(cause, ArgumentError):
                raise ToolError(
                    _invalid(self.name, [f"- {where}: {what}" for where, what in cause.problems])
                ) from cause
            if isinstance(cause, SequencesError | Refused | AuditError):
                raise ToolError(f"Error executing tool {self.name}: {cause}") from cause
            if isinstance(cause, ToolError) and str(cause).startswith("Resolver "):
                # The SDK's words for an answer that does not fit the form name our internals.
                raise ToolError(f"Error executing tool {self.name}: {MALFORMED_ANSWER}") from cause
            raise
        finally:
            wait_reporter.reset(reporting)


def progress_of_waits(ctx: Context) -> WaitReporter:
    """Each wait of this call as a progress notification (sent only if the client asked for progress)."""
    waits = itertools.count(1)

    async def report(seconds: float, why: str) -> None:
        await ctx.report_progress(next(waits), message=f"waiting {seconds:.1f} s for {why}")

    return report


def outcome_of(cause: BaseException | None) -> str:
    """A failed call's outcome label, from a small fixed set (metrics carry no messages)."""
    for kind, label in OUTCOMES:
        if isinstance(cause, kind):
            return label
    return "error"


def sdk_tool(spec: ToolSpec) -> SequencesTool:
    """Build the SDK's tool object from a declaration (schemas made portable)."""
    args, output = spec.args_model, spec.output_model
    resolved = find_resolved_parameters(spec.handler)
    return SequencesTool(
        fn=spec.handler,
        name=spec.name,
        title=spec.title,
        description=inspect.getdoc(spec.handler) or "",
        parameters=model_schema(args, "input", getattr(args, "UNDESCRIBED", frozenset())),
        fn_metadata=ToolMetadata(
            arg_model=args,
            output_model=output,
            output_schema=model_schema(output, "output"),
        ),
        is_async=True,
        context_kwarg=find_context_parameter(spec.handler),
        resolved_params=dict(resolved),
        resolver_plans=build_resolver_plans(resolved, {ARGS}),
        annotations=spec.annotations,
    )


@cache
def _text_fields(model: type[BaseModel]) -> frozenset[str]:
    """Argument names (and aliases) whose type accepts a string; fixed per model, so computed once."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        if str in {_bare(arm) for arm in (info.annotation, *get_args(info.annotation))}:
            names |= {name, info.alias or name}
    return frozenset(names)


def _bare(annotation: Any) -> Any:
    """`Annotated[str, ...]` is a str for this purpose."""
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def describe_invalid(tool_name: str, error: ValidationError, model: type[BaseModel]) -> str:
    return _invalid(tool_name, problem_lines(error, model))


def problem_lines(error: ValidationError, model: type[BaseModel], noun: str = "field") -> list[str]:
    """One line per bad field: where, what is wrong, and for unknown fields what is allowed."""
    allowed = ", ".join(field.alias or name for name, field in model.model_fields.items())
    lines = []
    for err in error.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "(arguments)"
        if err["type"] == "extra_forbidden":
            hint = f"unknown {noun}" + (f"; allowed {noun}s: {allowed}" if len(err["loc"]) == 1 else "")
        elif err["type"] == "missing":
            hint = f"required {noun} is missing"
        else:
            hint = f"{err['msg'].removeprefix('Value error, ')} (got {_clip(err.get('input'))})"
        lines.append(f"- {where}: {hint}")
    return lines


def _invalid(tool_name: str, lines: list[str]) -> str:
    return "\n".join([f"Error executing tool {tool_name}: invalid arguments, nothing was sent to the API:", *lines])


def _clip(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_ECHOED_INPUT_CHARS else text[:MAX_ECHOED_INPUT_CHARS] + "…"
