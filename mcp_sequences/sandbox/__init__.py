"""A local, in-process implementation of the Sequences REST API for tests and demos."""

from .app import SANDBOX_API_KEY, RecordedRequest, create_sandbox_app

__all__ = ["SANDBOX_API_KEY", "RecordedRequest", "create_sandbox_app"]
