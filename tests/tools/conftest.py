"""Every tool test runs against the sandbox in each shape an API might answer in (sandbox/shapes.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from mcp_sequences.sandbox import create_sandbox_app
from mcp_sequences.sandbox.shapes import SHAPES


@pytest.fixture(params=SHAPES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Starlette]:
    app = create_sandbox_app(":memory:")
    app.state.shape.name = request.param
    yield app
    app.state.store.close()
