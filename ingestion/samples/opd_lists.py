"""OPD employee-cooperative registry and one member list per OPD (names and NIPs: personal data)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ingestion.samples import seeds, vocab
from ingestion.samples.defects import DefectInjector
from ingestion.samples.formats import XlsxSheet, id_long_date
from ingestion.samples.province import SampleProvince

STATUSES = (("ASN", 0.70), ("PPPK", 0.15), ("Honorer", 0.15))


@dataclass(frozen=True)
class Person:
    name: str
    nip: str
    status: str
    owns_house: bool
    joined: date


def _nip(rng: random.Random, sequence: int) -> str:
    born = date(rng.randint(1965, 1998), rng.randint(1, 12), rng.randint(1, 28))
    appointed = (max(born.year + 22, 1990) + rng.randint(0, 8), rng.randint(1, 12))
    return f"{born:%Y%m%d}{appointed[0]:04d}{appointed[1]:02d}{rng.randint(1, 2)}{sequence % 1000:03d}"


def member_lists(rng: random.Random, scale: float) -> list[list[Person]]:
    """One list per OPD; about 6% of people are members of two OPD cooperatives."""
    lists: list[list[Person]] = []
    sequence = 0
    for _ in seeds.opds():
        people = []
        for _ in range(max(5, round(rng.randint(80, 320) * scale))):
            sequence += 1
            status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
            people.append(Person(
                name=f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.FAMILY_NAMES)}",
                nip=_nip(rng, sequence), status=status, owns_house=rng.random() < (0.5 if status == "ASN" else 0.25),
                joined=date(rng.randint(2005, 2024), rng.randint(1, 12), rng.randint(1, 28))))
        lists.append(people)
    for i, people in enumerate(lists):
        other = lists[(i + 1) % len(lists)]
        for person in rng.sample(other, max(1, len(other) * 6 // 100)):
            people.append(person)
    return lists


def write_registry(out_dir: Path, cooperative_niks: list[str], list_date: date, province: SampleProvince) -> Path:
    path = out_dir / f"daftar_koperasi_opd_{province.opd_slug}.xlsx"
    sheet = XlsxSheet(path, "Koperasi OPD")
    sheet.workbook.set_properties({"created": datetime(list_date.year, list_date.month, list_date.day)})
    sheet.write([f"DAFTAR KOPERASI PEGAWAI PADA ORGANISASI PERANGKAT DAERAH PROVINSI {province.name.upper()}"], bold=True)
    sheet.write([f"Keadaan: {id_long_date(list_date)}"])
    sheet.skip()
    sheet.write(["No", "Kode OPD", "Nama OPD", "Nama Koperasi", "NIK Koperasi"], bold=True)
    for i, ((code, opd), nik) in enumerate(zip(seeds.opds(), cooperative_niks), start=1):
        sheet.write([i, code, opd, f"KPRI {opd} Provinsi {province.name}", nik])
    sheet.skip()
    sheet.write([f"Sumber: Biro Perekonomian Setda Provinsi {province.name}"])
    sheet.close()
    return path


def write_member_list(out_dir: Path, opd_index: int, cooperative_nik: str, people: list[Person], list_date: date,
                      injector: DefectInjector, province: SampleProvince) -> Path:
    code, opd = seeds.opds()[opd_index]
    path = out_dir / f"anggota_koperasi_{code.lower()}_{list_date:%Y%m%d}.xlsx"
    sheet = XlsxSheet(path, "Anggota")
    sheet.workbook.set_properties({"created": datetime(list_date.year, list_date.month, list_date.day)})
    sheet.write([f"DAFTAR ANGGOTA KPRI {opd.upper()} PROVINSI {province.name.upper()}"], bold=True)
    sheet.write([f"NIK Koperasi: {cooperative_nik}"])
    sheet.write([f"Posisi: {id_long_date(list_date)}"])
    sheet.skip()
    sheet.write(["No", "Nama", "NIP", "Status Kepegawaian", "Tanggal Masuk", "Simpanan Pokok", "Simpanan Wajib",
                 "Memiliki Rumah"], bold=True)
    for i, p in enumerate(people, start=1):
        months = max(1, (list_date.year - p.joined.year) * 12 + list_date.month - p.joined.month)
        nip = p.nip
        if injector.enabled and injector.rng.random() < injector.rate:
            nip = nip[:-1]
            injector.record(path.name, sheet.row + 1, "nip_wrong_length", "invalid_nip")
        sheet.write([i, p.name, nip, p.status, p.joined, 100_000, 50_000 * months, "Ya" if p.owns_house else "Tidak"])
    sheet.skip()
    sheet.write(["Sumber: Pengurus KPRI"])
    sheet.close()
    return path
