#!/usr/bin/env bash
# The monitoring role's alert rules, rendered from its template with the role's
# defaults (tests/alert_rules/render.yml), then `promtool check rules` and
# `promtool test rules` (tests/alert_rules/tests.yml). promtool: Debian's, put
# in the test bed's tools directory by scripts/host_tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
promtool=${PROMTOOL:-$(command -v promtool || echo "${FLASKOPS_CACHE_DIR:-/var/cache/flaskops-test}/tools/bin/promtool")}
[ -x "$promtool" ] || { echo "alert_rules: no promtool at $promtool (make tools installs it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ansible-playbook -i localhost, -c local tests/alert_rules/render.yml -e "dest=$work/rules.yml" >"$work/render.log" 2>&1 \
  || { tail -20 "$work/render.log" >&2; exit 1; }
cp tests/alert_rules/tests.yml "$work/"
"$promtool" check rules "$work/rules.yml"
(cd "$work" && "$promtool" test rules tests.yml)
