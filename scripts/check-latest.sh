#!/usr/bin/env bash
# Drift check for maintainers (never run by CI): install the NEWEST release of every dependency
# in a throw-away venv, run the whole suite there, and print what differs from constraints.txt.
# Green: `scripts/check-latest.sh --lock` also rewrites constraints.txt (scripts/lock.sh) —
# commit it. Red: the failures show what a new release broke, before any user meets it.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade pip setuptools wheel
"$tmp/venv/bin/pip" install -q -e '.[test]'
"$tmp/venv/bin/pip" freeze --all | grep -v -i '^-e\|^hothot' | sort > "$tmp/latest.txt"
grep -v '^#' constraints.txt | sort > "$tmp/locked.txt"
echo "== newest vs locked (< locked, > newest)"
diff "$tmp/locked.txt" "$tmp/latest.txt" || true
echo "== the suite on the newest versions"
status=0
"$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider || status=$?
if [ "$status" -eq 0 ] && [ "${1:-}" = "--lock" ]; then
  scripts/lock.sh
fi
exit "$status"
