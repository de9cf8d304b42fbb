"""A role's table of checks, decided in one task: the messages of the rules that do not hold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean


def failed_checks(rules: Iterable[Mapping[str, Any]]) -> list[str]:
    """The msg of each rule whose valid is false ("False" too: a template's text before Jinja's native types)."""
    return [str(rule.get("msg", "")).strip() for rule in rules if not boolean(rule.get("valid"), strict=False)]


class FilterModule:
    """flaskops.deploy's checks of settings."""

    def filters(self) -> dict[str, Any]:
        return {"failed_checks": failed_checks}
