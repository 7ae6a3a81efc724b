"""Check that the minimum-dependencies run tests the floors pyproject.toml declares.

Usage: ``python .ci/check_min_versions.py .ci/min-requirements.txt``, inside the
environment built with those constraints. Fails when

- a floor declared in pyproject.toml (``name>=version``, in the dependencies
  and in the extras the run installs) has no pin ``name==version`` in the
  constraints file, or a pin at another version: the run would then test
  something other than what the package promises;
- an installed version differs from its pin: pip did not install what the
  constraints say (a package the extras do not pull in is not checked).

Standard library only (Python 3.10 has no tomllib, so the few lines of
pyproject.toml needed are read with a regular expression).
"""

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

EXTRAS = ("test", "distributed", "plot")
ROOT = Path(__file__).resolve().parents[1]


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def release(version_string):
    """(1, 7) for "1.7", "1.7.0" and "1.7.0.0": trailing zeros do not count."""
    parts = [int(part) for part in version_string.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def declared_floors(pyproject):
    """{name: floor} of the dependencies and of EXTRAS in pyproject.toml."""
    floors = {}
    sections = re.findall(r"^([a-z-]+) = \[(.*?)\]\s*$", pyproject, flags=re.M | re.S)
    for section, body in sections:
        if section != "dependencies" and section not in EXTRAS:
            continue
        for name, floor in re.findall(
            r'"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([0-9][^,"]*)', body
        ):
            floors[canonical(name)] = floor
    return floors


def pins(constraints):
    """{name: version} of the ``name==version`` lines of a constraints file."""
    found = {}
    for line in constraints.splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            found[canonical(name)] = pinned.strip()
    return found


def main(constraints_path):
    floors = declared_floors((ROOT / "pyproject.toml").read_text())
    pinned = pins(Path(constraints_path).read_text())
    problems = []
    for name, floor in sorted(floors.items()):
        if name == "skmoe":
            continue
        if name not in pinned or release(pinned[name]) != release(floor):
            problems.append(
                f"{name}: pyproject.toml declares >={floor}, "
                f"{constraints_path} pins {pinned.get(name, 'nothing')}"
            )
    for name, pin in sorted(pinned.items()):
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue
        if installed != pin:
            problems.append(f"{name}: pinned {pin}, installed {installed}")
        else:
            print(f"{name}=={installed}")
    if problems:
        sys.exit("Minimum versions not tested as declared:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main(sys.argv[1])
