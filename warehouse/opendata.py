"""The office's open data for the Satu Data Indonesia portals, written with every publication.

Each indicator of ``opendata.opendata_indicators`` (dbt) becomes a dataset in the portal's long shape, as CSV
(UTF-8, comma, ISO dates) and Parquet, in a version folder switched atomically like the Parquet exports
(``exports/opendata/current``). The folder also holds the machine-readable catalog: a Frictionless Data Package
(``datapackage.json``, validated here with the ``frictionless`` library), a DCAT catalog in JSON-LD
(``katalog.jsonld``, for CKAN's DCAT harvester) and the validation result (``validasi.json``), which the
stewards' report reads. Every text a reader sees (titles, definitions, the publisher) comes from the dbt project
(``opendata_datasets``, the seeds, the column descriptions): nothing here restates an indicator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse.dbt_manifest import MANIFEST

VALIDATION_FILE = "validasi.json"
PACKAGE_FILE = "datapackage.json"
CATALOG_FILE = "katalog.jsonld"
COLUMNS = ("kode_wilayah", "kode_bps", "level_wilayah", "nama_wilayah", "judul", "satuan", "tahun", "periode", "data")
_TYPES = {"kode_wilayah": "string", "kode_bps": "string", "level_wilayah": "string", "nama_wilayah": "string",
          "judul": "string", "satuan": "string", "tahun": "integer", "periode": "date", "data": "number"}


@dataclass
class OpenDataset:
    name: str
    title: str
    rows: int
    valid: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class OpenData:
    folder: Path
    datasets: list[OpenDataset]

    @property
    def valid(self) -> bool:
        return bool(self.datasets) and all(d.valid for d in self.datasets)


def _column_descriptions(manifest: Path = MANIFEST) -> dict[str, str]:
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    node = next((n for n in nodes.values() if n.get("name") == "opendata_indicators"), None)
    return {c: (p.get("description") or "").strip() for c, p in ((node or {}).get("columns") or {}).items()}


def _datasets(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cursor = con.execute("SELECT * FROM build.opendata.opendata_datasets ORDER BY urutan")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def write_open_data(con: duckdb.DuckDBPyConnection, folder: Path, *, build_id: str, published_at: datetime) -> OpenData:
    """Writes every dataset of the build (``build`` attached read-only on ``con``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    described = _column_descriptions()
    metadata = _datasets(con)
    columns = ", ".join(COLUMNS)
    for meta in metadata:
        query = (f"SELECT {columns} FROM build.opendata.opendata_indicators WHERE indikator = "
                 f"'{meta['indikator']}' ORDER BY periode, kode_wilayah")
        con.execute(f"COPY ({query}) TO '{folder / (meta['indikator'] + '.csv')}' "
                    "(FORMAT csv, HEADER, DELIMITER ',', DATEFORMAT '%Y-%m-%d')")
        con.execute(f"COPY ({query}) TO '{folder / (meta['indikator'] + '.parquet')}' (FORMAT parquet)")
    package = _package(metadata, described, build_id, published_at)
    (folder / PACKAGE_FILE).write_text(json.dumps(package, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    (folder / CATALOG_FILE).write_text(json.dumps(_catalog(metadata, build_id, published_at), ensure_ascii=False,
                                                  indent=1, default=str), encoding="utf-8")
    result = OpenData(folder, _validate(folder, metadata))
    (folder / VALIDATION_FILE).write_text(json.dumps(
        {"build_id": build_id, "published_at": published_at.isoformat(), "valid": result.valid,
         "datasets": [d.__dict__ for d in result.datasets]}, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def _package(metadata: list[dict], described: dict[str, str], build_id: str, published_at: datetime) -> dict:
    first = metadata[0] if metadata else {}
    fields = [{"name": c, "type": _TYPES[c], "description": described.get(c, "")}
              | ({"format": "%Y-%m-%d"} if _TYPES[c] == "date" else {}) for c in COLUMNS]
    return {
        "name": f"koperasi-{first.get('kode_provinsi', '')}",
        "title": f"Data Koperasi {first.get('produsen_data', '')}",
        "version": build_id,
        "created": published_at.isoformat(timespec="seconds") + "Z",
        "licenses": [{"name": first.get("lisensi"), "title": first.get("lisensi_judul")}],
        "keywords": (first.get("kata_kunci") or "").split(";"),
        "contributors": [{"title": first.get("produsen_data"), "role": "publisher"},
                         {"title": first.get("penanggung_jawab"), "role": "contact"}],
        "resources": [resource for meta in metadata for resource in _resources(meta, fields)],
    }


def _resources(meta: dict, fields: list[dict]) -> list[dict]:
    """The CSV as the dataset's tabular resource, the Parquet beside it, both carrying the indicator's metadata."""
    about = {k: meta[k] for k in ("judul", "konsep", "definisi", "rumus", "satuan", "interpretasi", "frekuensi",
                                  "produsen_data", "penanggung_jawab", "sumber", "kode_referensi")}
    about["aturan_sel_kecil"] = (None if meta["disembunyikan_bila_koperasi_kurang_dari"] is None else
                                 f"tidak ditampilkan untuk kabupaten/kota dengan kurang dari "
                                 f"{meta['disembunyikan_bila_koperasi_kurang_dari']} koperasi")
    csv = {"name": meta["indikator"], "title": meta["judul"], "description": meta["definisi"],
           "path": f"{meta['indikator']}.csv", "profile": "tabular-data-resource", "format": "csv",
           "mediatype": "text/csv", "encoding": "utf-8", "dialect": {"delimiter": ",", "header": True},
           "schema": {"fields": fields, "primaryKey": ["kode_wilayah", "periode"]}, "metadata_indikator": about}
    parquet = {"name": f"{meta['indikator']}-parquet", "title": meta["judul"], "path": f"{meta['indikator']}.parquet",
               "format": "parquet", "mediatype": "application/vnd.apache.parquet", "metadata_indikator": about}
    return [csv, parquet]


def _catalog(metadata: list[dict], build_id: str, published_at: datetime) -> dict:
    """A DCAT-AP catalog in JSON-LD, the form ckanext-dcat harvests (relative download URLs: the folder is the
    base a portal publishes it from)."""
    issued = published_at.isoformat(timespec="seconds") + "Z"
    publisher = {"@type": "foaf:Organization", "foaf:name": metadata[0]["produsen_data"] if metadata else ""}

    def dataset(meta: dict) -> dict:
        return {
            "@id": f"#{meta['indikator']}", "@type": "dcat:Dataset", "dct:identifier": meta["indikator"],
            "dct:title": {"@value": meta["judul"], "@language": "id"},
            "dct:description": {"@value": meta["definisi"], "@language": "id"},
            "dct:publisher": publisher, "dct:issued": {"@value": issued, "@type": "xsd:dateTime"},
            "dct:accrualPeriodicity": meta["frekuensi"], "dct:source": meta["sumber"],
            "dct:spatial": meta["nama_provinsi"], "dct:conformsTo": meta["kode_referensi"],
            "dct:temporal": {"@type": "dct:PeriodOfTime", "dcat:startDate": str(meta["periode_awal"]),
                             "dcat:endDate": str(meta["periode_akhir"])},
            "dcat:keyword": (meta["kata_kunci"] or "").split(";"),
            "dcat:contactPoint": {"@type": "vcard:Kind", "vcard:fn": meta["penanggung_jawab"]},
            "dcat:distribution": [
                {"@type": "dcat:Distribution", "dct:title": f"{meta['judul']} (CSV)", "dcat:mediaType": "text/csv",
                 "dct:format": "CSV", "dcat:downloadURL": {"@id": f"{meta['indikator']}.csv"},
                 "dct:license": meta["lisensi"]},
                {"@type": "dcat:Distribution", "dct:title": f"{meta['judul']} (Parquet)",
                 "dcat:mediaType": "application/vnd.apache.parquet", "dct:format": "Parquet",
                 "dcat:downloadURL": {"@id": f"{meta['indikator']}.parquet"}, "dct:license": meta["lisensi"]},
            ],
        }

    return {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/", "vcard": "http://www.w3.org/2006/vcard/ns#",
                     "xsd": "http://www.w3.org/2001/XMLSchema#"},
        "@id": "#katalog", "@type": "dcat:Catalog",
        "dct:title": {"@value": f"Katalog data terbuka {publisher['foaf:name']}", "@language": "id"},
        "dct:publisher": publisher, "dct:issued": {"@value": issued, "@type": "xsd:dateTime"},
        "dct:identifier": build_id, "dcat:dataset": [dataset(meta) for meta in metadata],
    }


def _validate(folder: Path, metadata: list[dict]) -> list[OpenDataset]:
    """Each CSV against its Table Schema (frictionless): types, the primary key, no extra or missing column."""
    from frictionless import Package

    package = Package(str(folder / PACKAGE_FILE))
    results = []
    for meta in metadata:
        report = package.get_resource(meta["indikator"]).validate()
        errors = [f"{e.type}: {e.note}"[:300] for task in report.tasks for e in task.errors][:10]
        results.append(OpenDataset(meta["indikator"], meta["judul"], int(meta["baris"]), report.valid, errors))
    return results


def latest_validation(root: Path) -> dict | None:
    """The newest publication's open data under ``root`` (exports/opendata), with ``current``: whether it is the
    one ``current`` links to (an invalid package never is)."""
    versions = sorted(p for p in (root / "versions").glob("*") if p.is_dir()) if (root / "versions").is_dir() else []
    if not versions:
        return None
    found = read_validation(versions[-1])
    if found is not None:
        found["current"] = (root / "current").resolve() == versions[-1].resolve()
        found["folder"] = str(root / "current") if found["current"] else str(versions[-1])
    return found


def read_validation(folder: Path) -> dict | None:
    """What the last publication wrote and whether each dataset validated (None before the first)."""
    try:
        return json.loads((folder / VALIDATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
