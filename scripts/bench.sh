#!/usr/bin/env bash
# `make bench`: the project's benchmark on one local container (flaskops-bench).
# The machine is shared: the script prints the load average at the start and
# end; rerun at a quieter moment when it was high.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python scripts/bench.py "$@"
