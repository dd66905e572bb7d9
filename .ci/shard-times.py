#!/usr/bin/env python3
"""Simulate the roles suite's wall time on N shards, from measured durations.

Nothing runs here but `cargo nextest list`: each test's duration is the one
measured in a real run of the suite (a nextest JUnit report, e.g.
target/nextest/roles/junit-roles.xml), and which tests shard K of N runs is
what nextest itself says for `--partition hash:K/N` (the partition the
sharded workflow, .github/workflows/roles.yml, runs on each runner).

Each shard is then scheduled as the suite runs on one machine: the roles
tests are in the `environments` test group, at most `max-threads` at a time
(.config/nextest.toml; 2), so a shard's time is that of a greedy
longest-first schedule of its tests on that many slots. nextest starts tests
in its own order, not longest-first, so a real shard can take somewhat
longer; per-shard setup (archive download, host images, venv) is not in the
durations: --overhead adds a fixed figure per shard for it.

Prints, for N = 1..--max-shards: each shard's time, the longest (the wall
time, as the shards run side by side) and the speedup against N = 1.

Usage: shard-times.py JUNIT.xml [--max-shards 4] [--slots S] [--overhead SECONDS]
                      [--profile roles] [-- EXTRA NEXTEST LIST ARGS]
Run it from the workspace, where `cargo nextest list` works (on this
machine under the cargo lock: flock /tmp/argos-cargo.lock .ci/shard-times.py ...).
"""

import argparse
import heapq
import json
import pathlib
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent
GROUP = "environments"


def durations(junit):
    """{(binary id, test name): seconds} from a nextest JUnit report."""
    try:
        report = ET.parse(junit).getroot()
    except (OSError, ET.ParseError) as e:
        raise SystemExit(f"shard-times: cannot read {junit}: {e}")
    found = {}
    for case in report.iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        try:
            found[key] = float(case.get("time", ""))
        except ValueError:
            raise SystemExit(f"shard-times: {junit}: {key[0]} {key[1]} has no time")
    if not found:
        raise SystemExit(f"shard-times: {junit} has no test cases")
    return found, float(report.get("time") or 0)


def group_slots():
    """The environments group's max-threads in .config/nextest.toml."""
    config = ROOT / ".config" / "nextest.toml"
    try:
        groups = tomllib.loads(config.read_text())["test-groups"]
        return int(groups[GROUP]["max-threads"])
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as e:
        raise SystemExit(f"shard-times: no max-threads for test group {GROUP} in {config} ({e}): pass --slots")


def partition(profile, k, n, extra):
    """The tests `--partition hash:k/n` of `profile` runs, as (binary id, name)."""
    command = ["cargo", "nextest", "list", "--profile", profile, "--partition", f"hash:{k}/{n}",
               "--message-format", "json", *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"shard-times: {' '.join(command)} failed:\n{done.stderr}")
    listing = json.loads(done.stdout)
    return {
        (binary_id, name)
        for binary_id, suite in listing["rust-suites"].items()
        for name, case in suite["testcases"].items()
        if case["filter-match"]["status"] == "matches"
    }


def wall_time(seconds, slots):
    """Longest slot of a greedy longest-first schedule of `seconds` on `slots`."""
    loads = [0.0] * slots
    for duration in sorted(seconds, reverse=True):
        heapq.heapreplace(loads, loads[0] + duration)
    return max(loads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("junit", help="a nextest JUnit report of a real run of the suite")
    parser.add_argument("--max-shards", type=int, default=4)
    parser.add_argument("--slots", type=int, help=f"tests at a time per shard (default: the {GROUP} group's max-threads)")
    parser.add_argument("--overhead", type=float, default=0.0, help="fixed seconds added per shard (its setup)")
    parser.add_argument("--profile", default="roles")
    # After `--`: more `cargo nextest list` arguments (e.g. --archive-file).
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_args(argv[:split]), argv[split + 1:]
    if args.max_shards < 1:
        raise SystemExit("shard-times: --max-shards must be at least 1")
    measured, run_time = durations(args.junit)
    slots = args.slots or group_slots()

    suite = partition(args.profile, 1, 1, extra)
    timed = suite & measured.keys()
    if not timed:
        raise SystemExit(f"shard-times: none of the {len(suite)} tests of profile {args.profile} is in {args.junit}")
    print(f"{args.junit}: {len(measured)} tests measured, run {run_time:.1f} s; "
          f"profile {args.profile}: {len(suite)} tests, {len(timed)} with a measured duration")
    if suite - timed:
        print(f"left out (no duration measured): {len(suite - timed)} tests, e.g. "
              + ", ".join(f"{b} {t}" for b, t in sorted(suite - timed)[:3]))
    print(f"schedule: longest first on {slots} slots per shard, +{args.overhead:.0f} s per shard\n")

    print(f"{'N':>2}  {'per-shard wall time (s), tests':<48} {'wall (s)':>9} {'speedup':>8}")
    base = None
    for n in range(1, args.max_shards + 1):
        shards = [suite] if n == 1 else [partition(args.profile, k, n, extra) for k in range(1, n + 1)]
        # The partitions must cover the suite exactly once, or the table lies.
        covered = [t for shard in shards for t in shard]
        if len(covered) != len(set(covered)) or set(covered) != suite:
            raise SystemExit(f"shard-times: the {n} partitions do not cover the suite exactly once")
        times = [args.overhead + wall_time([measured[t] for t in shard & timed], slots) for shard in shards]
        wall = max(times)
        base = base or wall
        cells = "  ".join(f"{t:.1f} ({len(s & timed)})" for t, s in zip(times, shards))
        print(f"{n:>2}  {cells:<48} {wall:>9.1f} {base / wall:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
