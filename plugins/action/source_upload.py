"""Pack a release's code on the controller, send it as one archive, unpack it once on the host."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.flaskops.deploy.plugins.module_utils.source_tree import (
    SourceError,
    checksum,
    entries,
    file_checksum,
    pack,
)

MODULE = "flaskops.deploy.source_upload"


class ActionModule(ActionBase):
    """With src: pack on the controller and transfer; otherwise the module alone, on the host."""

    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(("src", "as_file", "git_repo", "git_version", "dest", "exclude", "checksum"))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp  # ActionBase makes its own
        args = dict(self._task.args)
        if not args.get("src"):
            result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
            return result
        source = os.path.expanduser(str(args["src"]))
        try:
            if args.get("as_file"):
                found, members = file_checksum(source), None
            else:
                members = entries(source, [str(p) for p in args.get("exclude") or []])
                found = checksum(members)
        except SourceError as exc:
            raise AnsibleActionFail(f"source_upload: {exc}") from exc
        if args.get("checksum") and found != args["checksum"]:
            raise AnsibleActionFail(f"source_upload: {source} changed since its release id was computed; deploy again")
        if self._task.check_mode:
            files = 1 if members is None else sum(1 for m in members if not m.is_dir)
            result.update(changed=True, files=files, bytes=0, checksum=found)
            return result

        local_dir = tempfile.mkdtemp(prefix="flaskops-source-")
        try:
            if members is None:
                local, args["name"] = source, os.path.basename(source)
            else:
                local = os.path.join(local_dir, "source.tar.gz")
                with open(local, "wb") as handle:
                    pack(members, handle)
            remote_tmp = self._connection._shell.tmpdir or self._make_tmp_path()
            remote = self._connection._shell.join_path(remote_tmp, "source")
            self._transfer_file(local, remote)
            self._fixup_perms2((remote_tmp, remote))
            args["src"] = remote
            module_result = self._execute_module(MODULE, module_args=args, task_vars=task_vars)
        except OSError as exc:
            raise AnsibleActionFail(f"source_upload: sending {source} failed: {to_text(exc)}") from exc
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(module_result)
        return result
