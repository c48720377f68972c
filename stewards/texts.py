"""What a data steward reads, in Bahasa Indonesia: check results, quarantine reasons and what to do.

The checks themselves are defined elsewhere (GX suites, dbt tests, parsing rules); this module only says them
in plain words, from the facts each result carries (test type, column, limits, the values that broke it).
"""

from __future__ import annotations

import json
import re

from ingestion import findings

# Column and model names as a steward knows them.
COLUMNS = {
    "cooperative_nik": "nomor induk koperasi (NIK)", "region_code": "kode kabupaten/kota", "region": "kabupaten/kota",
    "members_male": "jumlah anggota laki-laki", "members_female": "jumlah anggota perempuan",
    "members_total": "jumlah anggota", "own_capital": "modal sendiri", "external_capital": "modal luar",
    "assets": "aset", "business_volume": "volume usaha", "surplus": "SHU", "last_rat_year": "tahun RAT terakhir",
    "cooperative_name": "nama koperasi", "cooperative_type": "jenis koperasi", "cooperative_form": "bentuk koperasi",
    "cooperative_group": "kelompok koperasi", "legal_entity_date": "tanggal badan hukum",
    "legal_entity_number": "nomor badan hukum", "is_active": "status aktif", "rat_virtual": "RAT virtual",
    "population": "jumlah penduduk", "businesses": "jumlah usaha", "scale": "skala usaha", "sex": "jenis kelamin",
    "member_key": "kunci anggota (samaran NIP)", "employment_status": "status kepegawaian",
    "opd_code": "kode OPD", "health_band": "predikat kesehatan", "snapshot_date": "tanggal snapshot",
    "quarantine_share": "porsi baris karantina", "total_mismatches": "selisih baris Jumlah",
    "member_cooperatives": "koperasi anggota", "scenario_id": "skenario",
    "combined_health_band": "predikat kesehatan gabungan", "region_kind": "jenis wilayah (kabupaten/kota)",
    "level_wilayah": "tingkat wilayah", "kode_wilayah": "kode wilayah Kemendagri", "kemendagri_code": "kode Kemendagri",
    "kode_bps": "kode wilayah BPS", "indikator": "indikator", "data": "nilai", "periode": "periode",
}

MODELS = {
    "stg_ods__cooperatives": "data koperasi ODS", "stg_bps__population": "tabel penduduk BPS",
    "stg_bps__businesses": "tabel usaha BPS (SE2016)", "stg_opd__cooperatives": "daftar koperasi OPD",
    "stg_opd__members": "daftar anggota koperasi OPD", "dim_region": "tabel wilayah",
    "dim_cooperative": "tabel koperasi", "fct_cooperative_snapshot": "fakta koperasi per snapshot",
    "mart_member_counts": "mart jumlah anggota", "mart_cooperative_health": "mart kesehatan koperasi",
    "mart_health_by_region": "mart kesehatan per wilayah", "mart_consolidation_scenario": "mart skenario koperasi sekunder",
    "mart_umkm_coverage": "mart cakupan UMKM", "opendata_indicators": "data terbuka (Satu Data)",
    "opendata_datasets": "metadata data terbuka", "seed_regions": "tabel acuan wilayah",
    "stg_reference__regions": "wilayah provinsi", "seed_region_population": "tabel penduduk Dukcapil",
    "seed_opendata_indicators": "tabel acuan indikator data terbuka",
}

# Quarantine reasons: (what is wrong, what to do).
REASONS = {
    "invalid_number": ("angka tidak dapat dibaca", "tulis angka bulat, misalnya 1.234.567"),
    "invalid_registry_number": ("nomor induk koperasi tidak 16 digit",
                                "salin nomor induk 16 digit dari ODS sebagai teks (bukan angka Excel)"),
    "invalid_boolean": ("isian ya/tidak tidak dikenali", "tulis Ya atau Tidak"),
    "invalid_date": ("tanggal tidak dapat dibaca", "tulis tanggal sebagai HH-BB-TTTT, misalnya 17-08-2020"),
    "invalid_year": ("tahun tidak dapat dibaca", "tulis tahun empat angka, misalnya 2023"),
    "missing_required": ("kolom wajib kosong", "isi kolom yang kosong"),
    "unknown_region": ("kabupaten/kota tidak dikenal", "tulis nama kabupaten/kota provinsi ini seperti di BPS"),
    "ambiguous_region": ("nama kabupaten/kota bisa berarti dua wilayah",
                         "tulis 'Kabupaten' atau 'Kota' di depan nama wilayahnya"),
    "unknown_category": ("isian kategori tidak dikenal", "pilih salah satu isian yang diterima"),
    "duplicate_registry_number": ("nomor induk koperasi muncul lebih dari sekali",
                                  "pastikan tiap koperasi muncul sekali; hapus baris ganda dari berkas koreksi"),
    "truncated_row": ("baris terpotong (berkas berakhir di tengah baris)", "ekspor ulang berkas dari ODS"),
    "invalid_nip": ("NIP tidak 18 digit", "perbaiki NIP di berkas asli OPD (nilai disamarkan di sini)"),
    "invalid_status": ("status kepegawaian tidak dikenal", "tulis ASN, PPPK atau Honorer"),
    "duplicate_opd": ("kode OPD muncul lebih dari sekali", "hapus baris ganda"),
    "row_total_mismatch": ("kolom Jumlah tidak sama dengan jumlah rinciannya", "periksa angka di baris itu"),
    "duplicate_region": ("kabupaten/kota muncul lebih dari sekali", "hapus baris ganda"),
    "formula_without_value": ("rumus Excel tanpa nilai tersimpan",
                              "buka berkas di Excel, biarkan rumus dihitung, lalu simpan lagi"),
    "nul_byte": ("sel berisi karakter NUL (isi biner, bukan teks)", "ekspor ulang berkas dari aplikasi sumbernya"),
}

def rejection(finding_json: str | None) -> str:
    """Why a file could not be read, in Indonesian, rendered from its finding (``ingestion.findings``)."""
    return findings.indonesian(finding_json) or "berkas tidak dapat dibaca (lihat pesan teknis)"


def file_warning(warning: object) -> str:
    """A file-level warning of the parser (e.g. a BPS table's own total row), in Indonesian, from its finding."""
    finding = findings.Finding.from_dict(warning)
    return finding.indonesian() if finding else "peringatan berkas (lihat pesan teknis)"


def number(value) -> str:
    """1234567 -> '1.234.567'; 0.123 -> '0,123' (Indonesian separators)."""
    if value is None:
        return "-"
    if isinstance(value, float) and not round(value, 3).is_integer():
        return f"{value:,.3f}".rstrip("0").rstrip(".").replace(",", " ").replace(".", ",").replace(" ", ".")
    value = round(value)
    return f"{int(value):,}".replace(",", ".")


def percent(share: float) -> str:
    return f"{share * 100:.1f}".replace(".", ",") + "%"


def reason_label(reason: str) -> str:
    return REASONS.get(reason, (reason.replace("_", " "), ""))[0]


def reason_advice(reason: str) -> str:
    return REASONS.get(reason, ("", "periksa baris itu"))[1]


def quarantine_message(reason: str, findings_json: str | None) -> str:
    """One quarantined row's problems in Indonesian, rendered from its row findings (``ingestion.findings``)."""
    text = findings.indonesian_rows(findings_json)
    return f"{reason_label(reason)}: {text}" if text else reason_label(reason)


def column(name: str | None) -> str:
    return COLUMNS.get(name or "", name or "")


def model(name: str | None) -> str:
    return MODELS.get(name or "", name or "")


def _values(values: list, limit: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def gx_check(details: dict) -> str:
    """A GX expectation with its limits, in words."""
    expectation, col, args = details.get("expectation", ""), column(details.get("column")), details.get("arguments", {})
    low, high = args.get("min_value"), args.get("max_value")
    if expectation == "expect_table_row_count_to_be_between":
        return f"jumlah baris antara {number(low)} dan {number(high)}"
    if expectation == "expect_column_sum_to_be_between":
        return f"total {col} antara {number(low)} dan {number(high)}"
    if expectation == "expect_column_values_to_be_between":
        if col == COLUMNS["total_mismatches"]:
            return "baris Jumlah tabel sama dengan jumlah wilayahnya"
        if col == COLUMNS["quarantine_share"]:
            return f"paling banyak {percent(high)} baris berkas masuk karantina"
        if low is not None and high is not None:
            return f"{col} antara {number(low)} dan {number(high)}"
        return f"{col} " + (f"tidak kurang dari {number(low)}" if low is not None else f"tidak lebih dari {number(high)}")
    if expectation == "expect_column_values_to_be_unique":
        return f"{col} tidak boleh ganda"
    if expectation in ("expect_column_values_to_be_in_set", "expect_column_distinct_values_to_be_in_set"):
        return f"{col} hanya boleh berisi: {_values(args.get('value_set', []), 8)}"
    if expectation == "expect_column_distinct_values_to_equal_set":
        return f"{col} memuat semua dan hanya {len(args.get('value_set', []))} isian yang sah"
    if expectation == "expect_column_values_to_match_regex":
        return f"{col} berbentuk yang benar"
    if expectation == "expect_column_values_to_not_match_regex":
        return f"{col} tidak memuat data pribadi (NIP atau nama)"
    if expectation == "expect_column_values_to_not_be_null":
        return f"{col} tidak boleh kosong"
    if expectation == "expect_no_personal_values_in_quarantine":
        return "karantina tidak memuat data pribadi"
    return f"{expectation.replace('expect_', '').replace('_', ' ')} ({col})"


def gx_finding(details: dict, observed: str | None) -> str:
    """What a failed GX expectation found."""
    count, values = details.get("unexpected_count"), details.get("unexpected") or []
    if count is not None:
        found = f"{number(count)} nilai melanggar"
        return found + (f", misalnya {_values(values)}" if values else "")
    if observed not in (None, "n/a"):
        try:
            return f"ditemukan {number(float(observed))}"
        except ValueError:
            return f"ditemukan {observed}"
    return "tidak terpenuhi"


def dbt_check(facts: dict | None, name: str) -> str:
    """A dbt test in words, from its manifest facts (test type, model, column, arguments)."""
    facts = facts or {}
    if facts.get("steward_text"):
        return facts["steward_text"]
    test, col, where = facts.get("test") or name, column(facts.get("column")), model(facts.get("model"))
    args = facts.get("arguments") or {}
    if facts.get("type") == "unit_test":
        return f"uji logika '{test}' pada {where}"
    if facts.get("type") in ("model", "seed"):
        return f"pembangunan {where or name}"
    texts = {
        "not_null": f"{col} di {where} tidak boleh kosong",
        "unique": f"{col} di {where} tidak boleh ganda",
        "accepted_values": f"{col} di {where} hanya boleh berisi: {_values(args.get('values', []), 8)}",
        "relationships": f"setiap {col} di {where} harus ada di {model(_ref_name(args.get('to')))}",
        "not_negative": f"{col} di {where} tidak boleh negatif",
        "unique_combination": f"kombinasi {', '.join(column(c) for c in args.get('columns', []))} di {where} "
                              "tidak boleh ganda",
        "between": f"{col} di {where} antara {number(args.get('min_value'))} dan {number(args.get('max_value'))}",
        "has_rows": f"{where} tidak boleh kosong",
    }
    return texts.get(test, f"uji '{test}'" + (f" pada {where}" if where else ""))


def check_meaning(kind: str, name: str, facts_json: str | None) -> str:
    """What a check of a build verifies, in words (the quality dashboard lists these, not dbt's test ids)."""
    if kind.startswith("dbt_"):
        try:
            facts = json.loads(facts_json) if facts_json else None
        except ValueError:
            facts = None
        return dbt_check(facts, name)
    if kind == "file_gate":
        return f"berkas {name} lulus pemeriksaan masuk"
    if kind == "required":
        return f"pemeriksaan wajib berjalan: {name}"
    return f"langkah berjalan tanpa galat: {name}"


def _ref_name(to: str | None) -> str:
    match = re.search(r"ref\('([^']+)'\)", to or "")
    return match.group(1) if match else (to or "")


def example_row(row: dict, tested_column: str | None = None) -> str:
    """A failing row as 'kolom=nilai' pairs (dbt's generic tests call the tested column from_field or
    value_field: it is named as the column it is)."""
    aliases = {"from_field": tested_column, "value_field": tested_column}
    return "; ".join(f"{column(aliases.get(k) or k)}={v}" for k, v in row.items() if k != "n_records")


STATUS = {"passed": "LULUS", "failed": "GAGAL", "unfinished": "BELUM SELESAI"}
SOURCE_NAMES = {"ods": "ODS", "bps": "BPS", "opd": "OPD"}
