// qaagent's live stream for Playwright Test.
//
// Added by qaagent to the run's reporters: appends one JSON line to the file
// named by $QAAGENT_STREAM with the number of tests (onBegin), when each test
// starts, and when it ends for good (after Playwright's own retries), naming
// it as the JSON report does (file relative to the config's rootDir, the
// describe titles and the test's title, the project) and carrying its runs in
// the JSON report's shape. It prints nothing.
'use strict';

const fs = require('fs');
const path = require('path');

class QaagentStream {
  constructor() {
    this.fd = null;
    this.rootDir = '';
  }

  onBegin(config, suite) {
    this.rootDir = config.rootDir;
    const file = process.env.QAAGENT_STREAM;
    if (file) {
      try {
        this.fd = fs.openSync(file, 'a');
      } catch (e) {
        this.fd = null;
      }
    }
    // Tests, not runs: `repeatEach` lists a test once per repetition, all
    // under one name, and the engine counts the names it sees run.
    const tests = new Set(suite.allTests().map((test) => JSON.stringify(this.where(test))));
    this.write({ event: 'total', count: tests.size });
  }

  write(entry) {
    if (this.fd === null) return;
    try {
      fs.writeSync(this.fd, JSON.stringify(entry) + '\n');
    } catch (e) {
      this.fd = null;
    }
  }

  where(test) {
    const project = test.parent.project();
    return {
      root_dir: this.rootDir,
      file: path.relative(this.rootDir, test.location.file),
      // ['', project, file, ...describes, title]
      name: test.titlePath().slice(3).join(' \u203a '),
      project: (project && project.name) || '',
    };
  }

  onTestBegin(test) {
    this.write({ event: 'started', ...this.where(test) });
  }

  onTestEnd(test, result) {
    const last = result.status === 'skipped' || result.status === test.expectedStatus || result.retry >= test.retries;
    if (!last) return;
    const where = this.where(test);
    this.write({
      event: 'finished',
      ...where,
      test: {
        projectName: where.project,
        status: test.outcome(),
        expectedStatus: test.expectedStatus,
        annotations: test.annotations,
        results: test.results.map((run) => ({
          status: run.status,
          retry: run.retry,
          duration: run.duration,
          errors: (run.errors || []).map((e) => ({ message: e.message, stack: e.stack, snippet: e.snippet })),
          attachments: (run.attachments || []).filter((a) => a.path).map((a) => ({ path: a.path })),
        })),
      },
    });
  }

  onEnd() {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch (e) {
        // nothing to do
      }
      this.fd = null;
    }
  }

  printsToStdio() {
    return false;
  }
}

module.exports = QaagentStream;
