"""A BI reader for tests/test_postgres.py: queries the marts in a loop until a stop file appears and reports, as
JSON on stdout, how many reads it made, its errors, and every read whose data did not match the publication row
read in the same transaction. Run as a separate process: ``bi_reader.py URL STOP_FILE``."""

import json
import os
import sys

import psycopg

url, stop = sys.argv[1], sys.argv[2]
reads, errors, mismatches, seen = 0, [], [], set()


def check(how: str, run_id: str, tables, counts: dict[str, int]) -> None:
    global reads
    reads += 1
    seen.add(run_id)
    expected = json.loads(tables) if isinstance(tables, str) else tables
    for name, n in counts.items():
        if expected[name] != n:
            mismatches.append(f"{how} {run_id}: {name} has {n} rows, its publication says {expected[name]}")


with psycopg.connect(url) as con, psycopg.connect(url) as session:
    while not os.path.exists(stop):
        try:
            # one statement: one snapshot, the publication and the data together
            row = con.execute("""SELECT p.run_id, p.tables,
                                        (SELECT count(*) FROM marts.fct_cooperative_snapshot),
                                        (SELECT count(*) FROM marts.mart_member_counts)
                                 FROM meta.publication p""").fetchall()[0]
            con.commit()
            check("statement", row[0], row[1], {"fct_cooperative_snapshot": row[2], "mart_member_counts": row[3]})
            # a BI session: one transaction (READ COMMITTED, the default), the publication first, then the data
            # in later statements
            run_id, tables = session.execute("SELECT run_id, tables FROM meta.publication").fetchall()[0]
            fct = session.execute("SELECT count(*) FROM marts.fct_cooperative_snapshot").fetchall()[0][0]
            members = session.execute("SELECT count(*) FROM marts.mart_member_counts").fetchall()[0][0]
            session.commit()
            check("transaction", run_id, tables, {"fct_cooperative_snapshot": fct, "mart_member_counts": members})
        except psycopg.Error as e:
            errors.append(f"{type(e).__name__}: {e}")
            con.rollback()
            session.rollback()

print(json.dumps({"reads": reads, "errors": errors[:5], "error_count": len(errors), "mismatches": mismatches[:5],
                  "mismatch_count": len(mismatches), "seen": sorted(seen)}))
