#!/usr/bin/env python3
"""Fail on a tag-then-delete path in an IAM policy.

The sweep may deregister images and delete snapshots that carry the
`argos:run` tag. If the same policy lets the role put tags on images or
snapshots that already exist, the role can tag any image in the account
(production's `<app>-image`) and then sweep it. So every Allow of
ec2:CreateTags that reaches images or snapshots must be limited to tagging
at creation, with an `ec2:CreateAction` condition.

Usage: check-iam-policy.py POLICY.json...   (exit 1 and a message per path)
"""

import fnmatch
import json
import sys

TAG = "ec2:CreateTags"
DELETES = ("ec2:DeregisterImage", "ec2:DeleteSnapshot")
# Resources that stand for "an image" and "a snapshot" in pattern matches.
TARGETS = ("arn:aws:ec2:us-east-1::image/ami-0", "arn:aws:ec2:us-east-1::snapshot/snap-0")
RUN_TAG_KEYS = ("aws:resourcetag/argos:run", "ec2:resourcetag/argos:run")


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def matches(patterns, value):
    """IAM matching: case-insensitive for actions, `*` and `?` wildcards."""
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in as_list(patterns))


def allows_action(statement, action):
    if "NotAction" in statement:
        return not matches(statement["NotAction"], action)
    return matches(statement.get("Action"), action)


def reaches_images_or_snapshots(statement):
    if "NotResource" in statement:
        return any(not matches(statement["NotResource"], t) for t in TARGETS)
    return any(matches(statement.get("Resource"), t) for t in TARGETS)


def condition_keys(statement):
    """Every condition key of the statement, lower-cased (IAM keys are case-insensitive)."""
    keys = set()
    for operator in (statement.get("Condition") or {}).values():
        keys.update(k.lower() for k in operator)
    return keys


def name(statement, index):
    return statement.get("Sid") or f"statement #{index + 1} (no Sid)"


def problems(policy):
    statements = [
        (i, s) for i, s in enumerate(as_list(policy.get("Statement"))) if s.get("Effect") == "Allow"
    ]
    taggers = [
        name(s, i)
        for i, s in statements
        if allows_action(s, TAG)
        and reaches_images_or_snapshots(s)
        and "ec2:createaction" not in condition_keys(s)
    ]
    deleters = [
        name(s, i)
        for i, s in statements
        if any(allows_action(s, a) for a in DELETES)
        and reaches_images_or_snapshots(s)
        and condition_keys(s) & set(RUN_TAG_KEYS)
    ]
    if not deleters:
        return []
    return [
        f"statement {tagger} allows {TAG} on existing images or snapshots (no ec2:CreateAction "
        f"condition), and {', '.join(deleters)} deletes images or snapshots by their argos:run "
        f"tag: together any image in the account can be tagged and swept. Let {tagger} tag "
        f'only at creation (e.g. "StringEquals": {{"ec2:CreateAction": "CreateImage"}}) or '
        f"keep images and snapshots out of its resources."
        for tagger in taggers
    ]


def main(paths):
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            policy = json.load(f)
        found = problems(policy)
        for problem in found:
            print(f"{path}: {problem}", file=sys.stderr)
        if found:
            failed = True
        else:
            print(f"iam ok: {path}: no tag-then-delete path")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
