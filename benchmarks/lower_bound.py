"""The lower bound: one DuckDB script that reads the same inbox files and computes the same marts in plain
SQL, with no orchestration, no quarantine bookkeeping and no Great Expectations. XLSX files (which DuckDB
cannot read without an extension) go through fastexcel, the fastest reader available here."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import fastexcel
import polars as pl

ODS_COLUMNS = 22


def _number(col: str) -> str:
    return f"TRY_CAST(replace(replace(regexp_replace({col}, '^Rp\\.? ?|,0+$', ''), '.', ''), ' ', '') AS BIGINT)"


def load_ods(con: duckdb.DuckDBPyConnection, inbox: Path, work: Path) -> None:
    con.execute("CREATE TABLE ods (snapshot_date DATE, c0 VARCHAR, c1 VARCHAR, c4 VARCHAR, c6 VARCHAR, c10 VARCHAR, "
                "c12 VARCHAR, c13 VARCHAR, c16 VARCHAR, c17 VARCHAR, c18 VARCHAR, c19 VARCHAR, c20 VARCHAR)")
    keep = "c0, c1, c4, c6, c10, c12, c13, c16, c17, c18, c19, c20"
    for path in sorted((inbox / "ods").iterdir()):
        digits = "".join(ch for ch in path.stem if ch.isdigit())[-8:]
        if len(digits) != 8:
            continue
        snapshot = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
        if path.suffix == ".csv":
            names = [f"c{i}" for i in range(ODS_COLUMNS)]
            data = path.read_bytes()
            if not data.startswith(b"\xef\xbb\xbf"):  # DuckDB reads no Windows-1252: re-encode it first
                path = work / f"{path.stem}.utf8.csv"
                path.write_bytes(data.decode("cp1252").encode("utf-8"))
            con.execute(f"""INSERT INTO ods SELECT DATE '{snapshot}', {keep} FROM read_csv(?, delim=';', header=true,
                all_varchar=true, names={names}, ignore_errors=true, null_padding=true)""", [str(path)])
        else:
            frame = fastexcel.read_excel(str(path)).load_sheet(0, header_row=3, dtypes="string").to_polars()
            frame.columns = [f"c{i}" for i in range(frame.width)]
            frame = frame.filter(pl.col("c0").str.contains(r"^\d{16}$").fill_null(False))  # noqa: F841
            con.execute(f"INSERT INTO ods SELECT DATE '{snapshot}', {keep} FROM frame")


def transform(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""CREATE TABLE fct AS SELECT snapshot_date, c0 AS nik, c1 AS name, upper(c4) AS region_text, c6 AS type,
        TRY_CAST(c10 AS INTEGER) AS last_rat_year, {_number('c12')} AS male, {_number('c13')} AS female,
        {_number('c16')} AS own_capital, {_number('c17')} AS external_capital, {_number('c18')} AS assets,
        {_number('c19')} AS volume, {_number('c20')} AS surplus
        FROM ods WHERE regexp_full_match(c0, '\\d{{16}}')""")
    con.execute("""CREATE TABLE mart_member_counts AS
        SELECT snapshot_date, region_text, type, sum(male) AS male, sum(female) AS female,
               (sum(male) + sum(female)) / sum(sum(male) + sum(female)) OVER (PARTITION BY snapshot_date) AS share
        FROM fct GROUP BY snapshot_date, region_text, type""")
    con.execute("""CREATE TABLE mart_health AS
        WITH r AS (SELECT *, own_capital / nullif(assets, 0) AS equity, volume / nullif(assets, 0) AS turnover,
                          surplus / nullif(assets, 0) AS roa,
                          (male + female) / nullif(lag(male + female) OVER (PARTITION BY nik ORDER BY snapshot_date), 0) - 1 AS growth
                   FROM fct)
        SELECT *, (CASE WHEN equity BETWEEN 0.41 AND 0.6 THEN 100 WHEN equity BETWEEN 0.21 AND 0.8 THEN 75 ELSE 40 END * 15
                 + CASE WHEN turnover >= 1.5 THEN 100 WHEN turnover >= 1 THEN 75 ELSE 40 END * 10
                 + CASE WHEN roa >= 0.1 THEN 100 WHEN roa >= 0.05 THEN 75 ELSE 30 END * 10
                 + CASE WHEN last_rat_year >= year(snapshot_date) - 1 THEN 100 ELSE 0 END * 15) / 50.0 AS score
        FROM r""")
    con.execute("""CREATE TABLE mart_health_by_region AS SELECT snapshot_date, region_text,
        count(*) FILTER (score >= 80) AS sehat, count(*) FILTER (score >= 66 AND score < 80) AS cukup,
        count(*) FILTER (score >= 51 AND score < 66) AS pengawasan, count(*) FILTER (score < 51) AS khusus
        FROM mart_health GROUP BY snapshot_date, region_text""")
    con.execute("""CREATE TABLE mart_coverage AS SELECT region_text, count(*) AS cooperatives, sum(male + female) AS members,
        rank() OVER (ORDER BY sum(male + female)) AS priority FROM fct
        WHERE snapshot_date = (SELECT max(snapshot_date) FROM fct) GROUP BY region_text""")


def check(con: duckdb.DuckDBPyConnection) -> None:
    failures = con.execute("""SELECT
        (SELECT count(*) FROM (SELECT snapshot_date, nik FROM fct GROUP BY snapshot_date, nik HAVING count(*) > 1)),
        (SELECT count(*) FROM fct WHERE male < 0 OR female < 0 OR assets < 0),
        (SELECT abs(sum(male + female) - (SELECT sum(male + female) FROM mart_member_counts)) FROM fct)""").fetchone()
    print(f"lower-bound checks: duplicates={failures[0]} negatives={failures[1]} reconciliation_diff={failures[2]}")


def publish(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for table in ("mart_member_counts", "mart_health", "mart_health_by_region", "mart_coverage"):
        con.execute(f"COPY {table} TO '{out / (table + '.parquet')}' (FORMAT parquet)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inbox", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(args.work / "lower_bound.duckdb"))
    con.execute("SET preserve_insertion_order = false")
    for name, step in (("ingest", lambda: load_ods(con, args.inbox, args.work)), ("transform", lambda: transform(con)),
                       ("checks", lambda: check(con)), ("publish", lambda: publish(con, args.work / "exports"))):
        start = time.perf_counter()
        step()
        print(f"phase {name} {time.perf_counter() - start:.3f}")
    rows = con.execute("SELECT count(*) FROM fct").fetchone()[0]
    print(f"rows {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
