#!/usr/bin/env bash
# Sets up and builds kvant, then runs every test suite. The last line printed
# is the total over all suites: "N passed, N failed, N skipped".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KVANT_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }

results=$build/test-results
rm -rf "$results" && mkdir -p "$results"
status=0

echo "== lit suite"
/usr/lib/llvm-22/bin/lit -sv "$build/test" \
  --xunit-xml-output "$results/lit.xml" || status=1

echo "== python suite"
venv=${KVANT_VENV:-$root/.venv}
KVANT_BUILD_DIR=$build "$venv/bin/python" -m pytest -q "$root/test/python" \
  --junitxml="$results/pytest.xml"
rc=$?
# Exit code 5 means no tests were collected, which is not a failure here.
if [[ $rc -ne 0 && $rc -ne 5 ]]; then status=1; fi

python3 "$root/scripts/summarize_tests.py" "$results"/*.xml || status=1
exit $status
