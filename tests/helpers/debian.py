"""Debian programs the tests need, installed when missing (the test setup owns its dependencies; CI runs as root)."""

import shutil
import subprocess


def debian_program(program: str, package: str) -> str:
    found = shutil.which(program)
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, timeout=900,
                   env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return shutil.which(program) or f"/usr/bin/{program}"
