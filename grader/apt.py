"""Installing a Debian package for the grader's own needs (datasets, the sandbox)."""

from __future__ import annotations

import shutil
import subprocess


def apt_install(package: str) -> str | None:
    """Install ``package`` with apt-get (refreshing the lists once if needed); None, or why not."""
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available"
    install = [apt, "install", "-y", "-qq", package]
    if subprocess.run(install, capture_output=True, check=False).returncode == 0:
        return None
    subprocess.run([apt, "update", "-qq"], capture_output=True, check=False)
    result = subprocess.run(install, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"apt-get could not install {package} (are you root?):\n{result.stderr[-800:]}"
    return None
