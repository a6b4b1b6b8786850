"""Which PostgreSQL errors a retry may cure: the writer retries a batch that met one, the sender
a record, the sweep waits for its next turn."""

from __future__ import annotations

import asyncpg


class Unreachable(Exception):
    """The connection was lost and a new one could not be made yet (the server is down,
    restarting or out of connection slots)."""


class Fenced(Exception):
    """Another process took the lead (the leadership term moved past this writer's): the batch
    was not written, and no later one will be. Never transient."""


TRANSIENT: tuple[type[BaseException], ...] = (
    Unreachable,
    OSError,  # the connection reset or refused
    TimeoutError,
    asyncpg.PostgresConnectionError,  # lost in the middle of a statement
    asyncpg.OperatorInterventionError,  # shutting down, starting up, cancelled
    asyncpg.TransactionRollbackError,  # serialization failure, deadlock
    asyncpg.LockNotAvailableError,  # lock_timeout
    asyncpg.InsufficientResourcesError,  # disk full, out of memory, too many connections
    asyncpg.IdleInTransactionSessionTimeoutError,
)

# What asyncpg raises when a statement meets a connection the server has just ended (its
# goodbye arrived but the socket is not closed yet: "another operation is in progress"), or one
# already closed. The connection is of no more use: drop it, and a new one may do.
BROKEN_CONNECTION: tuple[type[BaseException], ...] = (
    asyncpg.InternalClientError,
    asyncpg.InterfaceError,
)
