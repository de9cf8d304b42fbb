#!/usr/bin/env bash
# Builds .venv with the pinned toolchain. Prefers Python 3.13/3.12 (newer
# ansible-core), whether on PATH or installed by pyenv, and falls back to python3.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
stamp="$venv/.requirements.sha256"
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

# Prints the real interpreter behind a candidate (never one inside a venv,
# which may be the one about to be rebuilt).
real_python() {
  "$1" -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2]))' 2>/dev/null
}

pick_python() {
  local c real
  for c in python3.13 python3.12 \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3 \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3 python3; do
    real=$(real_python "$c") || continue
    if [ -x "$real" ] && "$real" -c 'import venv, ensurepip' >/dev/null 2>&1; then
      echo "$real"; return
    fi
  done
  echo "venv: no usable python3 found: install Debian's python3 and python3-venv" >&2
  exit 1
}

py=$(pick_python)
echo "venv: building $venv with $("$py" --version 2>&1) ($py)"
rm -rf "$venv"
"$py" -m venv "$venv"
log="$venv/pip-install.log"
if ! { "$venv/bin/pip" install --disable-pip-version-check --upgrade pip &&
       "$venv/bin/pip" install --disable-pip-version-check -r requirements-dev.txt; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "venv: pip install failed (full log: $log)" >&2
  exit 1
fi
echo "$want" >"$stamp"
"$venv/bin/python" -c 'import ansible.release as r; print("venv: ready, ansible-core", r.__version__)'
