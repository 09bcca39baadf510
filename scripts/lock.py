"""`make lock`: write both lock files from pyproject.toml with pip-compile, keeping the pins they hold.

- requirements.lock: what a server installs, the project's dependencies and every optional extra
  except `dev` (no test runner, browser driver, type checker or linter in production);
- requirements-dev.lock: that plus the `dev` extra, what `make install` puts in .venv.

The development lock is written first; the running one starts from a copy of it, so pip-compile keeps
its pins and both locks name the same version of every package they share. A package already pinned
stays at its version unless pyproject.toml no longer admits it (pip-compile's rule for an existing
output file); to upgrade one, edit its pin out of both files, or pass `--upgrade-package NAME`.
tests/config/test_locks.py fails when either lock drifts from pyproject.toml.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNING_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
DEV_EXTRA = "dev"


def running_extras() -> list[str]:
    """Optional extras a server may use (e.g. error reporting): every one but the tools of `dev`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(name for name in project.get("optional-dependencies", {}) if name != DEV_EXTRA)


def compile_lock(output: Path, extras: list[str], extra_arguments: list[str]) -> None:
    pip_compile = Path(sys.executable).with_name("pip-compile")
    command = [
        str(pip_compile),
        "--quiet",
        "--generate-hashes",
        "--strip-extras",
        "--no-emit-index-url",
        "--no-emit-find-links",
        *[f"--extra={extra}" for extra in extras],
        *extra_arguments,
        f"--output-file={output.name}",
        "pyproject.toml",
    ]
    subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, "CUSTOM_COMPILE_COMMAND": "make lock"})


def main(arguments: list[str]) -> int:
    if not DEV_LOCK.exists():
        # The first split: the development lock starts from the single lock of before, keeping its pins.
        shutil.copyfile(RUNNING_LOCK, DEV_LOCK)
    compile_lock(DEV_LOCK, [*running_extras(), DEV_EXTRA], arguments)
    shutil.copyfile(DEV_LOCK, RUNNING_LOCK)
    compile_lock(RUNNING_LOCK, running_extras(), arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
