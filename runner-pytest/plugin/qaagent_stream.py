"""qaagent's live stream for pytest.

Loaded by qaagent with ``-p _qaagent_stream``: appends one JSON line to the
file named by ``$QAAGENT_STREAM`` when the tests are collected, when each
test starts and when it finishes, naming it as pytest's JUnit report
(xunit1) would. Otherwise it changes nothing pytest does or prints. Under
pytest-xdist only the controller writes: it sees every worker's reports.

With ``$QAAGENT_SHARE`` set to ``K/N`` (a split suite's share, see
``pytest_collection_modifyitems``) it keeps only share K of the collected
tests, and names them in the stream (``kept`` lines, then ``kept-end``)
before any runs.
"""

import hashlib
import json
import math
import os

import pytest

try:
    from _pytest.junitxml import mangle_test_address
except ImportError:  # pragma: no cover - pytest before 7 is not supported

    def mangle_test_address(address):
        return address.split("::")


_fd = None
# The stream file's (device, inode): a test that closes the plugin's
# descriptor and opens a file of its own may get the same number.
_ident = None
_path = None
_prefix = None
_tests = {}
# How many tests this share collected before keeping its own, and a digest
# of their node ids; None when the suite is not split this way.
_collected = None
_digest = None
# Whether the kept tests were named in the stream (xdist: by the first worker).
_kept_said = False


def _still_ours():
    try:
        stat = os.fstat(_fd)
    except OSError:
        return False
    return (stat.st_dev, stat.st_ino) == _ident


def _open():
    global _fd, _ident
    try:
        _fd = os.open(_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        stat = os.fstat(_fd)
        _ident = (stat.st_dev, stat.st_ino)
    except OSError:
        _fd = None


def _write(entry):
    global _fd
    if _fd is None:
        return
    if not _still_ours():
        # The test closed it (the number may be a file of its own now): the
        # stream goes on in a descriptor of its own, the test's left alone.
        _open()
        if _fd is None:
            return
    line = (json.dumps(entry) + "\n").encode("utf-8", "replace")
    try:
        os.write(_fd, line)
    except OSError:
        _fd = None


def _row(nodeid, location):
    names = mangle_test_address(nodeid)
    classnames = names[:-1]
    if _prefix:
        classnames.insert(0, _prefix)
    return {"file": location[0] if location else None, "classname": ".".join(classnames), "name": names[-1]}


def pytest_configure(config):
    global _path, _prefix
    _path = os.environ.get("QAAGENT_STREAM")
    if not _path:
        return
    if getattr(config.option, "setuponly", False) or getattr(config.option, "setupplan", False):
        # pytest would report every test passed without running one.
        raise pytest.UsageError("qaagent runs the tests: --setup-only and --setup-plan run none of them")
    if getattr(config.option, "trace", False):
        # pdb reads end-of-file from qaagent's stdin and quits: the test
        # body never runs, and pytest reports it passed.
        raise pytest.UsageError("qaagent runs the tests unattended: --trace stops each one in the debugger, "
                                "which has no one to answer it and skips the test")
    if hasattr(config, "workerinput"):
        return
    _prefix = getattr(config.option, "junitprefix", None)
    _open()
    # qaagent need not start a Python of its own to ask.
    _write({"event": "version", "version": pytest.__version__})


def pytest_unconfigure(config):
    global _fd
    if _fd is not None and _still_ours():
        os.close(_fd)
    _fd = None


def _share():
    """(K, N) from ``$QAAGENT_SHARE``, or None; anything else is a usage error."""
    spec = os.environ.get("QAAGENT_SHARE")
    if not spec:
        return None
    number, _, total = spec.partition("/")
    try:
        number, total = int(number), int(total)
    except ValueError:
        number = total = 0
    if not 1 <= number <= total:
        raise pytest.UsageError("QAAGENT_SHARE must be K/N with 1 <= K <= N, not %r" % spec)
    return number, total


def _stored_durations():
    """selector -> seconds from ``$QAAGENT_SHARE_DURATIONS``; {} without one."""
    path = os.environ.get("QAAGENT_SHARE_DURATIONS")
    if not path:
        return {}
    with open(path, encoding="utf-8") as file:
        stored = json.load(file)
    return {
        key: float(value)
        for key, value in stored.items()
        if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
    }


def _median(values):
    values = sorted(values)
    if not values:
        return 1.0
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _assign(items, total, durations):
    """The share (0-based) of each item: longest first onto the least loaded
    share, ties to the lowest; a test without a stored duration weighs the
    median of the stored ones (1 without any). The answer depends on the
    node ids and durations only, never on the order of collection, so every
    share (and every xdist worker of one) computes the same."""
    default = _median(durations.values())
    weights = [durations.get(item.nodeid, default) for item in items]
    order = sorted(range(len(items)), key=lambda i: (-weights[i], items[i].nodeid))
    loads = [0.0] * total
    # Tests stored at 0.0 s load nothing: equal loads go to the share with
    # fewest tests, so that they spread rather than all land on the first.
    counts = [0] * total
    shares = [0] * len(items)
    for index in order:
        share = min(range(total), key=lambda s: (loads[s], counts[s], s))
        loads[share] += weights[index]
        counts[share] += 1
        shares[index] = share
    return shares


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Keeps this share's tests, as pytest-split does: every share
    collects the whole suite and keeps its own part of it, so the
    shares' union is the suite, each test once, as long as every share
    collects the same tests (the same code, the same environment but
    for ``$QAAGENT_SHARE``): qaagent checks the counts they report."""
    global _collected, _digest
    share = _share()
    if share is None:
        return
    number, total = share
    shares = _assign(items, total, _stored_durations())
    kept = [item for item, s in zip(items, shares) if s == number - 1]
    deselected = [item for item, s in zip(items, shares) if s != number - 1]
    # Equal counts are not the same tests (ids drawn at random, a file
    # skipped in one process): qaagent compares the shares' digests.
    _collected = len(items)
    _digest = _digest_of(items)
    if hasattr(config, "workerinput"):
        _say_collected()
    items[:] = kept
    if deselected:
        config.hook.pytest_deselected(items=deselected)


def _digest_of(items):
    """A digest of the collected node ids, whatever their order."""
    digest = hashlib.sha256()
    for nodeid in sorted(item.nodeid for item in items):
        digest.update(nodeid.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def _say_collected():
    """An xdist worker's word on what it collected: the controller, which
    writes everything else, collects nothing itself. Every worker says it;
    they must agree."""
    path = os.environ.get("QAAGENT_STREAM")
    if not path:
        return
    line = json.dumps({"event": "collected", "count": _collected, "digest": _digest}) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.write(fd, line.encode("utf-8"))
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    if _share() is not None and not _kept_said:
        # The controller collects nothing itself: the first worker's
        # list is the share's (xdist checks that the workers agree); what
        # they collected in all, each worker says (`_say_collected`).
        _say_kept([(nodeid, (nodeid.split("::")[0],)) for nodeid in ids], None, None)
    _write({"event": "total", "count": len(ids)})


def _say_kept(tests, collected, digest):
    """Names the kept tests, (nodeid, location) each, before any runs."""
    global _kept_said
    _kept_said = True
    for nodeid, location in tests:
        entry = {"event": "kept"}
        entry.update(_row(nodeid, location))
        _write(entry)
    _write({"event": "kept-end", "collected": collected, "digest": digest, "kept": len(tests)})


def pytest_collection_finish(session):
    if hasattr(session.config, "workerinput"):
        return
    if _collected is not None:
        # What is left after every plugin's selection, ours included.
        _say_kept([(item.nodeid, item.location) for item in session.items], _collected, _digest)
    _write({"event": "total", "count": len(session.items)})


def pytest_runtest_logstart(nodeid, location):
    _tests[nodeid] = {"status": "passed", "duration": 0.0, "message": None, "location": location}
    entry = {"event": "started"}
    entry.update(_row(nodeid, location))
    _write(entry)


def _message(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    return str(longrepr)[:1000] if longrepr else None


def pytest_runtest_logreport(report):
    test = _tests.setdefault(
        report.nodeid, {"status": "passed", "duration": 0.0, "message": None, "location": report.location}
    )
    test["duration"] += getattr(report, "duration", 0.0) or 0.0
    # As pytest's JUnit report sees it: a setup or teardown failure is an
    # error, unless the call already failed; a skip (xfail too) is a skip.
    # pytest-rerunfailures reports a failed run it will run again as "rerun".
    if report.failed or report.outcome == "rerun":
        status = "failed" if report.when == "call" else "error"
        if test["status"] not in ("failed", "error"):
            test["status"], test["message"] = status, _message(report)
    elif report.skipped and test["status"] == "passed":
        test["status"], test["message"] = "skipped", _message(report)


def pytest_runtest_logfinish(nodeid, location):
    test = _tests.pop(nodeid, None)
    if test is None:
        return
    entry = {"event": "finished"}
    entry.update(_row(nodeid, test["location"] or location))
    entry.update(status=test["status"], duration=test["duration"], message=test["message"])
    _write(entry)
