"""scripts/role_docs.py: the README variable tables it writes from argument specs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_role_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["role_docs"] = module
    spec.loader.exec_module(module)
    return module


role_docs = _load_role_docs()

SPECS = {
    "main": {
        "short_description": "Serves the shop.",
        "description": ["Installs the shop.", "Answers on I(shop_port)."],
        "options": {
            "shop_port": {"type": "int", "default": 8000, "description": "Port; see C(ss -ltn)."},
            "shop_mode": {
                "type": "str",
                "choices": ["", "fast", "safe"],
                "default": "",
                "description": "Mode; empty picks one.",
            },
            "shop_hosts": {
                "type": "list",
                "elements": "str",
                "required": True,
                "description": "Names | aliases.",
            },
            "shop_tls": {
                "type": "dict",
                "default": {"enabled": False},
                "description": "TLS.",
                "options": {"enabled": {"type": "bool", "default": False, "description": "On or off."}},
            },
        },
    },
    "stop": {"short_description": "Stops the shop.", "options": {}},
}


def _readme(tmp_path: Path, text: str | None) -> Path:
    role = tmp_path / "roles" / "shop"
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text("---\n[]\n")
    (role / "meta").mkdir()
    (role / "meta" / "argument_specs.yml").write_text(role_docs.yaml.safe_dump({"argument_specs": SPECS}))
    if text is not None:
        (role / "README.md").write_text(text)
    return role / "README.md"


@pytest.mark.parametrize(
    ("source", "markdown"),
    [
        ("I(app_source=git)", "*app_source=git*"),
        ("C(module:variable) and B(never)", "`module:variable` and **never**"),
        ("L(the guide,https://example.org/g)", "[the guide](https://example.org/g)"),
        ("U(https://example.org)", "<https://example.org>"),
        ("plain (parenthesised) text", "plain (parenthesised) text"),
    ],
)
def test_ansible_markup_becomes_markdown(source: str, markdown: str) -> None:
    assert role_docs.markup_to_markdown(source) == markdown


@pytest.mark.parametrize(
    ("value", "shown"),
    [("", '`""`'), ("x", "`x`"), (True, "`true`"), (5, "`5`"), ([], "`[]`"), (["a", "b"], '`["a", "b"]`')],
)
def test_defaults_show_as_yaml_reads_them(value: object, shown: str) -> None:
    assert role_docs.literal(value) == shown


def test_a_cell_is_one_line_with_pipes_escaped() -> None:
    assert role_docs.cell("a |\n  b") == "a \\| b"


def test_table_lists_every_option_in_spec_order_with_nested_ones() -> None:
    table = role_docs.render_table("shop", SPECS)
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("|")[1].strip() for row in rows] == [
        "`shop_port`",
        "`shop_mode`",
        "`shop_hosts`",
        "`shop_tls`",
        "`shop_tls.enabled`",
    ]
    assert '| `shop_mode` | str | `""` | `""`, `fast`, `safe` | no | Mode; empty picks one. |' in rows
    assert "| `shop_hosts` | list of str |  |  | yes | Names \\| aliases. |" in rows
    assert "### Entry point `stop`" in table
    assert table.startswith(role_docs.BEGIN) and table.endswith(role_docs.END)


def test_a_missing_readme_is_created_with_an_introduction(tmp_path: Path) -> None:
    readme = _readme(tmp_path, None)
    assert role_docs.stale_readmes(tmp_path / "roles", write=True) == [readme]
    text = readme.read_text()
    assert text.startswith(
        "# flaskops.deploy.shop\n\nServes the shop.\n\nInstalls the shop.\n\nAnswers on *shop_port*."
    )
    assert "ansible-doc -t role flaskops.deploy.shop" in text
    assert role_docs.stale_readmes(tmp_path / "roles", write=False) == []


def test_only_the_marked_block_changes(tmp_path: Path) -> None:
    readme = _readme(
        tmp_path, f"# Shop\n\nHand-written.\n\n{role_docs.BEGIN}\nold table\n{role_docs.END}\n\n## After\n"
    )
    role_docs.stale_readmes(tmp_path / "roles", write=True)
    text = readme.read_text()
    assert text.startswith("# Shop\n\nHand-written.\n\n" + role_docs.BEGIN)
    assert text.endswith(role_docs.END + "\n\n## After\n")
    assert "old table" not in text and "`shop_port`" in text


def test_a_readme_without_markers_gets_a_variables_section(tmp_path: Path) -> None:
    readme = _readme(tmp_path, "# Shop\n\nHand-written.\n")
    role_docs.stale_readmes(tmp_path / "roles", write=True)
    assert readme.read_text().startswith("# Shop\n\nHand-written.\n\n## Variables\n\n" + role_docs.BEGIN)


@pytest.mark.parametrize(
    "broken",
    [
        f"{role_docs.BEGIN}\nno end\n",
        f"{role_docs.END}\n{role_docs.BEGIN}\n",
        f"{role_docs.BEGIN}\n{role_docs.END}\n{role_docs.BEGIN}\n{role_docs.END}\n",
    ],
)
def test_broken_markers_are_refused_not_guessed(tmp_path: Path, broken: str) -> None:
    readme = _readme(tmp_path, broken)
    with pytest.raises(role_docs.DocsError, match="exactly one"):
        role_docs.stale_readmes(tmp_path / "roles", write=True)
    assert readme.read_text() == broken


def test_check_mode_reports_drift_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = _readme(tmp_path, "# Shop\n")
    assert role_docs.main(["--check", str(tmp_path / "roles")]) == 1
    assert "make docs" in capsys.readouterr().err
    assert readme.read_text() == "# Shop\n"
    assert role_docs.main([str(tmp_path / "roles")]) == 0
    assert role_docs.main(["--check", str(tmp_path / "roles")]) == 0


def test_an_entry_point_that_shares_main_options_is_not_repeated() -> None:
    """validate and apply take main's variables (a YAML anchor): the README says so instead of a second table."""
    main = SPECS["main"]
    specs = {
        "main": main,
        "apply": {"short_description": "Applies.", "options": main["options"]},
        "rollback": {
            "short_description": "Goes back.",
            "options": {**main["options"], "shop_release": {"type": "str"}},
        },
    }
    table = role_docs.render_table("shop", specs)
    apply_part = table.split("### Entry point `apply`")[1].split("### Entry point")[0]
    assert "The variables of the entry point `main`." in apply_part and "| `shop_port`" not in apply_part
    rollback_part = table.split("### Entry point `rollback`")[1]
    assert "The variables of the entry point `main`, and:" in rollback_part
    assert "| `shop_release`" in rollback_part and "| `shop_port`" not in rollback_part
