#!/usr/bin/env bash
# Runs Molecule scenarios, MOLECULE_JOBS at a time (default 2), each into its
# own log under .molecule-logs/; prints each scenario's result and wall time,
# and the end of the log of any that failed. Usage: molecule.sh SCENARIO...
# The scenarios named in LOWEST_SCENARIOS run on the lowest supported
# ansible-core, from .venv-lowest (`make venv-lowest`), the others on the PATH's.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${MOLECULE_JOBS:-2}
logs=.molecule-logs
mkdir -p "$logs"
[ $# -gt 0 ] || { echo "molecule.sh: no scenario given" >&2; exit 2; }

run_one() {
  local s=$1 start rc
  start=$(date +%s)
  if [[ " ${LOWEST_SCENARIOS:-} " == *" $s "* ]]; then
    [ -x .venv-lowest/bin/molecule ] || { echo "molecule.sh: $s runs on .venv-lowest: make venv-lowest" >&2; return 1; }
    export PATH="$PWD/.venv-lowest/bin:$PATH"
  fi
  ansible --version 2>/dev/null | sed -n 1p >"$logs/$s.core"
  echo "== molecule test -s $s: started $(date +%T) on $(cat "$logs/$s.core")"
  # Each step's end is noted with the seconds since the scenario began, for the table below.
  molecule test -s "$s" 2>&1 | python3 -u -c '
import re, sys, time
start = time.monotonic()
steps = open(sys.argv[1], "w")
for line in sys.stdin:
    sys.stdout.write(line)
    done = re.search(r"\u279c (\w+): Executed", re.sub(r"\x1b\[[0-9;]*m", "", line))
    if done:
        steps.write(f"{done.group(1)} {time.monotonic() - start:.0f}\n")
        steps.flush()
' "$logs/$s.steps" >"$logs/$s.log"
  rc=${PIPESTATUS[0]}
  echo "$s $rc $(( $(date +%s) - start ))" >"$logs/$s.result"
  echo "== molecule test -s $s: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
  return $rc
}
export -f run_one
export logs

# Only this run's scenarios: another make molecule may be running beside this one.
for s in "$@"; do rm -f "$logs/$s.result" "$logs/$s.steps" "$logs/$s.core"; done
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

# CI shows the end of the output: the tails of failed logs come first, then
# what failed in each (pytest's summary, fatal tasks), then the table.
status=0
failed=()
for s in "$@"; do
  read -r _ rc _ <"$logs/$s.result" 2>/dev/null || rc=1
  [ "$rc" = 0 ] || failed+=("$s")
done
for s in "${failed[@]}"; do
  echo
  echo "---- last 60 lines of $logs/$s.log"
  tail -n 60 "$logs/$s.log"
done
for s in "${failed[@]}"; do
  echo
  echo "---- what failed in $s (from $logs/$s.log)"
  # Molecule frames and folds the output of ansible and pytest: unframe it first.
  sed -E 's/\x1b\[[0-9;]*m//g; s/^ *│ ?//' "$logs/$s.log" \
    | grep -a -A2 -E '^(FAILED|ERROR)( [a-z_/]+\.py|$)|^E  +|fatal: \[|failed: \[|^ *msg: |short test summary' \
    | grep -av '^--$' | tail -n 40
done
echo
# Seconds per step: where a scenario's time goes (steps that ran more than once are summed).
echo "scenario     result  seconds  core    steps (seconds each)"
for s in "$@"; do
  read -r _ rc secs <"$logs/$s.result" 2>/dev/null || { rc=1; secs=-; }
  steps=$(awk '{ d = $2 - prev; prev = $2; t[$1] += d; if (!($1 in o)) { o[$1] = ++n; k[n] = $1 } }
               END { for (i = 1; i <= n; i++) printf "%s %d  ", k[i], t[k[i]] }' "$logs/$s.steps" 2>/dev/null)
  core=$(grep -o 'core [0-9.]*' "$logs/$s.core" 2>/dev/null | cut -d' ' -f2)
  printf '%-12s %-7s %-8s %-7s %s\n' "$s" "$([ "$rc" = 0 ] && echo ok || echo FAILED)" "$secs" "${core:--}" "$steps"
  [ "$rc" = 0 ] || status=1
done
scripts/cache.sh report
exit $status
