"""The tables of the audit store, as SQLAlchemy Core metadata.

The Alembic migrations in `migrations/versions` create exactly these tables
(a test compares them); the store's queries are written against them.

- `policies`: every policy version a run used, with its source text, so a run
  can be replayed long after the file changed.
- `runs`: one row per run: policy, as-of, input name and digest, counts,
  status, and how far its committed batches reach (`last_line`).
- `inputs`: the raw input records, stored once per digest however many runs
  read them.
- `audit_records`: one row per graded (or excluded) account per run, its
  explanation (contributions, missing facts, override, matched actions) as
  JSON text.
- `rejected_records`: one row per rejected input record per run.
- `current_tiers`: each account's tier under each policy name, the state that
  decides which change-triggered actions fire.
- `outbox`: fired actions waiting for delivery, each with an idempotency key.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

policies = Table(
    "policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("name", "hash"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("policy_id", Integer, ForeignKey("policies.id"), nullable=False),
    Column("as_of", String(64), nullable=False),
    Column("input_name", Text, nullable=False),
    Column("input_digest", String(80), nullable=False),
    Column("options", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("owner", String(32), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("last_line", Integer, nullable=False),
    Column("graded", Integer, nullable=False),
    Column("excluded", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("new_accounts", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("fired", Integer, nullable=False),
    Column("tiers", JSON, nullable=False),
    Index(None, "started_at"),
)

inputs = Table(
    "inputs",
    metadata,
    Column("digest", String(80), primary_key=True),
    Column("record", Text, nullable=False),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("account_id", String),
    Column("tier", String(100)),
    Column("previous_tier", String(100)),
    Column("change", String(16), nullable=False),
    Column("excluded", Boolean, nullable=False),
    Column("score", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    # JSON text: contributions, missing facts, override, matched actions
    Column("explanation", Text, nullable=False),
    Column("input_digest", String(80), ForeignKey("inputs.digest"), nullable=False),
    UniqueConstraint("run_id", "line"),
    Index(None, "account_id"),
)

rejected_records = Table(
    "rejected_records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("account_id", String),
    Column("problems", JSON, nullable=False),
    Column("record_problem", Text),
    Column("input_digest", String(80), ForeignKey("inputs.digest")),
    UniqueConstraint("run_id", "line"),
)

# The account comes first in the key: a batch looks up many accounts of one
# policy, which the index then finds by account whatever the statistics say.
current_tiers = Table(
    "current_tiers",
    metadata,
    Column("account_id", String, primary_key=True),
    Column("policy_name", String(200), primary_key=True),
    Column("tier", String(100)),
    Column("score", String(64), nullable=False),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("since_run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(120), nullable=False, unique=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("policy_name", String(200), nullable=False),
    Column("policy_version", String(100), nullable=False),
    Column("account_id", String),
    Column("kind", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("trigger_tier", String(100)),
    Column("previous_tier", String(100)),
    Column("tier", String(100), nullable=False),
    Column("score", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("as_of", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Index(None, "status", "id"),
)
