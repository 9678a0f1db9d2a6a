"""qaagent's live stream for pytest.

Loaded by qaagent with ``-p _qaagent_stream``: appends one JSON line to the
file named by ``$QAAGENT_STREAM`` when the tests are collected, when each
test starts and when it finishes, naming it as pytest's JUnit report
(xunit1) would. It changes nothing pytest does or prints. Under
pytest-xdist only the controller writes: it sees every worker's reports.
"""

import json
import os

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
    if not _path or hasattr(config, "workerinput"):
        return
    _prefix = getattr(config.option, "junitprefix", None)
    _open()


def pytest_unconfigure(config):
    global _fd
    if _fd is not None and _still_ours():
        os.close(_fd)
    _fd = None


def pytest_collection_finish(session):
    if not hasattr(session.config, "workerinput"):
        _write({"event": "total", "count": len(session.items)})


try:
    import pytest

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(node, ids):
        _write({"event": "total", "count": len(ids)})

except Exception:  # pragma: no cover
    pass


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
    if report.failed:
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
