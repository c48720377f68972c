"""Build verdicts: one per build of the marts, covering every blocking check of every kind.

A build starts when dbt is about to rebuild the marts in ``build.duckdb`` (``start``). Everything that judges
it records a result against it: the gate results of the files it is built from, every dbt node (models and
their contracts, seeds, data tests, singular tests, unit tests), the GX suites on the marts, and failed or
skipped steps. ``finish`` concludes it. Its verdict is ``passed`` only when it was finished, every required
check ran and no blocking result failed; ``failed`` when a blocking result failed; otherwise ``unfinished``
(interrupted, or steps after dbt never ran). Every way of publishing (the Dagster asset, ``koperasi
publish``) publishes only the latest build, and only when its verdict is ``passed``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

import duckdb

from ingestion.privacy import mask
from ingestion.registry import current_files

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.builds (
    build_id VARCHAR PRIMARY KEY, run_id VARCHAR, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
    source_snapshots DATE[], source_files JSON);
CREATE TABLE IF NOT EXISTS quality.build_results (
    build_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, name VARCHAR NOT NULL, asset VARCHAR,
    blocking BOOLEAN NOT NULL, passed BOOLEAN NOT NULL, detail VARCHAR, recorded_at TIMESTAMP NOT NULL);
-- What the steward's report needs to say a check in plain words (test type, model, column, arguments) and
-- which rows or values are behind a failure (a few, never personal columns: see warehouse.examples).
ALTER TABLE quality.build_results ADD COLUMN IF NOT EXISTS facts JSON;
ALTER TABLE quality.build_results ADD COLUMN IF NOT EXISTS examples JSON;
-- What the build was made from (warehouse.fingerprint): a run whose inputs equal the served build's builds nothing.
ALTER TABLE quality.builds ADD COLUMN IF NOT EXISTS input_fingerprint VARCHAR;
-- The digest of each raw input dbt reads and of the project settings (warehouse.selection): what the next build
-- compares with to leave unchanged nodes as they are.
ALTER TABLE quality.builds ADD COLUMN IF NOT EXISTS input_parts JSON;
"""

PASSED, FAILED, UNFINISHED = "passed", "failed", "unfinished"
SKIPPED = "skipped: a node it depends on failed"
UNCHANGED = "not run again: its definition and inputs are unchanged since build"


@dataclass(frozen=True)
class CheckResult:
    kind: str  # file_gate | dbt_model | dbt_seed | dbt_test | dbt_unit_test | step | run | required
    name: str
    passed: bool
    blocking: bool = True
    asset: str | None = None
    detail: str | None = None
    facts: dict | None = None  # e.g. {"test": "not_null", "model": ..., "column": ...}
    examples: list[dict] | None = None  # a few of the rows behind a failure

    def describe(self) -> str:
        where = f" on {self.asset}" if self.asset else ""
        return f"{self.kind} {self.name}{where}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Verdict:
    build_id: str
    run_id: str | None
    started_at: datetime
    finished_at: datetime | None
    source_snapshots: list[date]
    source_files: list[dict]
    results: list[CheckResult] = field(default_factory=list)
    input_fingerprint: str | None = None
    input_parts: dict[str, str] | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocking and not r.passed]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.blocking and not r.passed]

    @property
    def verdict(self) -> str:
        if self.failures:
            return FAILED
        return PASSED if self.finished_at is not None else UNFINISHED

    @property
    def passed(self) -> bool:
        return self.verdict == PASSED

    def summary(self) -> dict:
        return {"build_id": self.build_id, "verdict": self.verdict, "checks": len(self.results),
                "passed": sum(r.passed for r in self.results), "failed_blocking": len(self.failures),
                "warnings": len(self.warnings)}

    def explain(self) -> list[str]:
        """Why it cannot be published, for a person."""
        if self.failures:
            causes = [r for r in self.failures if r.detail != SKIPPED]
            skipped = [r.name for r in self.failures if r.detail == SKIPPED]
            lines = [r.describe()[:500] for r in causes]
            if skipped:
                lines.append(f"{len(skipped)} dbt nodes skipped after that: {', '.join(skipped[:5])}"
                             + (", ..." if len(skipped) > 5 else ""))
            return lines
        if self.finished_at is None:
            return [f"the build of run {self.run_id} did not finish: it was interrupted, or the steps after dbt "
                    "(mart checks, publication) failed or were skipped; run 'koperasi run'"]
        return []


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def start(con: duckdb.DuckDBPyConnection, build_id: str, run_id: str | None = None,
          input_fingerprint: str | None = None, input_parts: dict[str, str] | None = None) -> None:
    """A new build of the marts begins; it is built from the files the registry says are current."""
    ensure_schema(con)
    files = con.execute(f"""SELECT source, file, sha256, snapshot_date FROM raw.ingested_files
                            WHERE sha256 IN ({current_files()}) ORDER BY source, snapshot_date, file""").fetchall()
    snapshots = sorted({d for source, _, _, d in files if source == "ods" and d is not None})
    con.execute("DELETE FROM quality.build_results WHERE build_id = ?", [build_id])
    con.execute("DELETE FROM quality.builds WHERE build_id = ?", [build_id])
    con.execute("INSERT INTO quality.builds (build_id, run_id, started_at, finished_at, source_snapshots, source_files, "
                "input_fingerprint, input_parts) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                [build_id, run_id or build_id, _now(), snapshots,
                 json.dumps([{"source": s, "file": f, "sha256": h} for s, f, h, _ in files]), input_fingerprint,
                 None if input_parts is None else json.dumps(input_parts, sort_keys=True)])
    record(con, build_id, [CheckResult("file_gate", f, True, asset=f"raw ({s})",
                                       detail="passed its blocking checks when it was loaded")
                           for s, f, _, _ in files])


def record(con: duckdb.DuckDBPyConnection, build_id: str, results: list[CheckResult]) -> None:
    ensure_schema(con)
    now = _now()
    rows = [(build_id, r.kind, r.name, r.asset, r.blocking, r.passed, r.detail, now,
             None if r.facts is None else json.dumps(r.facts, default=str),
             None if r.examples is None else json.dumps(r.examples, default=str)) for r in results]
    if rows:
        con.executemany("INSERT INTO quality.build_results (build_id, kind, name, asset, blocking, passed, detail, "
                        "recorded_at, facts, examples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def carry_over(con: duckdb.DuckDBPyConnection, build_id: str, reference: str, names: set[str]) -> int:
    """Copies into ``build_id`` the dbt results of ``reference`` for the nodes it leaves as ``reference`` built them
    (``warehouse.selection``): the verdict still covers every node. Returns how many results were carried."""
    if not names:
        return 0
    return con.execute("""INSERT INTO quality.build_results (build_id, kind, name, asset, blocking, passed, detail,
                                                             recorded_at, facts, examples)
                          SELECT ?, kind, name, asset, blocking, passed, concat_ws(' | ', detail, ?), ?, facts,
                                 examples
                          FROM quality.build_results
                          WHERE build_id = ? AND list_contains(?::VARCHAR[], name)
                            AND kind IN ('dbt_model', 'dbt_seed', 'dbt_test', 'dbt_unit_test', 'dbt_snapshot')""",
                       [build_id, f"{UNCHANGED} {reference}", _now(), reference, sorted(names)]).fetchall()[0][0]


def latest_build_id(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        rows = con.execute("SELECT build_id FROM quality.builds ORDER BY started_at DESC LIMIT 1").fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def build_for_run(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The build a run's checks judge: the run's own build, else the latest one (a check run on its own)."""
    ensure_schema(con)
    rows = con.execute("SELECT build_id FROM quality.builds WHERE build_id = ?", [run_id]).fetchall()
    return rows[0][0] if rows else latest_build_id(con)


def finish(con: duckdb.DuckDBPyConnection, build_id: str, problems: list[CheckResult] = (),
           required: list[tuple[str, str]] = ()) -> Verdict:
    """Concludes a build: records the problems found at its end and a failure for every required
    (kind, name) result that is missing (a check that never ran passes nothing)."""
    present = {(r.kind, r.name) for r in load(con, build_id).results}
    missing = [CheckResult("required", f"{kind} {name}", False, detail="did not run in this build")
               for kind, name in required if (kind, name) not in present]
    record(con, build_id, [*problems, *missing])
    con.execute("UPDATE quality.builds SET finished_at = ? WHERE build_id = ?", [_now(), build_id])
    return load(con, build_id)


def load(con: duckdb.DuckDBPyConnection, build_id: str) -> Verdict:
    cursor = con.execute("SELECT * FROM quality.builds WHERE build_id = ?", [build_id])
    names = [d[0] for d in cursor.description]  # a database from before input_fingerprint has no such column
    row = cursor.fetchall()
    if not row:
        raise KeyError(build_id)
    build = dict(zip(names, row[0]))
    build_id, run_id, started_at, finished_at, snapshots, files, fingerprint, parts = (
        build["build_id"], build["run_id"], build["started_at"], build["finished_at"], build["source_snapshots"],
        build["source_files"], build.get("input_fingerprint"), build.get("input_parts"))
    cursor = con.execute("SELECT * FROM quality.build_results WHERE build_id = ? ORDER BY passed, kind, name",
                         [build_id])
    columns = [d[0] for d in cursor.description]  # a database from before facts/examples has neither
    results = []
    for values in cursor.fetchall():
        row = dict(zip(columns, values))
        results.append(CheckResult(row["kind"], row["name"], row["passed"], row["blocking"], row["asset"],
                                   row["detail"], _json(row.get("facts")), _json(row.get("examples"))))
    return Verdict(build_id, run_id, started_at, finished_at, list(snapshots or []), json.loads(files or "[]"),
                   results, fingerprint, _json(parts))


def _json(text: str | None):
    return None if text is None else json.loads(text)


def latest(con: duckdb.DuckDBPyConnection) -> Verdict | None:
    build_id = latest_build_id(con)
    return load(con, build_id) if build_id else None


def result_name(unique_id: str) -> str:
    """How a build's results name a dbt node: its unique id without "<type>.<project>."."""
    return unique_id.split(".", 2)[-1]


def required_dbt_tests(manifest: dict) -> list[tuple[str, str]]:
    """The dbt tests a build must have run to be published (``meta.required_for_publication`` in the test's
    config): the reconciliations across layers, which no selection may leave out."""
    return sorted(("dbt_test", result_name(n["unique_id"])) for n in manifest.get("nodes", {}).values()
                  if n.get("resource_type") == "test" and (n.get("config") or {}).get("meta", {}).get(
                      "required_for_publication"))


def dbt_results(run_results: dict, manifest: dict | None = None) -> list[CheckResult]:
    """Every node of a dbt invocation (run_results.json) as a check result. A model that failed (its contract
    included) or was skipped, and a test or unit test that failed, errored or was skipped, block the build;
    a test at warn severity that found rows does not. With the manifest, each result carries its node's facts
    (test type and arguments, model, column, description) for a report in plain words."""
    nodes = {**(manifest or {}).get("nodes", {}), **(manifest or {}).get("unit_tests", {})}
    results = []
    for node in run_results.get("results", []):
        unique_id, status = node["unique_id"], node["status"]
        resource_type = unique_id.split(".", 1)[0]
        kind = {"model": "dbt_model", "seed": "dbt_seed", "test": "dbt_test", "unit_test": "dbt_unit_test",
                "snapshot": "dbt_snapshot"}.get(resource_type)
        if kind is None:  # exposures and the like: no-ops that judge nothing
            continue
        name = result_name(unique_id)
        passed = status in ("success", "pass")
        blocking = status != "warn"
        detail = None if passed else SKIPPED if status == "skipped" else \
            f"{status}: {(node.get('message') or '').strip()[:300]}"
        results.append(CheckResult(kind, name, passed, blocking, detail=detail, facts=node_facts(nodes.get(unique_id))))
    return results


def node_facts(node: dict | None) -> dict | None:
    """What a dbt node is about, from the manifest: enough to say it in words without dbt's identifiers."""
    if not node:
        return None
    metadata = node.get("test_metadata") or {}
    kwargs = {k: v for k, v in (metadata.get("kwargs") or {}).items() if k not in ("model", "column_name")}
    attached = node.get("attached_node") or ""
    model = attached.split(".")[-1] if attached else (node.get("model") or None)
    if not model and node.get("resource_type") in ("model", "seed"):
        model = node.get("name")
    facts = {"type": node.get("resource_type"), "test": metadata.get("name") or (
                 node.get("name") if node.get("resource_type") in ("test", "unit_test") else None),
             "model": model, "column": node.get("column_name"), "arguments": kwargs,
             "description": (node.get("description") or "").strip() or None,
             "steward_text": ((node.get("meta") or {}).get("steward") or (node.get("config") or {}).get("meta", {})
                              .get("steward"))}
    return {k: v for k, v in facts.items() if v not in (None, {}, "")}


def with_failing_rows(con: duckdb.DuckDBPyConnection, results: list[CheckResult], run_results: dict,
                      limit: int = 5) -> list[CheckResult]:
    """Adds to each dbt test that found rows (failed or warned) a few of those rows, by running its compiled
    query again: the report can then name the region or the registry number behind a failure. Values that look
    personal are masked."""
    compiled = {n["unique_id"].split(".", 2)[-1]: n.get("compiled_code") for n in run_results.get("results", [])
                if n["unique_id"].startswith("test.") and n["status"] in ("fail", "warn")}
    enriched = []
    for result in results:
        sql = compiled.get(result.name) if result.kind == "dbt_test" else None
        if sql:
            try:
                cursor = con.execute(f"SELECT * FROM ({sql}) AS failing LIMIT {int(limit)}")
                columns = [d[0] for d in cursor.description]
                rows = [{c: mask(None if v is None else str(v)) for c, v in zip(columns, row)}
                        for row in cursor.fetchall()]
                result = replace(result, examples=rows)
            except duckdb.Error:  # the report then says the count only
                pass
        enriched.append(result)
    return enriched
