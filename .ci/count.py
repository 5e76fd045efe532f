"""Count every test result under a results directory and print one line:
"N passed, N failed". cmocka XML reports give one count per test case; a
cmocka program that died before writing its report counts from meson's
JUnit report instead, as one failure. pytest JUnit reports count per test.
The clang-format check and each fuzz target count one each. Exits 1 if
anything failed."""
import os
import re
import sys
import xml.etree.ElementTree as ET


def parse_reports(path):
    """The XML of a report file. A cmocka program that runs several groups
    writes one <testsuites> document per group into the same file, so the
    documents are read together under one root."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    return ET.fromstring("<reports>" + text + "</reports>")


def junit_counts(path):
    passed = failed = 0
    try:
        tree = parse_reports(path)
    except (ET.ParseError, OSError):
        return 0, 1
    for case in tree.iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" not in kinds:
            passed += 1
    return passed, failed


def cmocka_groups(dirpath):
    """{group name: (passed, failed)} from cmocka's per-group XML files."""
    groups = {}
    if not os.path.isdir(dirpath):
        return groups
    for name in sorted(os.listdir(dirpath)):
        if name.endswith(".xml"):
            groups[name[:-4]] = junit_counts(os.path.join(dirpath, name))
    return groups


def meson_failures_without_report(meson_junit, groups):
    """Failed meson tests (whole programs) whose cmocka report shows no failure."""
    extra = 0
    if not os.path.exists(meson_junit):
        return 0
    cmocka_failed = sum(f for _, f in groups.values())
    try:
        tree = ET.parse(meson_junit)
    except ET.ParseError:
        return 1
    failed_programs = 0
    for case in tree.iter("testcase"):
        if any(child.tag in ("failure", "error") for child in case):
            failed_programs += 1
    if failed_programs > cmocka_failed:
        extra = failed_programs - cmocka_failed
    return extra


def listed_checks(dirpath):
    """(passed, failed) of a check directory holding a "passed" and a
    "failed" file, one check name a line."""
    counts = []
    for kind in ("passed", "failed"):
        path = os.path.join(dirpath, kind)
        n = 0
        if os.path.exists(path):
            with open(path) as f:
                n = len(f.read().split())
        counts.append(n)
    return counts[0], counts[1]


def main(results):
    passed = failed = 0
    for build in ("plain", "asan"):
        groups = cmocka_groups(os.path.join(results, build + "-cmocka"))
        for p, f in groups.values():
            passed += p
            failed += f
        failed += meson_failures_without_report(
            os.path.join(results, build + "-meson.junit.xml"), groups)
        e2e = os.path.join(results, build + "-e2e.junit.xml")
        if os.path.exists(e2e):
            p, f = junit_counts(e2e)
            passed += p
            failed += f
    for check in ("format", "fuzz"):
        p, f = listed_checks(os.path.join(results, check))
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
