"""Entry point of the sample generator: ``generate_samples(SampleSpec(...))``."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from ingestion.samples.bps_tables import write_businesses, write_population
from ingestion.samples.defects import DefectInjector
from ingestion.samples.ods_export import write_ods_snapshot
from ingestion.samples.opd_lists import member_lists, write_member_list, write_registry
from ingestion.samples.province import SampleProvince, sample_province
from ingestion.samples.registry import Registry, snapshot_dates

MANIFEST_NAME = "dirty_manifest.json"


@dataclass(frozen=True)
class SampleSpec:
    out: Path
    scale: float = 1.0
    seed: int = 42
    snapshots: int = 4
    months_apart: int = 3
    dirty: float = 0.0
    end: date = date(2024, 12, 31)
    province: str | None = None  # BPS code; None: KOPERASI_PROVINCE or the project's default


@dataclass
class SampleResult:
    files: list[Path] = field(default_factory=list)
    manifest: Path | None = None


def generate_samples(spec: SampleSpec) -> SampleResult:
    out = Path(spec.out)
    dirs = {s: out / s for s in ("ods", "bps", "opd")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    people_rng = random.Random(spec.seed)
    injector = DefectInjector(spec.dirty, spec.seed + 1)
    result = SampleResult()
    province = sample_province(spec.province)

    dates = snapshot_dates(spec.snapshots, spec.end, spec.months_apart)
    lists = member_lists(people_rng, spec.scale)
    registry = Registry(rng, spec.scale, dates, [len(people) for people in lists], province)
    for k in range(len(dates)):
        result.files.append(write_ods_snapshot(registry, k, dirs["ods"], injector))

    result.files.append(write_population(dirs["bps"], injector, province))
    result.files.append(write_businesses(dirs["bps"], rng, province))

    opd_niks = [registry.nik[i] for i in registry.opd_cooperatives]
    result.files.append(write_registry(dirs["opd"], opd_niks, spec.end, province))
    for index, (nik, people) in enumerate(zip(opd_niks, lists)):
        result.files.append(write_member_list(dirs["opd"], index, nik, people, spec.end, injector, province))

    if injector.enabled:
        result.files.extend(_write_broken_files(dirs, injector, spec.end, province))
        result.manifest = out / MANIFEST_NAME
        injector.write_manifest(result.manifest)
    return result


def _write_broken_files(dirs: dict[str, Path], injector: DefectInjector, on: date,
                        province: SampleProvince) -> list[Path]:
    """Whole files that must be rejected, not loaded: empty, header only, garbage, wrong source."""
    files = {
        dirs["ods"] / f"ods_kosong_{on.isoformat()}.csv": b"",
        dirs["ods"] / f"ods_hanya_header_{on.isoformat()}.csv": b"NIK;Nama Koperasi;Kab/Kota;Anggota Pria;Anggota Wanita\r\n",
        dirs["ods"] / f"ods_rusak_{on.isoformat()}.xlsx": bytes(random.Random(7).randrange(256) for _ in range(4096)),
        dirs["ods"] / f"ods_salah_sumber_{on.isoformat()}.csv": (dirs["bps"] / f"se2016_usaha_menurut_skala_kabkota_{province.slug}.csv").read_bytes(),
    }
    kinds = ("empty_file", "header_only", "binary_garbage", "wrong_source")
    for (path, data), kind in zip(files.items(), kinds):
        path.write_bytes(data)
        injector.record(path.name, None, kind, "rejected")
    return list(files)
