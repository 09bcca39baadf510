"""The two lock files agree with pyproject.toml and with each other (`make lock` writes both).

requirements.lock is what a school's server installs: the dependencies and the optional extras other
than `dev`. requirements-dev.lock adds the `dev` extra's tools, and is what `make install` puts in
.venv. A dependency added to pyproject.toml without `make lock`, a tool that slipped into the running
lock, or the two locks pinning different versions fails here.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEV_EXTRA = "dev"
# Tools that never belong on a server, whether named in the dev extra or pulled in by one of its tools.
NEVER_IN_PRODUCTION = {"pytest", "playwright", "mypy", "ruff", "pip-tools", "hypothesis", "factory-boy"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def pins(lock: str) -> dict[str, tuple[Version, frozenset[str]]]:
    """Package → (pinned version, its hashes), as pip-compile writes them."""
    found: dict[str, tuple[Version, frozenset[str]]] = {}
    name = ""
    for line in (ROOT / lock).read_text().splitlines():
        if match := PIN.match(line):
            name = canonicalize_name(match.group(1))
            found[name] = (Version(match.group(2)), frozenset())
        elif name and (hashed := re.search(r"--hash=(\S+)", line)):
            version, hashes = found[name]
            found[name] = (version, hashes | {hashed.group(1).rstrip(" \\")})
        elif not line.startswith(" "):
            name = ""
    return found


def requirements(*extras: str, dependencies: bool = True) -> list[Requirement]:
    declared = list(PROJECT["dependencies"]) if dependencies else []
    for extra in extras:
        declared += PROJECT.get("optional-dependencies", {}).get(extra, [])
    return [requirement for text in declared if _applies(requirement := Requirement(text))]


def _applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


RUNNING_EXTRAS = [name for name in PROJECT.get("optional-dependencies", {}) if name != DEV_EXTRA]


def unpinned_or_refused(declared: list[Requirement], lock: str) -> list[str]:
    pinned = pins(lock)
    problems = []
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{requirement} is not in {lock}")
        elif not requirement.specifier.contains(pinned[name][0], prereleases=True):
            problems.append(f"{lock} pins {name}=={pinned[name][0]}, which {requirement} refuses")
        problems += [
            f"{requirement} needs {needed}, which {lock} lacks" for needed in _extras_needs(requirement) - set(pinned)
        ]
    return problems


def _extras_needs(requirement: Requirement) -> set[str]:
    """The packages an extra such as psycopg[binary] adds, as the installed package declares them."""
    if not requirement.extras:
        return set()
    try:
        declared = metadata.requires(requirement.name) or []
    except metadata.PackageNotFoundError:
        return set()  # not installed here: its name is still checked, its extra's packages cannot be
    needs: set[str] = set()
    for text in declared:
        needed = Requirement(text)
        marker = needed.marker
        # Needed for one of the requested extras, and not by the package without any.
        if (
            marker
            and any(marker.evaluate({"extra": e}) for e in requirement.extras)
            and not marker.evaluate({"extra": ""})
        ):
            needs.add(canonicalize_name(needed.name))
    return needs


def test_every_running_dependency_is_pinned_in_the_running_lock_at_a_version_it_admits():
    assert unpinned_or_refused(requirements(*RUNNING_EXTRAS), "requirements.lock") == []


def test_every_dependency_and_tool_is_pinned_in_the_development_lock_at_a_version_it_admits():
    assert unpinned_or_refused(requirements(*RUNNING_EXTRAS, DEV_EXTRA), "requirements-dev.lock") == []


def test_the_running_lock_holds_no_development_tool():
    running_names = {canonicalize_name(requirement.name) for requirement in requirements(*RUNNING_EXTRAS)}
    tools = {canonicalize_name(r.name) for r in requirements(DEV_EXTRA, dependencies=False)} - running_names
    tools |= {canonicalize_name(name) for name in NEVER_IN_PRODUCTION}
    assert sorted(tools & set(pins("requirements.lock"))) == []
    # The check above looks for names that exist (pip-tools, `make lock`'s tool, is in neither lock).
    assert tools - {"pip-tools"} <= set(pins("requirements-dev.lock"))


def test_the_locks_pin_the_same_version_and_hashes_of_every_package_they_share():
    running, development = pins("requirements.lock"), pins("requirements-dev.lock")
    assert set(running) <= set(development), "what a server installs is installed in development too"
    assert {name: running[name] for name in running} == {name: development[name] for name in running}
    assert all(hashes for _version, hashes in running.values()), "pip installs only hashed pins (--require-hashes)"


def test_the_locks_name_no_package_index_host():
    """An index's address is the installing machine's business (pip's own configuration), never the lock's."""
    for lock in ("requirements.lock", "requirements-dev.lock"):
        for line in (ROOT / lock).read_text().splitlines():
            if line.startswith(("--index-url", "--extra-index-url", "--find-links", "-i ", "-f ")):
                assert "://" not in line or "file://" in line, f"{lock}: {line}"
