#!/usr/bin/env python3
"""Merge the JUnit reports of the roles suite's shards into one.

Each shard of .github/workflows/roles.yml runs `--partition hash:K/N` and
writes its own nextest JUnit report. The merged report has one <testsuite>
per test binary (a binary's tests are spread over the shards), with the
counts summed; the run's time is the longest shard's (they run side by side).

A test found in two reports means two shards ran the same partition: that
fails the merge. With --expect N, fewer than N reports (a shard that ended
before nextest wrote one) fails it too, after the merged report is written
from the reports there are, so what did run is still reported.

Usage: merge-junit.py --out MERGED.xml [--expect N] REPORT.xml...
"""

import argparse
import sys
import xml.etree.ElementTree as ET

COUNTS = ("tests", "failures", "errors", "skipped", "disabled")


def number(element, name, kind=int):
    try:
        return kind(element.get(name, 0))
    except ValueError:
        raise SystemExit(f"merge-junit: <{element.tag}> has a {name} that is not a number: {element.get(name)!r}")


def put(element, name, value):
    element.set(name, f"{value:.3f}" if isinstance(value, float) else str(value))


def merge(paths):
    """The merged <testsuites> element, and problems found (duplicate tests)."""
    root = None
    suites = {}
    seen = {}
    problems = []
    longest = 0.0
    for path in paths:
        try:
            report = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            raise SystemExit(f"merge-junit: cannot read {path}: {e}")
        if report.tag != "testsuites":
            raise SystemExit(f"merge-junit: {path}: the root is <{report.tag}>, not <testsuites>")
        if root is None:
            root = ET.Element("testsuites", dict(report.attrib))
            root.attrib.pop("uuid", None)  # each shard was its own nextest run
        elif report.get("timestamp", "") < root.get("timestamp", ""):
            root.set("timestamp", report.get("timestamp"))
        longest = max(longest, number(report, "time", float))
        for suite in report.findall("testsuite"):
            name = suite.get("name", "")
            merged = suites.get(name)
            if merged is None:
                merged = ET.SubElement(root, "testsuite", dict(suite.attrib))
                for count in COUNTS + ("time",):
                    merged.attrib.pop(count, None)
                suites[name] = merged
            for count in COUNTS:
                if count in suite.attrib:
                    put(merged, count, number(merged, count) + number(suite, count))
            if "time" in suite.attrib:
                put(merged, "time", number(merged, "time", float) + number(suite, "time", float))
            for child in suite:
                if child.tag == "testcase":
                    key = (child.get("classname", name), child.get("name", ""))
                    if key in seen:
                        problems.append(f"{key[0]} {key[1]} is in {seen[key]} and in {path}")
                    seen[key] = path
                    merged.append(child)
                elif merged.find(child.tag) is None:
                    # <properties>, <system-out> of the suite: the first shard's.
                    merged.append(child)
    if root is None:
        raise SystemExit("merge-junit: no reports given")
    for count in COUNTS:
        if count in root.attrib:
            put(root, count, sum(number(s, count) for s in suites.values()))
    put(root, "time", longest)
    return root, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the merged report to write")
    parser.add_argument("--expect", type=int, help="how many reports there must be (the shard count)")
    parser.add_argument("reports", nargs="*", help="the shards' JUnit reports")
    args = parser.parse_args()

    root, problems = merge(args.reports)
    ET.indent(root)
    ET.ElementTree(root).write(args.out, encoding="utf-8", xml_declaration=True)
    print(
        f"merge-junit: {len(args.reports)} report(s) -> {args.out}: {root.get('tests')} tests, "
        f"{root.get('failures')} failures, {root.get('errors')} errors, {root.get('time')} s (longest shard)"
    )
    if args.expect is not None and len(args.reports) != args.expect:
        problems.append(f"{len(args.reports)} report(s) for {args.expect} shards: a shard wrote none (see its log)")
    for problem in problems:
        print(f"merge-junit: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
