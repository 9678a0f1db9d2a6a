//! qaagent's reporters beside the config's own.
//!
//! qaagent needs Playwright's JUnit and JSON reports in the attempt's output
//! directory. From Playwright 1.63 on, `--add-reporter=junit,json` adds
//! them to the reporters `playwright.config` names, and environment
//! variables (which win over the config's options) send every report that
//! would land in the project into the attempt's output directory instead:
//! the HTML report to `playwright-report/` (never opened: a report server
//! would hold the run), the blob report to `blob-report/`, a JUnit or JSON
//! reporter of the config to qaagent's own files (qaagent's, added last,
//! write last). A custom reporter writes where it is told to, as it would
//! without qaagent.
//!
//! Before 1.63 the only way in is `--reporter=line,junit,json`, which
//! replaces the config's reporters. Knowing them exactly takes loading the
//! config in Node.js, a second start of Playwright on every run; qaagent
//! reads the config file's text instead ([`configured`]) and names what it
//! finds in a warning that says how to keep them (upgrade).

use std::path::{Path, PathBuf};
use std::process::Command;

use runner_api::SuiteContext;

use crate::version::Version;

/// The names Playwright looks for in its working directory, in its order.
const CONFIG_FILES: &[&str] = &[
    "playwright.config.ts",
    "playwright.config.js",
    "playwright.config.mts",
    "playwright.config.mjs",
    "playwright.config.cts",
    "playwright.config.cjs",
];

/// Adds qaagent's reporters to `cmd` for Playwright `version` (`None`:
/// unknown, taken as the newest), with every report's output in
/// `output_dir`, and the live stream's reporter at `stream` when given.
/// Before 1.63, warns about the config's reporters that `--reporter` drops.
pub(crate) fn add(cmd: &mut Command, ctx: &SuiteContext, version: Option<Version>, stream: Option<&Path>) {
    // Playwright splits the list on commas: a path holding one cannot be in it.
    let stream = match stream.map(|path| path.to_string_lossy()) {
        Some(path) if !path.contains(',') => format!(",{path}"),
        Some(path) => {
            log::warn!(
                "[{}] no live stream: its reporter's path {path} holds a comma",
                ctx.suite
            );
            String::new()
        }
        None => String::new(),
    };
    // Once a suite, not once an attempt.
    let first = ctx.attempt == 1 && ctx.previous_output_dir.is_none();
    if version.is_none_or(Version::has_add_reporter) {
        if first {
            warn_of_taken_reporters(ctx);
        }
        cmd.arg(format!("--add-reporter=junit,json{stream}"))
            .env("PLAYWRIGHT_HTML_OUTPUT_DIR", ctx.output_dir.join("playwright-report"))
            .env("PLAYWRIGHT_HTML_OPEN", "never")
            .env(
                "PLAYWRIGHT_BLOB_OUTPUT_FILE",
                ctx.output_dir.join("blob-report/report.zip"),
            );
        return;
    }
    cmd.arg(format!("--reporter=line,junit,json{stream}"));
    if let Some((file, names)) = configured(ctx).filter(|_| first) {
        let what = if names.is_empty() {
            "the reporters of its `reporter` setting".to_string()
        } else {
            format!("its reporter(s) {}", names.join(", "))
        };
        let version = version.map(|v| v.to_string()).unwrap_or_default();
        log::warn!(
            "[{}] {} names reporters, and Playwright {version} has no --add-reporter: qaagent's \
             --reporter=line,junit,json replaces {what} in this run; Playwright 1.63 or newer keeps them",
            ctx.suite,
            file.display()
        );
    }
}

/// Warns when the config names Playwright's own `junit` or `json` reporter:
/// the output-file variables qaagent sets win over its `outputFile`, so it
/// writes qaagent's report in the suite's artifacts (`junit.xml`,
/// `report.json`), and the file the config names is not written.
fn warn_of_taken_reporters(ctx: &SuiteContext) {
    let Some((file, names)) = configured(ctx) else {
        return;
    };
    let taken: Vec<&str> = ["junit", "json"]
        .into_iter()
        .filter(|name| names.iter().any(|named| named == name))
        .collect();
    if !taken.is_empty() {
        log::warn!(
            "[{}] {} names Playwright's {} reporter: in a qaagent run it writes qaagent's report \
             (junit.xml, report.json in the suite's artifacts), not the config's outputFile",
            ctx.suite,
            file.display(),
            taken.join(" and ")
        );
    }
}

/// The config file the suite's Playwright reads and the reporters its
/// `reporter` setting names, when it has one: built-in names and module
/// paths written as string literals, possibly none (`reporter: myReporters`).
/// Read from the file's text, so a reporter computed at run time is not seen.
pub(crate) fn configured(ctx: &SuiteContext) -> Option<(PathBuf, Vec<String>)> {
    let file = config_file(&ctx.path, &ctx.args)?;
    let text = std::fs::read_to_string(&file)
        .map_err(|err| log::debug!("cannot read {}: {err}", file.display()))
        .ok()?;
    let names = reporter_names(&text)?;
    Some((file, names))
}

/// The config Playwright reads in `dir` given `args` (`-c`/`--config`).
fn config_file(dir: &Path, args: &[String]) -> Option<PathBuf> {
    let given = args.iter().enumerate().find_map(|(i, arg)| {
        if let Some(value) = arg.strip_prefix("--config=") {
            Some(value.to_string())
        } else if arg == "-c" || arg == "--config" {
            args.get(i + 1).cloned()
        } else {
            None
        }
    });
    let base = given.map_or_else(|| dir.to_path_buf(), |given| dir.join(given));
    if base.is_file() {
        return Some(base);
    }
    CONFIG_FILES
        .iter()
        .map(|name| base.join(name))
        .find(|path| path.is_file())
}

/// The reporter names in the `reporter` property of a config's source;
/// `None` when it has no such property.
fn reporter_names(source: &str) -> Option<Vec<String>> {
    let code = without_comments(source);
    let chars: Vec<char> = code.chars().collect();
    let start = reporter_value_start(&chars)?;
    let mut names: Vec<String> = Vec::new();
    let mut depth = 0_usize;
    // What came before the current token, whitespace left out; the
    // property's `:` to begin with.
    let mut previous = ':';
    let mut i = start;
    while let Some(&ch) = chars.get(i) {
        match ch {
            '\'' | '"' | '`' => {
                let end = string_end(&chars, i);
                let literal: String = chars[i + 1..end.min(chars.len())].iter().collect();
                // A reporter's name opens a tuple or is a whole value (of
                // the property, or of a ternary's branch); an option's
                // value follows a `:` inside an object.
                let names_reporter = previous == '[' || previous == '?' || (previous == ':' && depth == 0);
                if names_reporter && !literal.is_empty() && !names.contains(&literal) {
                    names.push(literal);
                }
                previous = '"';
                i = end + 1;
                continue;
            }
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' if depth == 0 => break,
            ']' | '}' | ')' => depth -= 1,
            ',' | ';' if depth == 0 => break,
            _ => {}
        }
        if !ch.is_whitespace() {
            previous = ch;
        }
        i += 1;
    }
    Some(names)
}

/// Where the value of the first `reporter:` property begins.
fn reporter_value_start(chars: &[char]) -> Option<usize> {
    const KEY: &str = "reporter";
    let key: Vec<char> = KEY.chars().collect();
    let mut i = 0;
    while i + key.len() <= chars.len() {
        if chars[i] == '\'' || chars[i] == '"' || chars[i] == '`' {
            // A quoted key is a property only when a `:` follows.
            let end = string_end(chars, i);
            if chars[i + 1..end.min(chars.len())] == key[..] {
                if let Some(colon) = colon_after(chars, end + 1) {
                    return Some(colon + 1);
                }
            }
            i = end + 1;
            continue;
        }
        let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
        let bounded = i == 0 || !(ident(chars[i - 1]) || chars[i - 1] == '.');
        if bounded && chars[i..i + key.len()] == key[..] && !chars.get(i + key.len()).is_some_and(|&c| ident(c)) {
            if let Some(colon) = colon_after(chars, i + key.len()) {
                return Some(colon + 1);
            }
        }
        i += 1;
    }
    None
}

/// The index of a `:` at `from`, after whitespace.
fn colon_after(chars: &[char], from: usize) -> Option<usize> {
    let at = from + chars.get(from..)?.iter().take_while(|c| c.is_whitespace()).count();
    (chars.get(at) == Some(&':')).then_some(at)
}

/// The index of the quote closing the string opened at `open`.
fn string_end(chars: &[char], open: usize) -> usize {
    let quote = chars[open];
    let mut i = open + 1;
    while let Some(&ch) = chars.get(i) {
        if ch == '\\' {
            i += 2;
            continue;
        }
        if ch == quote {
            return i;
        }
        i += 1;
    }
    chars.len()
}

/// `source` with `//` and `/* */` comments blanked (strings kept whole).
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while let Some(&ch) = chars.get(i) {
        match (ch, chars.get(i + 1)) {
            ('\'' | '"' | '`', _) => {
                let end = string_end(&chars, i).min(chars.len() - 1);
                out.extend(&chars[i..=end]);
                i = end + 1;
            }
            ('/', Some('/')) => {
                while chars.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
                out.push(' ');
            }
            _ => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(source: &str) -> Option<Vec<String>> {
        reporter_names(source)
    }

    #[test]
    fn reads_a_single_reporter_and_tuples_without_their_options() {
        assert_eq!(names("export default { reporter: 'html' }"), Some(vec!["html".into()]));
        assert_eq!(
            names(
                "defineConfig({\n  testDir: './tests',\n  reporter: [['html', { open: 'never', outputFolder: 'out/x' }], \
                 ['blob'], ['junit', { outputFile: 'a-reporter.xml' }]],\n  use: { trace: 'on' },\n})"
            ),
            Some(vec!["html".into(), "blob".into(), "junit".into()])
        );
    }

    #[test]
    fn reads_ternaries_and_module_paths() {
        assert_eq!(
            names("{ reporter: process.env.CI ? [['dot'], ['./my-reporter.ts']] : 'list', workers: 2 }"),
            Some(vec!["dot".into(), "./my-reporter.ts".into(), "list".into()])
        );
        assert_eq!(names("{ \"reporter\": \"line\" }"), Some(vec!["line".into()]));
    }

    #[test]
    fn comments_and_other_properties_are_not_reporters() {
        assert_eq!(
            names("// reporter: 'html'\n/* reporter: 'blob' */ { use: { reporter: 1 } }"),
            Some(vec![])
        );
        assert_eq!(names("{ testDir: 'reporter' }"), None);
        assert_eq!(names("{ use: { baseURL: 'x' } }"), None);
        assert_eq!(
            names("const reporters = ['html']; export default { reporter: reporters }"),
            Some(vec![])
        );
    }

    #[test]
    fn finds_the_config_file_playwright_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(config_file(dir.path(), &[]), None);
        std::fs::write(dir.path().join("playwright.config.js"), "").expect("write");
        std::fs::write(dir.path().join("other.config.ts"), "").expect("write");
        assert_eq!(
            config_file(dir.path(), &[]),
            Some(dir.path().join("playwright.config.js"))
        );
        for args in [
            vec!["-c".to_string(), "other.config.ts".to_string()],
            vec!["--config=other.config.ts".to_string()],
        ] {
            assert_eq!(config_file(dir.path(), &args), Some(dir.path().join("other.config.ts")));
        }
    }
}
