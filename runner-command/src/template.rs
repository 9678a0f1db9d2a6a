//! Placeholders in a command suite's settings: `{junit}`, `{out}`, `{path}`,
//! `{project}`, `{base_url}` in argv, paths and env values; `{selectors}` in
//! the `rerun` template; `{name}`, `{classname}`, `{suite}`, `{file}` in the
//! `selector` template.
//!
//! Only these names are replaced. Any other brace text is kept as written, so
//! regex quantifiers like `a{2}` or a JSON argument pass through untouched.

use runner_api::junit::JunitCase;

use crate::settings::Escape;

/// The placeholder in `rerun` that stands for the selected tests.
pub const SELECTORS: &str = "{selectors}";

/// The placeholders a `selector` template may use.
pub const SELECTOR_FIELDS: &[&str] = &["{name}", "{classname}", "{suite}", "{file}"];

/// A placeholder was used whose value this attempt does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} uses {{{name}}}, which has no value here: {why}")]
pub struct TemplateError {
    /// The text being expanded.
    pub text: String,
    /// The placeholder's name.
    pub name: String,
    /// Why it has no value, and what to do.
    pub why: String,
}

/// The values of the path placeholders for one attempt.
#[derive(Debug, Clone)]
pub struct Placeholders {
    /// `{junit}`: the report path (absolute).
    pub junit: String,
    /// `{out}`: the attempt's output directory.
    pub out: String,
    /// `{path}`: the suite's path.
    pub path: String,
    /// `{project}`: the directory holding `.qaagent.toml`.
    pub project: String,
    /// `{base_url}`: the application's base URL, when one is configured.
    pub base_url: Option<String>,
}

impl Placeholders {
    /// `text` with every known placeholder replaced.
    pub fn expand(&self, text: &str) -> Result<String, TemplateError> {
        replace_fields(text, |name| match name {
            "junit" => Some(Ok(self.junit.clone())),
            "out" => Some(Ok(self.out.clone())),
            "path" => Some(Ok(self.path.clone())),
            "project" => Some(Ok(self.project.clone())),
            "base_url" => Some(self.base_url.clone().ok_or_else(|| TemplateError {
                text: text.to_string(),
                name: name.to_string(),
                why: "no base_url is configured; add an [app.NAME] table with base_url, or set $BASE_URL".into(),
            })),
            _ => None,
        })
    }
}

/// The selector of one JUnit row, from the `selector` template.
pub fn selector(template: &str, case: &JunitCase) -> String {
    let expanded: Result<String, TemplateError> = replace_fields(template, |name| match name {
        "name" => Some(Ok(case.name().to_string())),
        "classname" => Some(Ok(case.classname().to_string())),
        "suite" => Some(Ok(case.suite_name().unwrap_or_default().to_string())),
        "file" => Some(Ok(case.file().unwrap_or_default().to_string())),
        _ => None,
    });
    // The closure above never fails.
    expanded.unwrap_or_else(|err| err.text)
}

/// The `rerun` template with the selected tests put in: an element that is
/// exactly `{selectors}` becomes one element per selector; an element that
/// holds `{selectors}` among other text gets them joined with `separator`.
/// The path placeholders are expanded too.
pub fn rerun_args(
    template: &[String],
    selectors: &[String],
    separator: &str,
    escape: Escape,
    placeholders: &Placeholders,
) -> Result<Vec<String>, TemplateError> {
    let escaped: Vec<String> = selectors.iter().map(|s| escape_selector(s, escape)).collect();
    let mut args = Vec::with_capacity(template.len() + selectors.len());
    for element in template {
        if element == SELECTORS {
            // Each selector is an argument of its own here, so one that
            // starts like an option (from evidence someone edited) would be
            // taken as one: it is left out.
            args.extend(escaped.iter().filter(|selector| !looks_like_option(selector)).cloned());
        } else if element.contains(SELECTORS) {
            // Expand the rest first, so a selector containing "{out}" stays as it is.
            let parts: Vec<String> = element
                .split(SELECTORS)
                .map(|part| placeholders.expand(part))
                .collect::<Result<_, _>>()?;
            args.push(parts.join(&escaped.join(separator)));
        } else {
            args.push(placeholders.expand(element)?);
        }
    }
    Ok(args)
}

/// True for an argument a tool would read as an option (logged).
fn looks_like_option(arg: &str) -> bool {
    let option = arg.starts_with('-');
    if option {
        log::warn!("not passing the selector {arg:?}: as an argument of its own it would be read as an option");
    }
    option
}

/// `selector` escaped as `escape` says.
pub fn escape_selector(selector: &str, escape: Escape) -> String {
    match escape {
        Escape::None => selector.to_string(),
        Escape::Regex => {
            let mut out = String::with_capacity(selector.len() + 8);
            for ch in selector.chars() {
                // The metacharacters common to JavaScript, RE2/Go, Python and PCRE; escaping
                // anything else would be an error in JavaScript's unicode mode.
                if matches!(
                    ch,
                    '\\' | '^' | '$' | '.' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}'
                ) {
                    out.push('\\');
                }
                out.push(ch);
            }
            out
        }
    }
}

/// Replaces each `{word}` for which `value` answers; leaves the rest as written.
fn replace_fields(
    text: &str,
    mut value: impl FnMut(&str) -> Option<Result<String, TemplateError>>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let replaced = after
            .find('}')
            .map(|close| (&after[..close], close))
            .filter(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .and_then(|(name, close)| value(name).map(|v| (v, close)));
        match replaced {
            Some((expanded, close)) => {
                out.push_str(&expanded?);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use runner_api::TestStatus;

    use super::*;

    fn placeholders() -> Placeholders {
        Placeholders {
            junit: "/out/junit.xml".into(),
            out: "/out".into(),
            path: "/project/tests".into(),
            project: "/project".into(),
            base_url: None,
        }
    }

    fn row(name: &str, classname: &str) -> JunitCase {
        JunitCase::new(name, classname, TestStatus::Failed)
            .with_file("t/a.test.js")
            .with_suite_name("group")
    }

    #[test]
    fn known_placeholders_expand_and_others_stay() {
        let p = placeholders();
        assert_eq!(p.expand("--junit={junit}").expect("ok"), "--junit=/out/junit.xml");
        assert_eq!(p.expand("{out}/target").expect("ok"), "/out/target");
        assert_eq!(p.expand("{path}:{project}").expect("ok"), "/project/tests:/project");
        assert_eq!(p.expand("a{2}b{unknown}{").expect("ok"), "a{2}b{unknown}{");
        assert_eq!(p.expand("{\"k\": \"{out}\"}").expect("ok"), "{\"k\": \"/out\"}");
    }

    #[test]
    fn base_url_without_a_value_is_an_error() {
        let err = placeholders().expand("--url={base_url}").expect_err("no base url");
        assert_eq!(err.name, "base_url");
        assert!(err.to_string().contains("no base_url is configured"), "{err}");
        let mut p = placeholders();
        p.base_url = Some("http://localhost:8000".into());
        assert_eq!(p.expand("--url={base_url}").expect("ok"), "--url=http://localhost:8000");
    }

    #[test]
    fn selector_template_uses_the_row() {
        let case = row("adds (1+1)", "test");
        assert_eq!(selector("{name}", &case), "adds (1+1)");
        assert_eq!(selector("{classname}::{name}", &case), "test::adds (1+1)");
        assert_eq!(
            selector("{file} > {suite} > {name}", &case),
            "t/a.test.js > group > adds (1+1)"
        );
        assert_eq!(
            selector("test(={name})", &row("tests::fails", "crate")),
            "test(=tests::fails)"
        );
    }

    #[test]
    fn whole_selectors_element_becomes_one_argument_each() {
        let selectors = ["a b".to_string(), "c".to_string()];
        let args = rerun_args(
            &["--".into(), SELECTORS.into()],
            &selectors,
            "|",
            Escape::None,
            &placeholders(),
        )
        .expect("ok");
        assert_eq!(args, ["--", "a b", "c"]);
    }

    #[test]
    fn selectors_inside_an_element_are_joined_and_escaped() {
        let selectors = ["fails (on purpose)".to_string(), "x.y".to_string()];
        let template = [
            "--test-name-pattern=^({selectors})$".to_string(),
            "--out={out}".to_string(),
        ];
        let args = rerun_args(&template, &selectors, "|", Escape::Regex, &placeholders()).expect("ok");
        assert_eq!(
            args,
            [r"--test-name-pattern=^(fails \(on purpose\)|x\.y)$", "--out=/out"]
        );
        let args = rerun_args(
            &["-E".into(), SELECTORS.into()],
            &selectors,
            " | ",
            Escape::None,
            &placeholders(),
        )
        .expect("ok");
        assert_eq!(args, ["-E", "fails (on purpose)", "x.y"]);
        let args = rerun_args(
            &["-E{selectors}".into()],
            &selectors,
            " | ",
            Escape::None,
            &placeholders(),
        )
        .expect("ok");
        assert_eq!(args, ["-Efails (on purpose) | x.y"]);
    }

    #[test]
    fn a_selector_that_looks_like_a_placeholder_is_not_expanded() {
        let selectors = ["{out}".to_string()];
        let args = rerun_args(
            &["--only={selectors}".into()],
            &selectors,
            "|",
            Escape::None,
            &placeholders(),
        )
        .expect("ok");
        assert_eq!(args, ["--only={out}"]);
    }

    #[test]
    fn a_selector_that_looks_like_an_option_is_never_its_own_argument() {
        let placeholders = placeholders();
        let template = vec!["--only".to_string(), SELECTORS.to_string()];
        let selectors = vec!["a".to_string(), "--debug=/tmp/x".to_string()];
        let args = rerun_args(&template, &selectors, "|", Escape::None, &placeholders).expect("args");
        assert_eq!(args, ["--only", "a"]);
        let joined = vec!["--filter=({selectors})".to_string()];
        let args = rerun_args(&joined, &selectors, "|", Escape::None, &placeholders).expect("args");
        assert_eq!(
            args,
            ["--filter=(a|--debug=/tmp/x)"],
            "inside a longer argument it is only text"
        );
    }
}
