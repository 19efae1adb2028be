#!/usr/bin/env bash
# Refresh constraints.txt: resolve hothot's dependencies (with the test extra) afresh in a
# throw-away venv and write the exact versions pip chose. CI and the README's test command
# install with `-c constraints.txt`, so nothing changes under them until this is run, the
# suite passes on the result (scripts/check-latest.sh does both), and the file is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip setuptools wheel
"$venv/bin/pip" install -q '.[test]'
{
  echo "# Exact versions for CI and the test command (pip install -c constraints.txt -e '.[test]')."
  echo "# Written by scripts/lock.sh on $(date -u +%Y-%m-%d) with $("$venv/bin/python" --version);"
  echo "# refresh with scripts/check-latest.sh, which also runs the suite on the newest versions."
  "$venv/bin/pip" freeze --all | grep -v -i '^hothot[= @]' | grep -v '^pip=='
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pinned packages"
