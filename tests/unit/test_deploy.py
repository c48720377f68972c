"""deploy/: the systemd units and the environment file an office installs (systemd itself cannot run here)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from helpers.debian import debian_program

ROOT = Path(__file__).resolve().parents[2]
UNITS = {"koperasi-postgres.service", "koperasi-dagster-daemon.service", "koperasi-dagster-webserver.service",
         "koperasi-backup.service", "koperasi-backup.timer"}


def _install(tmp_path: Path) -> tuple[Path, Path]:
    env_file, unit_dir = tmp_path / "etc" / "koperasi.env", tmp_path / "units"
    subprocess.run([str(ROOT / "deploy" / "install.sh"), "--env-file", str(env_file), "--unit-dir", str(unit_dir),
                    "--no-systemctl"], check=True, capture_output=True, text=True, timeout=120)
    return env_file, unit_dir


def test_install_writes_a_private_environment_file_with_a_generated_bi_password(tmp_path):
    env_file, _ = _install(tmp_path)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and line[0] != "#")
    assert len(settings["KOPERASI_BI_PASSWORD"]) >= 20
    assert settings["KOPERASI_HOME"] == "/var/lib/koperasi"
    kept = settings["KOPERASI_BI_PASSWORD"]
    _install(tmp_path)  # installing again keeps the file an office has filled in
    assert f"KOPERASI_BI_PASSWORD={kept}" in env_file.read_text()
    assert "KOPERASI_BI_PASSWORD=\n" in (ROOT / "deploy" / "koperasi.env.example").read_text(), "no secret in git"


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    env_file, unit_dir = _install(tmp_path)
    assert {p.name for p in unit_dir.iterdir()} == UNITS
    for unit in unit_dir.iterdir():
        text = unit.read_text()
        assert "@ROOT@" not in text and "@ENV_FILE@" not in text
        if unit.suffix == ".service":
            assert f"EnvironmentFile={env_file}" in text
            assert "UMask=0077" in text, f"{unit.name}: what the service writes must be its account's only"
    analyze = debian_program("systemd-analyze", "systemd")
    result = subprocess.run([analyze, "verify", "--man=no", *sorted(p.name for p in unit_dir.iterdir())],
                            cwd=unit_dir, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    broken = unit_dir / "koperasi-dagster-daemon.service"  # the check can fail: a unit naming a missing program
    broken.write_text(broken.read_text().replace(str(ROOT / ".venv"), "/nonexistent"))
    result = subprocess.run([analyze, "verify", "--man=no", broken.name], cwd=unit_dir, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "/nonexistent" in result.stderr
