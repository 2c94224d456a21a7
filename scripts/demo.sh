#!/usr/bin/env bash
# Set everything up, then jail `mkdir` with the bundled example rules: the
# mkdir is refused with EACCES, everything else runs, and the log says so.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
set +e
.venv/bin/seccomp-jail run --rules examples/deny-mkdir.toml --db "$work/run.sqlite" -- mkdir "$work/demo-dir"
status=$?
set -e
echo "mkdir exited with status $status; the directory $( [ -d "$work/demo-dir" ] && echo exists || echo does not exist )"
.venv/bin/seccomp-jail log stats "$work/run.sqlite"
