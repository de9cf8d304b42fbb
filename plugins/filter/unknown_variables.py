"""Variables that carry a role's prefix but that no role of the collection knows: misspellings, usually."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

# The collection's root: this file is plugins/filter/unknown_variables.py, in a checkout and once installed.
_ROOT = Path(__file__).resolve().parents[2]
# The facts the roles publish on purpose (their READMEs), which an inventory never sets but a play may hold.
PUBLISHED = ("app_identity", "app_deploy", "gunicorn_runtime", "nginx_acme_certificate", "nginx_site")
# A registered result (<role>_<what>_result) is the role's own, not a setting.
_REGISTERED = re.compile(r"_result$")


@functools.cache
def known_variables(roles_dir: str = str(_ROOT / "roles")) -> dict[str, frozenset[str]]:
    """Each role's public variables, as its meta/argument_specs.yml (all entry points) declares them."""
    known: dict[str, frozenset[str]] = {}
    for spec_file in sorted(Path(roles_dir).glob("*/meta/argument_specs.yml")):
        specs = (yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}).get("argument_specs") or {}
        names = {name for entry in specs.values() for name in (entry or {}).get("options") or {}}
        known[spec_file.parent.parent.name] = frozenset(names)
    return known


def unknown_variables(names: Iterable[str], roles_dir: str = "") -> list[str]:
    """One message per name that starts with a role's prefix and that no role declares, with the nearest known name.

    e.g. ['nginx_server_name is no variable of the collection; did you mean nginx_server_names?'].
    """
    known = known_variables(roles_dir) if roles_dir else known_variables()
    every = sorted(set().union(*known.values()) | set(PUBLISHED))
    prefixes = tuple(f"{role}_" for role in known)
    messages = []
    for name in sorted(set(map(str, names))):
        if not name.startswith(prefixes) or name in every or _REGISTERED.search(name):
            continue
        role = next(role for role in known if name.startswith(f"{role}_"))
        nearest = difflib.get_close_matches(name, sorted(known[role]) or every, n=1, cutoff=0.6)
        hint = f"did you mean {nearest[0]}?" if nearest else f"the {role} role's variables are in its README"
        messages.append(f"{name} is no variable of the collection; {hint}")
    return messages


class FilterModule:
    """flaskops.deploy filters for checking an inventory."""

    def filters(self) -> dict[str, Any]:
        return {"unknown_variables": unknown_variables}
