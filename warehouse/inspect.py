"""Small read-only looks into the build database for run metadata (row counts, previews)."""

from __future__ import annotations

import duckdb
import polars as pl


def table_row_count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int | None:
    try:
        return con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
    except duckdb.CatalogException:
        return None


def preview_markdown(con: duckdb.DuckDBPyConnection, schema: str, table: str, *, where_sha256: list[str] | None = None,
                     limit: int = 5, columns: int = 10) -> str:
    """The first rows of a table (optionally of some source files) as a markdown table."""
    query = f'SELECT * FROM "{schema}"."{table}"'
    params: list = []
    if where_sha256:
        query += " WHERE list_contains(?::VARCHAR[], _source_sha256)"
        params.append(where_sha256)
    frame = pl.from_arrow(con.sql(query + f" LIMIT {int(limit)}", params=params).to_arrow_table())
    frame = frame.select(frame.columns[:columns])
    if frame.is_empty():
        return "_no rows_"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *rows])

