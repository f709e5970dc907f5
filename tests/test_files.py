"""Customer data on disk is private: files 0600 in 0700 folders, whatever the umask and whoever wrote them first."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from mcp_sequences.audit import AuditEntry, AuditLog
from mcp_sequences.files import private_file
from mcp_sequences.settings import Settings
from mcp_sequences.upstream import open_api


@pytest.fixture(autouse=True)
def lax_umask() -> Iterator[None]:
    """The usual umask, which would make new files world-readable (0644) and folders 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_owner_only_in_owner_only_folders(tmp_path: Path) -> None:
    file = private_file(tmp_path / "a" / "b" / "data.jsonl")
    assert (mode(file), mode(tmp_path / "a" / "b"), mode(tmp_path / "a")) == (0o600, 0o700, 0o700)


def test_an_existing_world_readable_file_is_tightened_and_keeps_its_content(tmp_path: Path) -> None:
    file = tmp_path / "audit.jsonl"
    file.write_text("kept\n")
    file.chmod(0o644)
    private_file(file)
    assert mode(file) == 0o600 and file.read_text() == "kept\n"


def test_an_existing_folder_is_left_as_it_is(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    private_file(tmp_path / "audit.jsonl")
    assert mode(tmp_path) == 0o755


def test_the_audit_log_is_created_private(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "data" / "audit.jsonl")
    log.record(AuditEntry(tool="patch_sequence", method="PATCH", path="/x", outcome="ok"))
    assert (mode(log.path), mode(log.path.parent)) == (0o600, 0o700)


@pytest.mark.anyio
async def test_the_sandbox_database_is_created_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "sandbox.db"
    async with AsyncExitStack() as stack:
        await open_api(Settings(sandbox=True, sandbox_db=str(db)), stack)
    assert (mode(db), mode(db.parent)) == (0o600, 0o700)
