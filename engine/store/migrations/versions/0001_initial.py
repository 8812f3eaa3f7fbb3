"""The first audit store: policies, runs, inputs, audit and rejected records,
current tiers and the action outbox.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    _policies_and_runs()
    _records()
    _current_tiers_and_outbox()


def _policies_and_runs() -> None:
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("stored_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_policies"),
        sa.UniqueConstraint("name", "hash", name="uq_policies_name_hash"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.String(64), nullable=False),
        sa.Column("input_name", sa.Text(), nullable=False),
        sa.Column("input_digest", sa.String(80), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("last_line", sa.Integer(), nullable=False),
        sa.Column("graded", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("new_accounts", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policies.id"], name="fk_runs_policy_id_policies"
        ),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])


def _records() -> None:
    op.create_table(
        "inputs",
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_inputs"),
    )
    op.create_table(
        "audit_records",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=True),
        sa.Column("tier", sa.String(100), nullable=True),
        sa.Column("previous_tier", sa.String(100), nullable=True),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("score", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("input_digest", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_records"),
        sa.UniqueConstraint("run_id", "line", name="uq_audit_records_run_id_line"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_audit_records_run_id_runs"
        ),
        sa.ForeignKeyConstraint(
            ["input_digest"],
            ["inputs.digest"],
            name="fk_audit_records_input_digest_inputs",
        ),
    )
    op.create_index("ix_audit_records_account_id", "audit_records", ["account_id"])
    op.create_table(
        "rejected_records",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("record_problem", sa.Text(), nullable=True),
        sa.Column("input_digest", sa.String(80), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rejected_records"),
        sa.UniqueConstraint("run_id", "line", name="uq_rejected_records_run_id_line"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_rejected_records_run_id_runs"
        ),
        sa.ForeignKeyConstraint(
            ["input_digest"],
            ["inputs.digest"],
            name="fk_rejected_records_input_digest_inputs",
        ),
    )


def _current_tiers_and_outbox() -> None:
    op.create_table(
        "current_tiers",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("policy_name", sa.String(200), nullable=False),
        sa.Column("tier", sa.String(100), nullable=True),
        sa.Column("score", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("since_run_id", sa.String(32), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "policy_name", name="pk_current_tiers"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_current_tiers_run_id_runs"
        ),
        sa.ForeignKeyConstraint(
            ["since_run_id"], ["runs.id"], name="fk_current_tiers_since_run_id_runs"
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("policy_name", sa.String(200), nullable=False),
        sa.Column("policy_version", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("trigger_tier", sa.String(100), nullable=True),
        sa.Column("previous_tier", sa.String(100), nullable=True),
        sa.Column("tier", sa.String(100), nullable=False),
        sa.Column("score", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("as_of", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_outbox_run_id_runs"),
    )
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])


def downgrade() -> None:
    for index, table in (
        ("ix_outbox_status_id", "outbox"),
        ("ix_audit_records_account_id", "audit_records"),
        ("ix_runs_started_at", "runs"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "outbox",
        "current_tiers",
        "rejected_records",
        "audit_records",
        "inputs",
        "runs",
        "policies",
    ):
        op.drop_table(table)
