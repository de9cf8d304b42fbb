#!/usr/bin/env bash
# Renders CHANGELOG.md from changelogs/ with antsibull-changelog, unreleased fragments included.
#
# `antsibull-changelog generate` renders only releases that were cut, and `antsibull-changelog release`
# would cut one (it moves the fragments into changelogs/changelog.yaml and deletes them). Until a version
# is really released, this does the release on a throwaway copy of the collection, for the version in
# galaxy.yml, and keeps only the CHANGELOG.md it renders, marked unreleased. The plugins are copied too,
# so the "New Plugins" / "New Modules" sections are complete. Only files git tracks are copied: a fragment
# or a plugin counts once it is added (`git add`), and work in progress elsewhere cannot break this.
#
# To release for real: set the version in galaxy.yml, run `antsibull-changelog release`, commit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")

work=$(mktemp -d "${TMPDIR:-/tmp}/flaskops-changelog.XXXXXX")
trap 'rm -rf "$work"' EXIT
copy="$work/ansible_collections/flaskops/deploy"
mkdir -p "$copy"
cd "$root"
git ls-files -z -- galaxy.yml changelogs meta plugins |
  while IFS= read -r -d '' file; do
    [ -e "$file" ] && printf '%s\0' "$file" # skip files deleted in the work tree
  done |
  xargs -0 cp --parents -t "$copy"

cd "$copy"
fragments=$(find changelogs/fragments -name '*.y*ml' 2>/dev/null | wc -l)
ANSIBLE_COLLECTIONS_PATH="$work" antsibull-changelog release --version "$version" --date "$(date -u +%Y-%m-%d)" >/dev/null
python - "$version" "$copy/CHANGELOG.md" "$root/CHANGELOG.md" <<'PY'
import re
import sys
from pathlib import Path

version, rendered, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
text = rendered.read_text()
# A preview carries no release date: the heading says it is not out yet, and reruns on other days match.
heading = re.escape("## v" + version.replace(".", "\\."))
text = re.sub(rf"^({heading})$", r"\1 \(unreleased\)", text, count=1, flags=re.M)
text = re.sub(r"^Release Date: .*\n\n?", "", text, count=1, flags=re.M)
target.write_text(text)
PY
echo "changelog: wrote $root/CHANGELOG.md for v$version from $fragments unreleased fragments"
