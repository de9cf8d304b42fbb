"""python_literal writes values gunicorn.conf.py can execute."""

from __future__ import annotations

import ast

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.flaskops.deploy.plugins.filter.python_literal import python_literal


@pytest.mark.parametrize(
    "value",
    [True, False, None, 0, 42, 1.5, "", "it's \"quoted\"\n", ["a", 1, None], {"k": {"n": [True]}}],
)
def test_round_trip(value: object) -> None:
    assert ast.literal_eval(python_literal(value)) == value


def test_booleans_are_python_not_json() -> None:
    assert python_literal({"preload": True, "x": None}) == "{'preload': True, 'x': None}"


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="cannot write a set"):
        python_literal({1, 2})
