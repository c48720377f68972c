"""The raw layer's tables in the build database: the landed rows of each source, with their lineage, the
quarantine and the file registry."""

LINEAGE = "_source_file VARCHAR, _source_sha256 VARCHAR, _source_row INTEGER, _ingested_at TIMESTAMP"

RAW_TABLES = {
    "ods_cooperatives": f"""
        snapshot_date DATE NOT NULL, cooperative_nik VARCHAR NOT NULL, cooperative_name VARCHAR NOT NULL,
        legal_entity_number VARCHAR, legal_entity_date DATE, region_code VARCHAR NOT NULL, district VARCHAR,
        cooperative_type VARCHAR, cooperative_group VARCHAR, cooperative_form VARCHAR, is_active BOOLEAN,
        last_rat_year INTEGER, rat_virtual BOOLEAN, members_male INTEGER NOT NULL, members_female INTEGER NOT NULL,
        managers INTEGER, employees INTEGER, own_capital BIGINT, external_capital BIGINT, assets BIGINT,
        business_volume BIGINT, surplus BIGINT, has_nik_certificate BOOLEAN, {LINEAGE}""",
    "bps_population": f"region_code VARCHAR NOT NULL, year INTEGER NOT NULL, sex VARCHAR NOT NULL, population BIGINT NOT NULL, {LINEAGE}",
    "bps_businesses": f"region_code VARCHAR NOT NULL, year INTEGER NOT NULL, scale VARCHAR NOT NULL, businesses BIGINT NOT NULL, {LINEAGE}",
    "opd_cooperatives": f"opd_code VARCHAR NOT NULL, opd_name VARCHAR NOT NULL, cooperative_name VARCHAR, cooperative_nik VARCHAR NOT NULL, list_date DATE NOT NULL, {LINEAGE}",
    "opd_members": f"""
        cooperative_nik VARCHAR NOT NULL, list_date DATE NOT NULL, member_key VARCHAR NOT NULL,
        employment_status VARCHAR NOT NULL, joined_date DATE, principal_savings BIGINT, mandatory_savings BIGINT,
        owns_house BOOLEAN, {LINEAGE}""",
    "quarantine": """
        source VARCHAR NOT NULL, file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, source_row INTEGER,
        reason VARCHAR NOT NULL, message VARCHAR NOT NULL, record JSON, quarantined_at TIMESTAMP NOT NULL""",
    "ingested_files": """
        sha256 VARCHAR NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL, archived_as VARCHAR,
        table_kind VARCHAR, snapshot_date DATE, status VARCHAR NOT NULL, rows_read INTEGER, rows_loaded INTEGER,
        rows_quarantined INTEGER, rows_skipped INTEGER, warnings JSON, error VARCHAR,
        started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL""",
    # Lineage of corrections: which quarantined row of which file each row of a correction fixes.
    "corrected_rows": """
        correction_sha256 VARCHAR NOT NULL, corrected_sha256 VARCHAR NOT NULL, corrected_row INTEGER NOT NULL,
        correction_row INTEGER NOT NULL""",
    # The fingerprint of the key member lists were pseudonymised with (never the key): a list made with
    # another key is refused, since its member keys would match nobody's.
    "pseudonym_keys": "fingerprint VARCHAR NOT NULL, first_used_at TIMESTAMP NOT NULL",
}

DATA_TABLES = ("ods_cooperatives", "bps_population", "bps_businesses", "opd_cooperatives", "opd_members")
