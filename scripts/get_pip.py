"""Stand-in for pypa's get-pip.py, which ansible-test fetches from a host this network cannot reach.

ansible-test creates each sanity test's virtualenv without pip and runs get-pip in it (through its
quiet_pip.py, with GET_PIP naming this file) with the arguments get-pip takes: pip options, the pinned
packages (`pip==25.2`), `--no-setuptools` and `--no-wheel`. Here the pip wheel that ships with CPython
(ensurepip, or Debian's python3-pip-whl) installs those packages from the configured index instead.
scripts/sanity.sh puts this file where ansible-test looks for its cached copy, unless a real one is there.
"""

from __future__ import annotations

import ensurepip
import sys
from pathlib import Path

WHEEL_DIRS = (Path(ensurepip.__file__).parent / "_bundled", Path("/usr/share/python-wheels"))
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def bundled_pip() -> Path:
    """The interpreter's own pip wheel (one that matches it), else the distribution's."""
    for directory in WHEEL_DIRS:
        if wheels := sorted(directory.glob("pip-*.whl")):
            return wheels[-1]
    sys.exit(f"get_pip: no pip wheel in {', '.join(map(str, WHEEL_DIRS))}")


def main() -> int:
    sys.path.insert(0, str(bundled_pip()))
    from pip._internal.cli.main import main as pip_main  # importable only once the wheel is on the path

    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    return pip_main(["install", "--upgrade", "--force-reinstall", *args])


if __name__ == "__main__":
    sys.exit(main())
