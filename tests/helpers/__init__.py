"""Helpers the tests share: hostile and messy files, dbt builds, Debian programs, the BI reader."""
