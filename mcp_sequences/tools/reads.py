"""Read tools: list and retrieve sequences. They never change anything."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BeforeValidator, Field, field_validator

from mcp_sequences import paging, shaping
from mcp_sequences.client import ID_PATTERN
from mcp_sequences.models import SequenceFields, SequencePage, SequenceRecord, at_most, checked, count
from mcp_sequences.toolkit import ToolArgs, app_state, tool

MAX_PAGE_SIZE = 100
SORTABLE = Literal["name", "status", "priority", "startDate", "endDate", "createdAt", "updatedAt"]
# Fields a filter may name, besides dotted paths into them (owner.email).
FILTERABLE = frozenset({"id", "createdAt", "updatedAt", *SequenceFields.model_fields})
FIELD_LIST = r"\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*){0,49}\s*"
# Arguments that define a query, and so travel inside a cursor.
QUERY_ARGS = ("q", "status", "tag", "owner", "p", "sortBy", "order", "fields", "limit", "restorable")


def _json_object(value: Any) -> Any:
    """A model may write the filter as an object or as JSON text; both mean the same."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError('must be a JSON object, e.g. {"priority":"high"}') from None
    return value


class SequenceRef(ToolArgs):
    """Arguments naming one sequence."""

    id: Annotated[str, checked(ID_PATTERN, "1-64 letters, digits, '-' or '_' (list_sequences shows ids)")]


class ListSequencesArgs(ToolArgs):
    q: Annotated[str, at_most(200)] | None = Field(None, description="Search text.")
    status: Annotated[str, at_most(64)] | None = Field(None, description="Exact status.")
    tag: Annotated[str, at_most(100)] | None = Field(None, description="Has this tag.")
    owner: Annotated[str, at_most(200)] | None = Field(None, description="Owner email, id or name.")
    p: Annotated[dict[str, Any] | None, BeforeValidator(_json_object)] = Field(
        None, description='Exact-match filters, e.g. {"priority":"high"}.'
    )
    sortBy: SORTABLE | None = None
    order: Literal["asc", "desc"] | None = None
    fields: Annotated[str, checked(FIELD_LIST, "field names separated by commas, e.g. 'id,name,steps'")] | None = Field(
        None, description="Comma-separated: full records with only these."
    )
    limit: count(1, MAX_PAGE_SIZE) = 20
    page: count(1) = 1
    cursor: Annotated[str, at_most(4000)] | None = Field(None, description="A next_cursor, alone.")
    restorable: bool = Field(False, description="Instead: what this server deleted.")

    @field_validator("p")
    @classmethod
    def _known_filters(cls, p: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(key for key in p or {} if key.split(".")[0] not in FILTERABLE)
        if unknown:
            raise ValueError(
                f"filters on {', '.join(unknown)}: not fields of a sequence ({', '.join(sorted(FILTERABLE))})"
            )
        return p

    def filters(self) -> dict[str, Any]:
        """`p` with the simple filters folded in, as the API's exact-match policyFilters."""
        simple = {"status": self.status, "tags": self.tag, _owner_key(self.owner): self.owner}
        return dict(self.p or {}) | {key: value for key, value in simple.items() if value is not None}

    def field_list(self) -> list[str]:
        return [name.strip() for name in (self.fields or "").split(",") if name.strip()]

    def api_params(self) -> dict[str, Any]:
        filters = self.filters()
        params = {
            "q": self.q,
            "sortBy": self.sortBy,
            "order": self.order,
            "fields": ",".join(self.field_list()) or None,
            "p": json.dumps(filters, separators=(",", ":")) if filters else None,
            "limit": self.limit,
            "page": self.page,
        }
        return {key: value for key, value in params.items() if value is not None}


def _owner_key(owner: str | None) -> str:
    if owner and "@" in owner:
        return "owner.email"
    if owner and any(char.isdigit() for char in owner) and " " not in owner:
        return "owner.id"
    return "owner.name"


def resume(args: ListSequencesArgs) -> tuple[ListSequencesArgs, int]:
    """The query to run and how many items of its page to skip: a cursor's, or the arguments'."""
    if args.cursor is None:
        return args, 0
    state = paging.decode(args.cursor)
    given = args.model_dump(exclude_unset=True, exclude={"cursor"})
    try:
        saved = ListSequencesArgs.model_validate({key: state[key] for key in (*QUERY_ARGS, "page") if key in state})
    except ValueError:
        raise paging.CursorError() from None
    differing = sorted(key for key, value in given.items() if getattr(saved, key) != value)
    if differing:
        raise paging.CursorError(f"resumes its own query; pass it alone (it differs in {', '.join(differing)})")
    skip = state.get("skip", 0)
    return saved, skip if isinstance(skip, int) and skip >= 0 else 0


def cursor_for(args: ListSequencesArgs, page: int, skip: int) -> str:
    query = args.model_dump(exclude_defaults=True, include=set(QUERY_ARGS))
    return paging.encode(query | {"page": page, "skip": skip})


@tool("List sequences", read_only=True)
async def list_sequences(args: ListSequencesArgs, ctx: Context) -> SequencePage:
    """Find sequences, newest first: a summary of each. Page on with cursor=next_cursor while has_more."""
    query, skip = resume(args)
    state = app_state(ctx)
    if query.restorable:
        page = await restorable_page(query, skip, ctx)
    else:
        answer = shaping.ListAnswer(await state.api.list(query.api_params()))
        state.keys.learn(answer.items)
        page = build_page(query, skip, answer)
    return paging.fit(page, state.settings.max_result_chars, lambda kept: cursor_for(query, query.page, skip + kept))


def build_page(query: ListSequencesArgs, skip: int, answer: shaping.ListAnswer) -> SequencePage:
    fields = query.field_list()
    items = [shaping.project(item, fields) if fields else shaping.summary(item) for item in answer.items[skip:]]
    has_more = answer.has_more(query.page, query.limit)
    notes = [answer.note, _missing_fields(fields, answer.items), _empty_hint(query, answer.items)]
    extras = {
        "total": answer.total(),
        "next_cursor": cursor_for(query, query.page + 1, 0) if has_more else None,
        "note": " ".join(note for note in notes if note) or None,
        "raw": shaping.shown(answer.raw) if answer.raw is not None else None,
    }
    present = {key: value for key, value in extras.items() if value is not None}
    return SequencePage(items=items, page=query.page, has_more=has_more, **present)


def _missing_fields(fields: list[str], items: list[dict[str, Any]]) -> str | None:
    missing = [name for name in fields if items and not any(name in item for item in items)]
    return f"No sequence on this page has {', '.join(missing)}." if missing else None


def _empty_hint(query: ListSequencesArgs, items: list[dict[str, Any]]) -> str | None:
    if items or not query.filters() or query.page > 1:
        return None
    return "Nothing matched the filters (exact matches); try q= for a looser search."


async def restorable_page(query: ListSequencesArgs, skip: int, ctx: Context) -> SequencePage:
    """Deletions this server made and has not undone, newest first, from the audit log."""
    deletions = [(entry, restored) for entry, restored in await app_state(ctx).audit.deletions() if restored is None]
    start = (query.page - 1) * query.limit
    chosen = deletions[start : start + query.limit][skip:]
    items = [shaping.summary(entry.before or {}) | _deletion_facts(entry) for entry, _ in chosen]
    has_more = start + query.limit < len(deletions)
    more = {"next_cursor": cursor_for(query, query.page + 1, 0)} if has_more else {}
    return SequencePage(items=items, page=query.page, total=len(deletions), has_more=has_more, **more)


def _deletion_facts(entry: Any) -> dict[str, str]:
    facts = {"deletedAt": entry.time[:19] + "Z", "deletedBy": entry.caller}
    return {key: value for key, value in facts.items() if value}


@tool("Get a sequence", read_only=True)
async def get_sequence(args: SequenceRef, ctx: Context) -> SequenceRecord:
    """One sequence in full: steps, schedule, owner, contacts, dates."""
    state = app_state(ctx)
    record = shaping.record(await state.api.get(args.id), args.id)
    state.keys.learn([record])
    return SequenceRecord.model_validate(shaping.shown(record))
