#!/usr/bin/python
"""Mark one app host down or up in a load balancer's nginx upstream, tested and reloaded in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: upstream_server
author: flaskops.deploy maintainers (@flaskops)
short_description: Takes one server of an nginx upstream out (C(down)) or puts it back, in one call
description:
  - Runs on a load balancer whose upstream includes one file per app host (the loadbalancer role writes them),
    each holding one C(server) line. Adds or removes C(down) on the line of O(server), tests the whole
    configuration with C(nginx -t) and reloads nginx gracefully (in-flight requests finish on the old workers).
    When nginx rejects the change the file is put back and the module fails with nginx's message.
  - With O(state=down) and O(keep_last=true) the server stays in when no server outside O(batch) would be
    left up - draining it would leave the balancer nothing to send requests to.
  - A missing directory (a balancer not set up yet) changes nothing.
options:
  dir:
    description: The directory of backend files, one C(<server>.conf) per app host.
    type: path
    required: true
  server:
    description: The backend file's name, without C(.conf).
    type: str
    required: true
  state:
    description: C(down) takes the server out of the upstream, C(up) puts it back.
    type: str
    choices: [down, up]
    required: true
  batch:
    description: The servers being deployed together with this one (they do not count as left up).
    type: list
    elements: str
    default: []
  keep_last:
    description: With O(state=down), leave the server in when it is the last one up outside O(batch).
    type: bool
    default: true
  health_path:
    description:
      - With O(state=up), the path the server must answer with 200 - asked from the balancer at the address of its
        C(server) line, the way nginx reaches it - before it goes back in. Empty puts it back unasked.
    type: str
    default: ""
  host_header:
    description: The Host header of the health request; C($host) sends the server's address.
    type: str
    default: localhost
  timeout:
    description: Seconds the server has to answer 200.
    type: int
    default: 30
  required:
    description: Fail when the server does not answer healthy in time; false leaves it out without failing.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Shows the changed server line and writes nothing.
"""

EXAMPLES = r"""
- name: Take this host out of the upstream on every load balancer
  flaskops.deploy.upstream_server:
    dir: /etc/nginx/upstreams/shop
    server: web2
    state: down
    batch: [web2]
  delegate_to: "{{ item }}"
  loop: "{{ groups['loadbalancers'] }}"
"""

RETURN = r"""
present:
  description: Whether the balancer has a backend file for O(server).
  type: bool
  returned: always
kept:
  description: With O(state=down), whether the server was left up because it is the last one.
  type: bool
  returned: always
up:
  description: Whether the server takes requests after the call.
  type: bool
  returned: always
status:
  description: The status of the last health answer; -1 for none, null when none was asked.
  type: int
  returned: always
answer:
  description: The start of the last health answer's body, or the error.
  type: str
  returned: always
"""

import os
import re
import time
from typing import Any
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

SERVER_LINE = re.compile(r"^(server\s[^;]*?)( down)?;$", re.MULTILINE)


def is_up(text: str) -> bool:
    match = SERVER_LINE.search(text)
    return bool(match) and not match.group(2)


def ask(url: str, host: str) -> tuple[int, str]:
    try:
        answer = open_url(url, headers={"Host": host}, timeout=5, validate_certs=False)
        return answer.status, answer.read(300).decode("utf-8", "replace")
    except HTTPError as exc:
        return exc.code, exc.read(300).decode("utf-8", "replace")
    except (URLError, OSError) as exc:
        return -1, str(getattr(exc, "reason", exc))


def wait_healthy(address: str, path: str, host: str, timeout: int) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    status, body = -1, ""
    while True:
        status, body = ask(f"http://{address}{path}", address if host == "$host" else host)
        if status == 200 or time.monotonic() >= deadline:
            return status, body
        time.sleep(1)


def run(module: AnsibleModule, command: list[str]) -> tuple[int, str]:
    rc, out, err = module.run_command(command)
    return rc, (out + err).strip()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dir": {"type": "path", "required": True},
            "server": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["down", "up"], "required": True},
            "batch": {"type": "list", "elements": "str", "default": []},
            "keep_last": {"type": "bool", "default": True},
            "health_path": {"type": "str", "default": ""},
            "host_header": {"type": "str", "default": "localhost"},
            "timeout": {"type": "int", "default": 30},
            "required": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    path = os.path.join(params["dir"], params["server"] + ".conf")
    result: dict[str, Any] = {
        "changed": False,
        "present": os.path.isfile(path),
        "kept": False,
        "up": False,
        "status": None,
        "answer": "",
    }
    if not result["present"]:
        module.exit_json(**result)
    with open(path, encoding="utf-8") as handle:
        before = handle.read()
    result["up"] = is_up(before)
    want_up = params["state"] == "up"
    if result["up"] == want_up:
        module.exit_json(**result)
    if not want_up and params["keep_last"]:
        others = [
            name[: -len(".conf")]
            for name in os.listdir(params["dir"])
            if name.endswith(".conf") and name[: -len(".conf")] not in [params["server"], *params["batch"]]
        ]
        up = []
        for other in others:
            with open(os.path.join(params["dir"], other + ".conf"), encoding="utf-8") as handle:
                if is_up(handle.read()):
                    up.append(other)
        if not up:
            module.exit_json(**{**result, "kept": True})
    if want_up and params["health_path"]:
        address = SERVER_LINE.search(before).group(1).split()[1]  # type: ignore[union-attr]
        result["status"], result["answer"] = wait_healthy(
            address, params["health_path"], params["host_header"], params["timeout"]
        )
        if result["status"] != 200:
            if params["required"]:
                module.fail_json(
                    msg=f"{params['server']} answered {result['status']} for {params['health_path']}"
                    f" from this balancer: {result['answer'][:300]}",
                    **result,
                )
            module.exit_json(**result)
    after = SERVER_LINE.sub(lambda m: m.group(1) + ("" if want_up else " down") + ";", before)
    result.update(changed=True, up=want_up, diff={"before": before, "after": after, "before_header": path})
    if module.check_mode:
        module.exit_json(**result)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(after)
    rc, output = run(module, ["nginx", "-t"])
    if rc != 0:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(before)
        module.fail_json(msg=f"nginx -t rejected the change, {path} is back as it was: {output}", **result)
    rc, output = run(module, ["systemctl", "reload", "nginx"])
    if rc != 0:
        module.fail_json(msg=f"systemctl reload nginx failed: {output}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
