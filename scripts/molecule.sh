#!/usr/bin/env bash
# Runs Molecule scenarios, MOLECULE_JOBS at a time (default 2), each into its
# own log under .molecule-logs/; prints each scenario's result and wall time,
# and the end of the log of any that failed. Usage: molecule.sh SCENARIO...
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${MOLECULE_JOBS:-2}
logs=.molecule-logs
mkdir -p "$logs"
[ $# -gt 0 ] || { echo "molecule.sh: no scenario given" >&2; exit 2; }

run_one() {
  local s=$1 start rc
  start=$(date +%s)
  echo "== molecule test -s $s: started $(date +%T)"
  molecule test -s "$s" >"$logs/$s.log" 2>&1
  rc=$?
  echo "$s $rc $(( $(date +%s) - start ))" >"$logs/$s.result"
  echo "== molecule test -s $s: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
  return $rc
}
export -f run_one
export logs

rm -f "$logs"/*.result
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
echo "scenario     result  seconds"
for s in "$@"; do
  read -r _ rc secs <"$logs/$s.result" 2>/dev/null || { rc=1; secs=-; }
  printf '%-12s %-7s %s\n' "$s" "$([ "$rc" = 0 ] && echo ok || echo FAILED)" "$secs"
  [ "$rc" = 0 ] || status=1
done
exit $status
