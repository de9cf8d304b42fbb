"""Render the templates of a config_files call on the controller, then write everything in one call."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

MODULE = "flaskops.deploy.config_files"


class ActionModule(ActionBase):
    """A file given as template (with its own vars) is rendered here, with the template lookup."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        files = []
        for index, spec in enumerate(args.get("files") or []):
            spec = dict(spec)
            if "template" in spec:
                if "content" in spec:
                    raise AnsibleActionFail(f"config_files: files[{index}] gives both template and content")
                spec["content"] = self._render(spec.pop("template"), spec.pop("vars", None) or {}, task_vars or {})
            files.append(spec)
        if "files" in args:
            args["files"] = files
        result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
        return result

    def _render(self, template: str, template_vars: dict[str, Any], task_vars: dict[str, Any]) -> str:
        lookup = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
        if lookup is None:
            raise AnsibleActionFail("config_files: the template lookup is not available")
        return str(lookup.run([template], variables=task_vars, template_vars=template_vars)[0])
