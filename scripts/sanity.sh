#!/usr/bin/env bash
# Runs `ansible-test sanity` on the collection without docker.
#
# ansible-test only tests a tree at .../ansible_collections/<namespace>/<name>/, and the checkout's own
# collections/ansible_collections/flaskops/deploy is a symlink back to it, which ansible-test walks into
# forever. So the collection is built from the work tree with ansible-galaxy, as it would ship, and the
# tarball is unpacked into a throwaway tree with tests/sanity/ (the ignore files) beside it. The test
# bed's own Python (molecule/, scripts/, tests/) does not ship; ruff and pytest look after it.
#
# The tests' own pinned requirements (pylint, yamllint, voluptuous, ...) would fight the toolchain's pins
# in .venv, and `--venv` fetches a pip bootstrap script from a host that is not reachable here, so the
# tests run `--local` in a virtualenv of their own, .ansible/sanity-venv-<core>, with the same ansible-core as
# .venv; `--requirements` installs what each test needs into it from PyPI (once; then it is reused).
#
# Usage: scripts/sanity.sh [ansible-test sanity options], e.g. --test pylint, or -v
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

work=$(mktemp -d "${TMPDIR:-/tmp}/flaskops-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/flaskops/deploy"
mkdir -p "$dest"
ansible-galaxy collection build --output-path "$work" "$root" >/dev/null
tar -xzf "$work"/flaskops-deploy-*.tar.gz -C "$dest"
# tests/sanity/ (the ignore files) and tests/config.yml (the modules' Python) are read by ansible-test.
mkdir -p "$dest/tests"
cp -r "$root/tests/sanity" "$root/tests/config.yml" "$dest/tests/"

core=$(python -c 'import ansible.release as r; print(r.__version__)')
venv="$root/.ansible/sanity-venv-$core"
if [ "$(cat "$venv/.ansible-core" 2>/dev/null)" != "$core" ]; then
  echo "sanity: building $venv with ansible-core $core"
  rm -rf "$venv"
  python -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "ansible-core==$core"
  echo "$core" >"$venv/.ansible-core"
fi
export PATH="$venv/bin:$PATH"

# Each test's own virtualenv starts without pip; ansible-test then runs get-pip from its cache, which it
# would otherwise download from ci-files.testing.ansible.com (unreachable here): see scripts/get_pip.py.
pip_version=$(python -c '
import importlib.util, re
source = open(importlib.util.find_spec("ansible_test._internal.python_requirements").origin).read()
print(re.search(r"pip=.([0-9.]+).", source).group(1))')
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$get_pip" ]; then
  mkdir -p "$(dirname "$get_pip")"
  cp "$root/scripts/get_pip.py" "$get_pip"
fi

cd "$dest"
echo "sanity: ansible-test sanity on the collection as built from $root, unpacked in $dest"
ansible-test sanity --local --requirements --python "$python_version" --color no "$@"
