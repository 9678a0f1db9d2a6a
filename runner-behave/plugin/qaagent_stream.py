"""qaagent's live stream for behave.

Loaded by qaagent with ``-f _qaagent_stream:Formatter -o FILE``: writes one
JSON line to FILE when each scenario (each Scenario Outline row) starts and
when it ends, naming it as behave's JUnit report does (classname
``<dotted feature file>.<feature name>``, name ``scenario.name``) with its
location. A formatter hears of a scenario's end only when the next one
starts or the feature ends, which is when the end is written.
"""

import json

from behave.formatter.base import Formatter as _Formatter
from behave.reporter.junit import JUnitReporter

_ERRORS = ("error", "hook_error", "cleanup_error", "undefined", "pending")
_FAILURES = ("failed",)
_SKIPS = ("skipped", "untested", "untested_pending", "untested_undefined")


class Formatter(_Formatter):
    name = "qaagent_stream"
    description = "qaagent's live stream: one JSON line per scenario start and end"

    def __init__(self, stream_opener, config):
        super(Formatter, self).__init__(stream_opener, config)
        self.stream = self.open()
        self._feature = None
        self._scenario = None

    def feature(self, feature):
        self._finish()
        self._feature = feature

    def scenario(self, scenario):
        self._finish()
        self._scenario = scenario
        self._write("started", scenario)

    def eof(self):
        self._finish()

    def close(self):
        self._finish()
        self.close_stream()

    def _classname(self):
        feature = self._feature
        if feature is None:
            return ""
        # behave's own JUnit reporter's naming, which only reads `config`.
        filename = JUnitReporter.make_feature_filename(self, feature)
        return u"%s.%s" % (filename, feature.name or filename)

    def _write(self, event, scenario, **extra):
        entry = {
            "event": event,
            "file": str(scenario.location.filename),
            "line": scenario.location.line,
            "classname": self._classname(),
            "name": scenario.name or "",
        }
        entry.update(extra)
        self.stream.write(json.dumps(entry) + "\n")
        self.stream.flush()

    def _finish(self):
        scenario, self._scenario = self._scenario, None
        if scenario is None:
            return
        status = getattr(scenario.status, "name", str(scenario.status))
        message = None
        if status in _ERRORS or status in _FAILURES:
            outcome = "error" if status in _ERRORS else "failed"
            for step in scenario.all_steps:
                step_status = getattr(step.status, "name", str(step.status))
                if step_status in _ERRORS or step_status in _FAILURES:
                    text = step.error_message or u"%s %s: %s %s" % ("step", step_status, step.keyword, step.name)
                    message = text.strip().splitlines()[0] if text.strip() else None
                    break
        elif status in _SKIPS:
            outcome = "skipped"
        else:
            outcome = "passed"
        self._write("finished", scenario, status=outcome, duration=scenario.duration, message=message)
