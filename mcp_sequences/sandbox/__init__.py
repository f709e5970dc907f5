"""A local, in-process implementation of the Sequences REST API for tests and demos."""

from .app import (
    SANDBOX_API_KEY,
    SANDBOX_EMAIL,
    SANDBOX_PASSWORD,
    RecordedRequest,
    Sessions,
    create_sandbox_app,
)
from .faults import Fault, FaultKind, FaultPlan, SandboxTransport

__all__ = [
    "SANDBOX_API_KEY",
    "SANDBOX_EMAIL",
    "SANDBOX_PASSWORD",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RecordedRequest",
    "SandboxTransport",
    "Sessions",
    "create_sandbox_app",
]
