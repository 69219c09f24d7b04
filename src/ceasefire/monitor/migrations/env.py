"""Alembic environment: migrations run on the connection the store hands over.

The store opens one transaction (an immediate one on SQLite, under an advisory lock
on PostgreSQL), puts its connection in ``config.attributes["connection"]`` and calls
``alembic.command.upgrade``; nothing here opens a connection of its own.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
