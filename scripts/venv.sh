#!/usr/bin/env bash
# Builds .venv with the pinned toolchain. Prefers Python 3.13/3.12 (newer
# ansible-core), whether on PATH or installed by pyenv, and falls back to python3.
#
# With LOWEST=1 it builds .venv-lowest instead: the same pins, except ansible and
# ansible-core, which come from requirements-lowest.txt (the lowest core the
# collection supports), on the newest Python that core runs on (3.12 to 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${LOWEST:-}" ]; then
  venv=${VENV:-.venv-lowest}
  preferred="3.12 3.11 3.10"
  newest="(3, 12)"
  files="requirements-dev.txt requirements-lowest.txt"
else
  venv=${VENV:-.venv}
  preferred="3.13 3.12"
  newest="(3, 99)"
  files="requirements-dev.txt"
fi
stamp="$venv/.requirements.sha256"
# shellcheck disable=SC2086
want=$(cat $files | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

# Prints the real interpreter behind a candidate (never one inside a venv,
# which may be the one about to be rebuilt).
real_python() {
  "$1" -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2]))' 2>/dev/null
}

pick_python() {
  local c real v candidates=()
  for v in $preferred; do candidates+=("python$v"); done
  for v in $preferred; do candidates+=("${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python3); done
  for c in "${candidates[@]}" python3; do
    real=$(real_python "$c") || continue
    if [ -x "$real" ] && "$real" -c "import sys, venv, ensurepip; sys.exit(sys.version_info[:2] > $newest)" \
      >/dev/null 2>&1; then
      echo "$real"; return
    fi
  done
  echo "venv: no usable python3 found (for $venv: one of $preferred): install Debian's python3 and python3-venv" >&2
  exit 1
}

py=$(pick_python)
echo "venv: building $venv with $("$py" --version 2>&1) ($py)"
rm -rf "$venv"
"$py" -m venv "$venv"
log="$venv/pip-install.log"
if ! { "$venv/bin/pip" install --disable-pip-version-check --upgrade pip &&
       if [ -n "${LOWEST:-}" ]; then
         "$venv/bin/pip" install --disable-pip-version-check \
           -r <(grep -vE '^ansible(-core)?==' requirements-dev.txt) -r requirements-lowest.txt
       else
         "$venv/bin/pip" install --disable-pip-version-check -r requirements-dev.txt
       fi; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "venv: pip install failed (full log: $log)" >&2
  exit 1
fi
echo "$want" >"$stamp"
"$venv/bin/python" -c 'import ansible.release as r; print("venv: ready, ansible-core", r.__version__)'
