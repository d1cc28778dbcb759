#!/usr/bin/env python3
"""Prints one total over JUnit XML reports (lit's, pytest's):
"N passed, N failed, N skipped". Exits non-zero if any test failed or no
report could be read."""

import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(paths):
    totals = [0, 0, 0]
    for path in paths:
        try:
            for i, n in enumerate(count(path)):
                totals[i] += n
        except (OSError, ET.ParseError) as err:
            print(f"cannot read test report {path}: {err}", file=sys.stderr)
            totals[1] += 1
    if not paths:
        print("no test reports found", file=sys.stderr)
        totals[1] += 1
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
