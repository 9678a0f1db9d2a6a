#!/usr/bin/env python3
"""checktool: a made-up "project checks" tool for the custom-runner example.

It reads *.checks files, each line one named check about the project's files:

    readme-mentions-install: README.md contains Install
    license-exists: LICENSE exists
    docs-later: skip not written yet
    # comments and blank lines are ignored

and writes a JUnit XML report (one <testsuite> per checks file).

    checktool.py --junit OUT.xml [--only NAME]... FILE_OR_DIR...
    checktool.py --version

Paths in checks are relative to the working directory. Exit code: 0 when all
checks passed, 1 when one failed, 2 on a usage error or unreadable checks file.
CHECKTOOL_DELAY (seconds) makes every check sleep first, to show timeouts.
"""

import argparse
import os
import sys
import time
import xml.etree.ElementTree as ET

VERSION = "checktool 0.3.1"


def parse_checks(path):
    checks = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, rule = line.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"{path}:{number}: expected 'NAME: RULE', got {line!r}")
            checks.append((name.strip(), rule.strip(), number))
    return checks


def run_check(rule):
    """Returns (status, message): status is passed, failed or skipped."""
    delay = float(os.environ.get("CHECKTOOL_DELAY", "0") or 0)
    if delay:
        time.sleep(delay)
    words = rule.split(" ", 2)
    if words[0] == "skip":
        return "skipped", rule[len("skip"):].strip() or "skipped"
    if len(words) == 2 and words[1] == "exists":
        return ("passed", None) if os.path.exists(words[0]) else ("failed", f"{words[0]} does not exist")
    if len(words) == 3 and words[1] == "contains":
        try:
            with open(words[0], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as err:
            return "failed", f"cannot read {words[0]}: {err.strerror}"
        if words[2] in text:
            return "passed", None
        return "failed", f"{words[0]} does not contain {words[2]!r}"
    return "failed", f"unknown rule {rule!r}"


def checks_files(paths):
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith(".checks"):
                    yield os.path.join(path, name)
        else:
            yield path


def main():
    parser = argparse.ArgumentParser(prog="checktool")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--junit")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    if args.version:
        print(VERSION)
        return 0
    if not args.junit or not args.paths:
        parser.error("--junit and at least one checks file or directory are required")

    root = ET.Element("testsuites", name="checktool")
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for path in checks_files(args.paths):
        try:
            checks = parse_checks(path)
        except (OSError, ValueError) as err:
            print(f"checktool: {err}", file=sys.stderr)
            return 2
        suite = ET.SubElement(root, "testsuite", name=os.path.basename(path))
        for name, rule, line in checks:
            if args.only and name not in args.only:
                continue
            started = time.monotonic()
            status, message = run_check(rule)
            case = ET.SubElement(
                suite, "testcase", name=name, classname=os.path.basename(path), file=path, line=str(line)
            )
            case.set("time", f"{time.monotonic() - started:.3f}")
            if status == "failed":
                ET.SubElement(case, "failure", message=message, type="CheckFailed").text = f"{rule}\n{message}"
            elif status == "skipped":
                ET.SubElement(case, "skipped", message=message)
            totals[status] += 1
            print(f"{status.upper():7} {name}" + (f": {message}" if message else ""))
    ET.ElementTree(root).write(args.junit, encoding="utf-8", xml_declaration=True)
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
