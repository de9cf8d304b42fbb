"""Render YAML data as Python source, for templates of Python config files such as gunicorn.conf.py."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

_SCALARS = (str, int, float, bool, type(None))


def python_literal(value: Any) -> str:
    """Return Python source for a YAML value (None/True/False, not JSON's null/true/false)."""
    if isinstance(value, _SCALARS):
        # str() first: Ansible hands over str subclasses whose repr is not plain.
        return repr(str(value)) if isinstance(value, str) else repr(value)
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(str(k))}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    raise AnsibleFilterError(f"python_literal: cannot write a {type(value).__name__} as Python: {value!r}")


class FilterModule:
    """flaskops.deploy filters for Python templates."""

    def filters(self) -> dict[str, Any]:
        return {"python_literal": python_literal}
