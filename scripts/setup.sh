#!/usr/bin/env bash
# Install what seccomp-jail needs on Debian/deepin (as root), then the package
# itself into .venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    need=()
    # gcc, libc6-dev, strace: the tests and benchmarks; gettext: msgfmt checks the translations
    for pkg in python3 python3-venv libseccomp2 gcc libc6-dev strace gettext; do
        dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${need[@]}" >/dev/null
    fi
fi

# The distribution's Python (the one apt installed above), not whatever comes
# first on PATH: Debian builds it with PGO and LTO, and the tracer runs 10-20 %
# faster on it than on a plain source build. PYTHON=... picks another one.
PYTHON=${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )}
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"seccomp-jail needs Python 3.11 or newer (this is {sys.version.split()[0]})")
PY
# A .venv made from another interpreter is made again.
base='import os, sys; print(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))'
if [ -x .venv/bin/python ] && [ "$(.venv/bin/python -c "$base")" != "$("$PYTHON" -c "$base")" ]; then
    rm -rf .venv
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# A regular install (not -e): the editable-install finder costs start-up
# time on every run. The tests run the checkout itself.
.venv/bin/python -m pip install -q '.[test]'
.venv/bin/python -m pip install -q --force-reinstall --no-deps .  # this checkout, even at the same version
