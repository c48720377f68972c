"""The ``koperasi`` command. Thin: each subcommand calls the package that does the work.

Imports are deferred so that ``koperasi sample`` and ``koperasi ingest`` start without loading Dagster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from ingestion.mapping import SOURCES
from warehouse.paths import get_paths

def _sample(args: argparse.Namespace) -> int:
    from ingestion.samples import SampleSpec, generate_samples

    paths = get_paths()
    out = Path(args.out) if args.out else paths.inbox
    from ingestion.province import province_code

    province = args.province or province_code()
    result = generate_samples(SampleSpec(out=out, scale=args.scale, seed=args.seed, snapshots=args.snapshots,
                                         months_apart=args.months_apart, dirty=args.dirty, province=province))
    print(f"wrote {len(result.files)} files to {out}")
    if province != province_code():
        print(f"province {province}: run the warehouse on it with KOPERASI_PROVINCE={province} "
              f"(e.g. KOPERASI_PROVINCE={province} koperasi run)")
    if result.manifest:
        print(f"defect manifest: {result.manifest}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    """Each file goes through the same gate as in a pipeline run: landed, checked, admitted or withdrawn."""
    from expectations.file_suites import file_judge
    from ingestion.gate import admit_files
    from ingestion.landing import connect
    from warehouse.lock import PipelineBusy, pipeline_lock

    paths = get_paths()
    if args.corrections:
        from stewards.commands import corrections

        return corrections(paths, Path(args.corrections))
    if not args.source or not args.paths:
        raise ValueError("give --source and one or more files (or --corrections WORKBOOK.xlsx)")
    snapshot = date.fromisoformat(args.snapshot_date) if args.snapshot_date else None
    try:
        with pipeline_lock(paths.warehouse_dir, "koperasi ingest"):
            con = connect(paths.build_db)
            try:
                admissions = admit_files(con, [Path(p) for p in args.paths], args.source, paths, file_judge(),
                                         snapshot_date=snapshot, explicit=True, run_id="koperasi-ingest")
            finally:
                con.close()
    except PipelineBusy as e:
        print(str(e), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([a.as_json() for a in admissions], indent=1))
    else:
        for a in admissions:
            r = a.result
            print(f"{r.file}: {r.status}  read {r.rows_read}, loaded {r.rows_loaded}, quarantined {r.rows_quarantined}")
            for reason, count in r.reasons.items():
                print(f"    {reason}: {count}")
            for warning in r.warnings:
                print(f"    warning: {warning.english()}")
            if r.status == "restored":
                print("    this file is the current file of its snapshot again (run 'koperasi run' to rebuild)")
            if r.error:
                print(f"    error: {r.error}")
    return 1 if any(a.withdrawn for a in admissions) else 0


def _run(args: argparse.Namespace) -> int:
    from orchestration.run import run_pipeline

    return run_pipeline(get_paths())


def _quality(args: argparse.Namespace) -> int:
    from stewards.commands import quality

    files = args.quarantine if args.quarantine is not None else ([] if args.koreksi else None)
    return quality(get_paths(), files=files, out=args.koreksi or args.out, html=args.html)


def _prepare(args: argparse.Namespace) -> int:
    from warehouse.dbt_manifest import MANIFEST, ManifestNotPrepared, prepare_manifest

    try:
        parsed = prepare_manifest(get_paths())
    except ManifestNotPrepared as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f"dbt manifest {'parsed into' if parsed else 'is current:'} {MANIFEST}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from orchestration.run import republish

    return republish(get_paths(), force=args.force)


def _postgres(args: argparse.Namespace) -> int:
    """The local PostgreSQL server for BI tools (under $KOPERASI_HOME/postgres)."""
    from warehouse import postgres_server as pg
    from warehouse.postgres_publish import bi_password, bi_url

    paths = get_paths()
    server = pg.local_server(paths)
    try:
        if args.action == "start":
            pg.start(server)
        elif args.action == "stop":
            pg.stop(server)
            print(f"PostgreSQL stopped ({server.data})")
            return 0
    except pg.PostgresError as e:
        print(str(e), file=sys.stderr)
        return 1
    if not pg.running(server):
        print(f"PostgreSQL is not running ({server.data}); start it with: koperasi postgres start")
        return 3 if args.action == "status" else 1
    admin = server.admin_url()
    print(f"PostgreSQL running on 127.0.0.1:{server.port} ({server.data})")
    print(f"  publish to it:   export KOPERASI_POSTGRES_URL='{admin}'")
    print(f"  BI tools:        {bi_url(admin, bi_password(paths.home))}  (read-only: schemas marts, meta and quality)")
    return 0


def _serving_postgres_url(paths) -> str | None:
    """KOPERASI_POSTGRES_URL, else the local server's when it runs, else None (PostgreSQL not used)."""
    from warehouse import postgres_server as pg

    if os.environ.get("KOPERASI_POSTGRES_URL"):
        return os.environ["KOPERASI_POSTGRES_URL"]
    local = pg.local_server(paths)
    return local.admin_url() if local.password_file.exists() and pg.running(local) else None


def _backup(args: argparse.Namespace) -> int:
    from warehouse.backup import BackupError, backup

    paths = get_paths()
    try:
        target = backup(paths, Path(args.out) if args.out else None, postgres_url=_serving_postgres_url(paths))
    except BackupError as e:
        print(f"koperasi backup: {e}", file=sys.stderr)
        return 1
    key = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["pseudonym_key"]
    print(f"backup written to {target} (keep it private); pseudonym key: {key}")
    return 0


def _purge_archive(args: argparse.Namespace) -> int:
    """Removes archived OPD originals (personal data) received before a date; the registry keeps that they existed."""
    from ingestion.landing import connect
    from ingestion.retention import purge_opd_originals
    from warehouse.lock import PipelineBusy, pipeline_lock

    paths = get_paths()
    if not paths.build_db.exists():
        print(f"koperasi purge-archive: no build database at {paths.build_db}", file=sys.stderr)
        return 1
    try:
        with pipeline_lock(paths.warehouse_dir, "koperasi purge-archive"):
            con = connect(paths.build_db)
            try:
                purged = purge_opd_originals(con, paths.archive, date.fromisoformat(args.before),
                                             dry_run=args.dry_run)
            finally:
                con.close()
    except PipelineBusy as e:
        print(str(e), file=sys.stderr)
        return 1
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(purged)} archived OPD original(s) received before {args.before}")
    for p in purged:
        print(f"  {p.received}  {p.file}  ({p.sha256[:12]})")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from warehouse.backup import BackupError, restore

    paths = get_paths()
    try:
        restore(Path(args.backup), paths)
    except BackupError as e:
        print(f"koperasi restore: {e}", file=sys.stderr)
        return 1
    print(f"restored into {paths.home}; next: koperasi publish (serving file, exports and PostgreSQL if configured)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from orchestration.serve import exec_component, serve
    from warehouse.postgres_server import PostgresError

    try:
        if args.component:
            return exec_component(get_paths(), args.component, host=args.host, port=args.port)
        return serve(get_paths(), host=args.host, port=args.port)
    except PostgresError as e:
        print(str(e), file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="koperasi", description="Cooperative data warehouse of a provincial Dinas Koperasi dan UKM (KOPERASI_PROVINCE)")
    sub = parser.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample", help="generate realistic sample exports into the inbox")
    sample.add_argument("--scale", type=float, default=1.0, help="1 = province (11,917 cooperatives)")
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--snapshots", type=int, default=4)
    sample.add_argument("--months-apart", type=int, default=3, help="3 = quarterly, 1 = monthly snapshots")
    sample.add_argument("--dirty", type=float, default=0.0, help="rate of injected real-world defects")
    sample.add_argument("--province", help="BPS code of the province (default: KOPERASI_PROVINCE or 12); run the "
                                           "warehouse with the same KOPERASI_PROVINCE")
    sample.add_argument("--out", help="default: $KOPERASI_HOME/inbox")
    sample.set_defaults(handler=_sample)

    ingest = sub.add_parser("ingest", help="load files through the quality gate (bad rows quarantined, "
                                           "failing files withdrawn); a file named again is retried or restored")
    ingest.add_argument("--source", choices=SOURCES)
    ingest.add_argument("paths", nargs="*")
    ingest.add_argument("--corrections", metavar="WORKBOOK",
                        help="merge the fixed rows of a correction workbook (koperasi quality --koreksi) into their "
                             "snapshots")
    ingest.add_argument("--json", action="store_true")
    ingest.add_argument("--snapshot-date", help="YYYY-MM-DD, for ODS files without a date in the name")
    ingest.set_defaults(handler=_ingest)

    run = sub.add_parser("run", help="materialise the whole pipeline on what is in the inbox")
    run.set_defaults(handler=_run)

    quality = sub.add_parser("quality", help="the data stewards' report (Indonesian): the latest build's checks, "
                                              "withdrawn files, quarantined rows, what to do")
    quality.add_argument("--html", nargs="?", const="", metavar="PATH",
                         help="write the report as one HTML page (default: $KOPERASI_HOME/quality/laporan_kualitas.html)")
    quality.add_argument("--koreksi", metavar="WORKBOOK.xlsx",
                         help="write every open quarantined row into a correction workbook (one sheet per file)")
    quality.add_argument("--quarantine", nargs="*", metavar="FILE",
                         help="the quarantined rows of these files (all when none is named), to --out")
    quality.add_argument("--out", help="a .xlsx correction workbook (default) or, for one file, a .csv")
    quality.set_defaults(handler=_quality)

    postgres = sub.add_parser("postgres", help="start, stop or show the local PostgreSQL server BI tools connect to")
    postgres.add_argument("action", choices=["start", "stop", "status"])
    postgres.set_defaults(handler=_postgres)

    serve = sub.add_parser("serve", help="run the warehouse as a service: PostgreSQL, Dagster daemon and UI, inbox "
                                          "sensor and nightly schedule on (Ctrl-C stops it all)")
    serve.add_argument("--host", default=os.environ.get("KOPERASI_UI_HOST", "127.0.0.1"),
                       help="address of the Dagster UI (KOPERASI_UI_HOST)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("KOPERASI_UI_PORT", "3000")),
                       help="port of the Dagster UI (KOPERASI_UI_PORT)")
    serve.add_argument("--component", choices=["prepare", "daemon", "webserver"],
                       help="for a process supervisor (deploy/systemd): only ready PostgreSQL and the instance, or "
                            "become the Dagster daemon or webserver")
    serve.set_defaults(handler=_serve)

    backup = sub.add_parser("backup", help="back up the build database, the archive of received files, the "
                                            "pseudonym key and (pg_dump) the PostgreSQL serving schemas")
    backup.add_argument("--out", help="an empty folder (default: $KOPERASI_HOME/backups/<time>)")
    backup.set_defaults(handler=_backup)

    purge = sub.add_parser("purge-archive", help="remove the archived originals of OPD lists (personal data) "
                                                  "received before a date; the registry keeps that they existed")
    purge.add_argument("--before", required=True, help="YYYY-MM-DD: originals received before this day are removed")
    purge.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    purge.set_defaults(handler=_purge_archive)

    restore = sub.add_parser("restore", help="restore a backup into an empty KOPERASI_HOME")
    restore.add_argument("backup", help="the folder 'koperasi backup' wrote")
    restore.set_defaults(handler=_restore)

    prepare = sub.add_parser("prepare", help="parse the dbt project into the manifest the Dagster code location "
                                              "reads (make install does it; run and serve redo it when stale)")
    prepare.set_defaults(handler=_prepare)

    publish = sub.add_parser("publish", help="publish the latest build, if its verdict passed, to the serving database")
    publish.add_argument("--force", action="store_true",
                         help="publish it again even when it is made of the served build's inputs (e.g. to repair the "
                              "exports folder after a restore by hand)")
    publish.set_defaults(handler=_publish)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ingestion.errors import DatabaseBusy
    from ingestion.private_files import private_home, private_umask

    private_umask()  # everything this command writes under KOPERASI_HOME is the owner's only
    try:
        if args.command not in ("sample",) or not args.out:
            private_home(get_paths().home)
        return args.handler(args)
    except ValueError as e:  # bad arguments (e.g. a malformed --snapshot-date): a message, not a traceback
        print(f"koperasi {args.command}: {e}", file=sys.stderr)
        return 2
    except DatabaseBusy as e:
        print(f"koperasi {args.command}: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a read-only or full disk, a folder that cannot be written: one line naming the path
        where = e.filename or get_paths().home
        print(f"koperasi {args.command}: cannot write or read {where}: {e.strerror or type(e).__name__}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
