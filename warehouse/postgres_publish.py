"""Write-audit-publish of the marts to PostgreSQL, for BI tools that speak PostgreSQL over the network.

From the DuckDB serving file just published: every mart is bulk-loaded with ``COPY`` into a new schema, given
the keys the dbt tests declare (``unique``/``unique_combination`` -> primary key, ``relationships`` to another
mart -> foreign key) and the dbt descriptions as comments, then audited against the serving file (row count and
a checksum per table: sums of the numeric columns and of the text lengths). One transaction then swaps it in as
``marts`` (the previous one kept as ``marts_previous``), writes ``meta.publication`` and grants the read-only
role ``koperasi_bi`` USAGE and SELECT on ``marts`` and ``meta`` only. PostgreSQL DDL is transactional: a reader
sees the old schema or the new one. A schema left half-loaded by a killed publisher is dropped by the next.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from ingestion.private_files import stored_secret
from warehouse.dbt_contract import DbtFacts, dbt_facts
from warehouse.paths import KoperasiPaths

BI_ROLE = "koperasi_bi"

_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint",
          "DOUBLE": "double precision", "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date",
          "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "HUGEINT": "numeric(38, 0)"}
_NUMERIC = {"bigint", "integer", "smallint", "double precision", "real"}


class PostgresPublishFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: list[tuple[str, str]]  # (column, PostgreSQL type)


def pg_type(duckdb_type: str) -> str:
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duckdb_type)
    if decimal:
        return f"numeric({decimal[1]}, {decimal[2]})"
    return _TYPES.get(duckdb_type, "text")


# Served schemas, swapped together: the marts, and the stewards' quality tables (no personal data).
SERVED_SCHEMAS = ("marts", "quality")


def _shapes(serving: duckdb.DuckDBPyConnection, schema: str) -> list[TableShape]:
    rows = serving.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                           "WHERE table_schema = ? ORDER BY table_name, ordinal_position", [schema]).fetchall()
    shapes: dict[str, list] = {}
    for table, column, data_type in rows:
        shapes.setdefault(table, []).append((column, pg_type(data_type)))
    return [TableShape(t, c) for t, c in shapes.items()]


def _audit_expressions(shape: TableShape, quote: Callable[[str], str], double: str) -> str:
    """Row count and a checksum: the sum of every numeric column and of every text column's lengths."""
    exprs = ["count(*)"]
    for column, kind in shape.columns:
        if kind in _NUMERIC or kind.startswith("numeric"):
            exprs.append(f"sum({quote(column)})::{double}")
        elif kind == "text":
            exprs.append(f"sum(length({quote(column)}))::{double}")
    return ", ".join(exprs)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def publish(url: str, serving_db: Path, publication: dict, *, bi_password: str, version: str,
            facts: DbtFacts | None = None) -> dict[str, int]:
    """Loads, audits and swaps in the marts (and quality tables) of ``serving_db``; returns rows per mart."""
    facts = facts or dbt_facts()
    with duckdb.connect(str(serving_db), read_only=True) as serving, \
            psycopg.connect(url, autocommit=True) as con, tempfile.TemporaryDirectory() as tmp:
        new_schemas: dict[str, str] = {}
        counts: dict[str, int] = {}
        for schema in SERVED_SCHEMAS:
            for (leftover,) in con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                                           [schema + "\\_new\\_%"]).fetchall():
                con.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(leftover)))
            shapes = _shapes(serving, schema)
            if not shapes:
                continue
            new_schemas[schema] = new_schema = f"{schema}_new_{version}"
            con.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(new_schema)))
            for shape in shapes:
                _load(con, serving, shape, new_schema, Path(tmp), facts, source_schema=schema)
                rows = _audit(con, serving, shape, new_schema, source_schema=schema)
                if schema == "marts":
                    counts[shape.name] = rows
            if schema == "marts":
                _constrain(con, new_schema, facts, {s.name for s in shapes})
        _swap(con, new_schemas, publication, bi_password)
    return counts


def published_build(url: str) -> str | None:
    """The build the PostgreSQL marts hold (None: nothing published there yet)."""
    with psycopg.connect(url) as con:
        if not con.execute("SELECT to_regclass('meta.publication') IS NOT NULL").fetchall()[0][0]:
            return None
        rows = con.execute("SELECT build_id FROM meta.publication").fetchall()
    return rows[0][0] if rows else None


def publish_serving_file(url: str, serving_db: Path, *, bi_password: str, version: str) -> dict[str, int]:
    """Publishes what a DuckDB serving file holds, with its own ``meta.publication`` row (the file was audited
    and published already; e.g. PostgreSQL catching up after it was added or rebuilt)."""
    with duckdb.connect(str(serving_db), read_only=True) as con:
        row = con.execute("SELECT build_id, run_id, published_at, source_snapshots, source_files::VARCHAR, "
                          "check_summary::VARCHAR, tables::VARCHAR FROM meta.publication").fetchall()[0]
    publication = dict(zip(["build_id", "run_id", "published_at", "source_snapshots"], row[:4]))
    publication.update(source_files=json.loads(row[4]), check_summary=json.loads(row[5]), tables=json.loads(row[6]))
    return publish(url, serving_db, publication, bi_password=bi_password, version=version)


def _load(con, serving, shape: TableShape, schema: str, tmp: Path, facts: DbtFacts, *, source_schema: str) -> None:
    table = sql.Identifier(schema, shape.name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(c), sql.SQL(t),
                                  sql.SQL(" NOT NULL" if source_schema == "marts" and facts.required(shape.name, c)
                                          else ""))
        for c, t in shape.columns)
    con.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))
    csv = tmp / f"{shape.name}.csv"
    serving.execute(f"COPY {source_schema}.\"{shape.name}\" TO '{csv}' (FORMAT csv, HEADER false)")
    with con.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(table)) as copy, \
            csv.open("rb") as f:
        while block := f.read(1 << 20):
            copy.write(block)


def _audit(con, serving, shape: TableShape, schema: str, *, source_schema: str) -> int:
    duck_quote = lambda c: '"' + c.replace('"', '""') + '"'  # noqa: E731
    duck = serving.execute(f"SELECT {_audit_expressions(shape, duck_quote, 'DOUBLE')} "
                           f"FROM {source_schema}.{duck_quote(shape.name)}").fetchall()[0]
    pg_exprs = sql.SQL(_audit_expressions(shape, lambda c: sql.Identifier(c).as_string(con), "double precision"))
    pg = con.execute(sql.SQL("SELECT {} FROM {}").format(pg_exprs, sql.Identifier(schema, shape.name))).fetchall()[0]
    if not all(_same(a, b) for a, b in zip(duck, pg)):
        raise PostgresPublishFailed(f"audit of {shape.name}: the loaded table differs from the build "
                                    f"(serving {duck[:3]}..., PostgreSQL {pg[:3]}...)")
    return int(pg[0])


def _constrain(con, schema: str, facts: DbtFacts, tables: set[str]) -> None:
    """Keys and comments; a duplicate key fails here, before anything is swapped in."""
    for table, key in facts.primary_keys.items():
        if table in tables:
            try:
                con.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                    sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, key))))
            except psycopg.errors.UniqueViolation as e:
                raise PostgresPublishFailed(f"audit of {table}: key ({', '.join(key)}) is not unique: {e}") from None
    for table, column, target, field in facts.usable_foreign_keys(tables):
        con.execute(sql.SQL("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {} ({})").format(
            sql.Identifier(schema, table), sql.Identifier(column), sql.Identifier(schema, target),
            sql.Identifier(field)))
    for table, description in facts.tables.items():
        if table in tables and description:
            con.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(sql.Identifier(schema, table),
                                                                    sql.Literal(description)))
    for (table, column), description in facts.columns.items():
        if table in tables and description:
            con.execute(sql.SQL("COMMENT ON COLUMN {} IS {}").format(sql.Identifier(schema, table, column),
                                                                     sql.Literal(description)))


META_DDL = """CREATE TABLE IF NOT EXISTS meta.publication (
    build_id text NOT NULL, run_id text NOT NULL, published_at timestamp NOT NULL, source_snapshots date[],
    source_files jsonb, check_summary jsonb, tables jsonb)"""


SWAP_ATTEMPTS = 20


def _swap(con, new_schemas: dict[str, str], publication: dict, bi_password: str) -> None:
    """Swaps in one transaction; retried when it loses a deadlock against a reader (the reader goes on)."""
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with con.transaction():
                _swap_once(con, new_schemas, publication, bi_password)
            return
        except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable):
            if attempt == SWAP_ATTEMPTS:
                raise


def _lock_served(con) -> None:
    """Readers take their locks before their snapshot: holding ACCESS EXCLUSIVE on what they read (meta first)
    makes a reader either finish on the old marts before the swap or wait and then read the new ones; without
    it a reader could resolve the old tables and read the new meta.publication row."""
    con.execute("SET LOCAL lock_timeout = '30s'")
    served = con.execute("""SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                            JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE c.relkind = 'r' AND (n.nspname IN ('marts', 'quality')
                                  OR (n.nspname = 'meta' AND c.relname = 'publication'))
                            ORDER BY n.nspname = 'meta' DESC, c.relname""").fetchall()
    for (table,) in served:
        con.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(table)))


def _swap_once(con, new_schemas: dict[str, str], publication: dict, bi_password: str) -> None:
    _lock_served(con)
    for schema, new_schema in new_schemas.items():
        previous = f"{schema}_previous"
        con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(previous)))
        if con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchall():
            con.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(schema), sql.Identifier(previous)))
            if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [BI_ROLE]).fetchall():
                # grants travel with a renamed schema: BI reads the current publication only
                con.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(
                    sql.Identifier(previous), sql.Identifier(BI_ROLE)))
                con.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(
                    sql.Identifier(previous), sql.Identifier(BI_ROLE)))
        con.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(new_schema), sql.Identifier(schema)))
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(META_DDL)
    con.execute("DELETE FROM meta.publication")
    con.execute("INSERT INTO meta.publication VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [publication["build_id"], publication["run_id"], publication["published_at"],
                 publication["source_snapshots"], json.dumps(publication["source_files"]),
                 json.dumps(publication["check_summary"]), json.dumps(publication["tables"])])
    _grant_reader(con, bi_password, ["marts", "meta", *(s for s in new_schemas if s != "marts")])


def _grant_reader(con, password: str, schemas: list[str]) -> None:
    """The BI login: read-only, on the served schemas only (marts, meta, quality), never superuser."""
    exists = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [BI_ROLE]).fetchall()
    verb = "ALTER" if exists else "CREATE"
    con.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(
        sql.Identifier(BI_ROLE), sql.Literal(password)))
    for schema in schemas:
        con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(BI_ROLE)))
        con.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(BI_ROLE)))
    # PostgreSQL 15 grants nobody CREATE on schema public; older servers grant it to PUBLIC (revoke it there).


def bi_url(url: str, password: str) -> str:
    """The connection string a BI tool uses: the same server and database, as koperasi_bi."""
    from warehouse.postgres_server import login_url

    return login_url(url, user=BI_ROLE, password=password)


def bi_password(home: Path) -> str:
    """``KOPERASI_BI_PASSWORD``, or one generated for the installation (0600 under ``$KOPERASI_HOME``)."""
    if os.environ.get("KOPERASI_BI_PASSWORD"):
        return os.environ["KOPERASI_BI_PASSWORD"]
    return stored_secret(home / "postgres" / "bi.password", 18)


def catch_up(url: str, paths: KoperasiPaths) -> str | None:
    """PostgreSQL given the current serving file when it holds another build (first start, a new or rebuilt server,
    a server that was down during a publication). Called under the pipeline lock. Returns what it did."""
    if not paths.serving_db.exists():
        return None
    with duckdb.connect(str(paths.serving_db), read_only=True) as con:
        (served,), = con.execute("SELECT build_id FROM meta.publication").fetchall()
    if published_build(url) == served:
        return None
    publish_serving_file(url, paths.serving_db, bi_password=bi_password(paths.home), version=f"catchup{os.getpid()}")
    return f"published build {served} (the current serving file) to PostgreSQL"
