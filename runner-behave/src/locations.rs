//! Where each scenario lives: behave's JSON report, mapped onto its JUnit rows.
//!
//! behave's JUnit names a scenario (`name`) and its feature
//! (`classname = <file>.<feature name>`, where `<file>` is the feature file's
//! path below the suite path, dotted and without `.feature`), but not its line.
//! A selector must be a `path.feature:LINE` location, so every run also writes
//! the JSON formatter's report, whose scenarios (outline rows included, with
//! the same `Name -- @1.2 ` names) carry their `location`. A JUnit row is
//! matched to the JSON scenario of the same name in the feature whose name and
//! dotted path fit its classname; scenarios of the same name in one feature are
//! matched in order.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use runner_api::TestCase;
use serde::Deserialize;

/// One feature of behave's JSON report, as far as locations go.
#[derive(Debug, Deserialize)]
struct JsonFeature {
    #[serde(default)]
    name: String,
    location: String,
    #[serde(default)]
    elements: Vec<JsonElement>,
}

/// A feature element: a background or a scenario (an outline row is one scenario).
#[derive(Debug, Deserialize)]
struct JsonElement {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: String,
    location: String,
}

/// The JSON report could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReportError {
    /// The file could not be opened.
    #[error("cannot open behave's JSON report: {0}")]
    Io(#[source] std::io::Error),
    /// The file is not the JSON behave writes (or it is truncated).
    #[error("malformed behave JSON report: {0}")]
    Json(#[source] serde_json::Error),
}

/// A scenario's place: its feature file and its `file:LINE` selector, both
/// relative to the project dir when they lie below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScenarioLocation {
    /// `features/cart.feature`.
    pub(crate) file: String,
    /// `features/cart.feature:17`.
    pub(crate) selector: String,
}

#[derive(Debug)]
struct FeatureEntry {
    /// The feature file, relative to the project dir.
    file: String,
    name: String,
    /// The feature file without extension, `/` replaced by `.`: what behave's
    /// JUnit classname ends with (before the feature name).
    dotted: String,
    scenarios: Vec<(String, ScenarioLocation)>,
    used: Vec<bool>,
}

/// Every scenario behave reported in its JSON report, ready to be matched to JUnit rows.
#[derive(Debug, Default)]
pub(crate) struct Locations {
    features: Vec<FeatureEntry>,
}

impl Locations {
    /// Reads behave's JSON report at `path`; locations are made relative to
    /// `project_dir` when behave printed them absolute.
    pub(crate) fn read(path: &Path, project_dir: &Path) -> Result<Locations, ReportError> {
        let file = File::open(path).map_err(ReportError::Io)?;
        let features: Vec<JsonFeature> = serde_json::from_reader(BufReader::new(file)).map_err(ReportError::Json)?;
        Ok(Locations::from_features(features, project_dir))
    }

    fn from_features(features: Vec<JsonFeature>, project_dir: &Path) -> Locations {
        let features = features
            .into_iter()
            .map(|feature| {
                let file = relative_to(strip_line(&feature.location), project_dir);
                let dotted = file
                    .rsplit_once('.')
                    .map_or(file.as_str(), |(stem, _)| stem)
                    .replace(['/', '\\'], ".");
                let scenarios: Vec<(String, ScenarioLocation)> = feature
                    .elements
                    .into_iter()
                    .filter(|element| element.kind == "scenario")
                    .map(|element| {
                        let element_file = relative_to(strip_line(&element.location), project_dir);
                        let line = element.location.rsplit_once(':').map(|(_, line)| line);
                        let selector = match line {
                            Some(line) => format!("{element_file}:{line}"),
                            None => element_file.clone(),
                        };
                        (
                            element.name,
                            ScenarioLocation {
                                file: element_file,
                                selector,
                            },
                        )
                    })
                    .collect();
                FeatureEntry {
                    file,
                    name: feature.name,
                    dotted,
                    used: vec![false; scenarios.len()],
                    scenarios,
                }
            })
            .collect();
        Locations { features }
    }

    /// Pairs of feature files whose JUnit reports have one name: behave
    /// names each `TESTS-<path with . for />.xml`, so `features/x/a.feature`
    /// and `features/x.a.feature` write one file and the second overwrites
    /// the first, whose scenarios are then in no report (and a failure of
    /// one could be re-run as the other, and pass).
    pub(crate) fn overwritten_reports(&self) -> Vec<(&str, &str)> {
        let mut pairs = Vec::new();
        for (i, first) in self.features.iter().enumerate() {
            if let Some(second) =
                (self.features[i + 1..].iter()).find(|other| other.dotted == first.dotted && other.file != first.file)
            {
                pairs.push((first.file.as_str(), second.file.as_str()));
            }
        }
        pairs
    }

    /// Every scenario's selector, in the report's order.
    pub(crate) fn selectors(&self) -> Vec<String> {
        self.features
            .iter()
            .flat_map(|feature| feature.scenarios.iter().map(|(_, location)| location.selector.clone()))
            .collect()
    }

    /// The location of the JUnit row `classname` / `name`, each JSON scenario
    /// handed out once, together with its rank in behave's run order. When
    /// several features fit the classname (`cart.Cart` fits both
    /// `features/cart.feature` and `features/legacy/cart.feature`), the one
    /// whose path fits most closely wins: behave strips the same suite path
    /// from every feature, so a deeper file would have a longer classname.
    pub(crate) fn take(&mut self, classname: &str, name: &str) -> Option<((usize, usize), ScenarioLocation)> {
        let (feature_index, scenario_index) = self
            .features
            .iter()
            .enumerate()
            .filter_map(|(feature_index, feature)| {
                let leftover = classname_leftover(classname, &feature.dotted, &feature.name)?;
                let scenario_index = feature
                    .scenarios
                    .iter()
                    .zip(&feature.used)
                    .position(|((scenario_name, _), used)| !used && scenario_name == name)?;
                Some((leftover, feature_index, scenario_index))
            })
            .min_by_key(|(leftover, _, _)| *leftover)
            .map(|(_, feature_index, scenario_index)| (feature_index, scenario_index))?;
        let feature = &mut self.features[feature_index];
        feature.used[scenario_index] = true;
        Some((
            (feature_index, scenario_index),
            feature.scenarios[scenario_index].1.clone(),
        ))
    }
}

/// Sets each case's `selector` and `file` from `locations` and puts the cases
/// in behave's run order (JUnit files come one per feature, in no useful
/// order). Cases without a location keep their place at the end, unselectable.
pub(crate) fn assign(cases: Vec<TestCase>, locations: &mut Locations) -> Vec<TestCase> {
    let mut ranked: Vec<((usize, usize), TestCase)> = cases
        .into_iter()
        .map(|mut case| match locations.take(&case.classname, &case.name) {
            Some((rank, location)) => {
                case.file = Some(location.file);
                case.selector = Some(location.selector);
                (rank, case)
            }
            None => {
                log::warn!(
                    "behave's JSON report has no location for `{}` in `{}`; it cannot be re-run on its own",
                    case.name,
                    case.classname
                );
                ((usize::MAX, usize::MAX), case)
            }
        })
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, case)| case).collect()
}

/// How many characters of `dotted` precede the part of it that behave put in
/// `classname`, or `None` when `classname` is not this feature's.
///
/// behave writes `classname = X + "." + feature name`, with the feature name
/// replaced by `X` when empty, where `X` is a dotted suffix of the feature
/// file's path.
fn classname_leftover(classname: &str, dotted: &str, feature_name: &str) -> Option<usize> {
    let file_part = if feature_name.is_empty() {
        let half = classname.len().checked_sub(1)? / 2;
        let (first, rest) = (classname.get(..half)?, classname.get(half..)?);
        (rest.strip_prefix('.')? == first).then_some(first)?
    } else {
        classname.strip_suffix(feature_name)?.strip_suffix('.')?
    };
    if dotted == file_part {
        Some(0)
    } else if dotted.strip_suffix(file_part)?.ends_with('.') {
        Some(dotted.len() - file_part.len())
    } else {
        None
    }
}

/// `features/cart.feature:12` → `features/cart.feature`.
fn strip_line(location: &str) -> &str {
    match location.rsplit_once(':') {
        Some((path, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => path,
        _ => location,
    }
}

/// `path` relative to `project_dir` when it is an absolute path below it, else as is.
pub(crate) fn relative_to(path: &str, project_dir: &Path) -> String {
    let as_path = PathBuf::from(path);
    match as_path.strip_prefix(project_dir) {
        Ok(relative) if as_path.is_absolute() => relative.to_string_lossy().into_owned(),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_api::TestStatus;

    fn report() -> Vec<JsonFeature> {
        serde_json::from_str(
            r#"[
              {"keyword": "Feature", "name": "Cart pricing", "location": "features/cart.feature:1", "elements": [
                {"type": "background", "name": "", "location": "features/cart.feature:3"},
                {"type": "scenario", "name": "Single item", "location": "features/cart.feature:6"},
                {"type": "scenario", "name": "Bulk pricing -- @1.1 ", "location": "features/cart.feature:16"},
                {"type": "scenario", "name": "Bulk pricing -- @1.2 ", "location": "features/cart.feature:17"},
                {"type": "scenario", "name": "Twice", "location": "features/cart.feature:20"},
                {"type": "scenario", "name": "Twice", "location": "features/cart.feature:24"}
              ]},
              {"keyword": "Feature", "name": "Cart pricing", "location": "/proj/features/legacy/cart.feature:1", "elements": [
                {"type": "scenario", "name": "Single item", "location": "/proj/features/legacy/cart.feature:5"}
              ]},
              {"keyword": "Feature", "name": "", "location": "features/nameless.feature:1", "elements": [
                {"type": "scenario", "name": "Anonymous", "location": "features/nameless.feature:2"}
              ]}
            ]"#,
        )
        .expect("valid report")
    }

    fn selector(locations: &mut Locations, classname: &str, name: &str) -> Option<String> {
        locations.take(classname, name).map(|(_, location)| location.selector)
    }

    #[test]
    fn rows_map_to_their_own_file_and_line() {
        let mut locations = Locations::from_features(report(), Path::new("/proj"));
        assert_eq!(
            selector(&mut locations, "legacy.cart.Cart pricing", "Single item").as_deref(),
            Some("features/legacy/cart.feature:5")
        );
        assert_eq!(
            selector(&mut locations, "cart.Cart pricing", "Single item").as_deref(),
            Some("features/cart.feature:6")
        );
        assert_eq!(
            selector(&mut locations, "cart.Cart pricing", "Bulk pricing -- @1.2 ").as_deref(),
            Some("features/cart.feature:17")
        );
        assert_eq!(
            selector(&mut locations, "cart.Cart pricing", "Bulk pricing -- @1.2").as_deref(),
            None,
            "the trailing space is part of the name"
        );
        assert_eq!(
            selector(&mut locations, "nameless.nameless", "Anonymous").as_deref(),
            Some("features/nameless.feature:2")
        );
    }

    #[test]
    fn same_names_are_matched_in_order_and_once() {
        let mut locations = Locations::from_features(report(), Path::new("/proj"));
        assert_eq!(
            selector(&mut locations, "cart.Cart pricing", "Twice").as_deref(),
            Some("features/cart.feature:20")
        );
        assert_eq!(
            selector(&mut locations, "cart.Cart pricing", "Twice").as_deref(),
            Some("features/cart.feature:24")
        );
        assert_eq!(selector(&mut locations, "cart.Cart pricing", "Twice"), None);
    }

    #[test]
    fn the_suite_path_may_be_the_project_dir() {
        let mut locations = Locations::from_features(report(), Path::new("/proj"));
        assert_eq!(
            selector(&mut locations, "features.cart.Cart pricing", "Single item").as_deref(),
            Some("features/cart.feature:6")
        );
        assert_eq!(
            selector(&mut locations, "other.cart.Cart pricing", "Bulk pricing -- @1.1 "),
            None
        );
    }

    #[test]
    fn assign_orders_cases_as_behave_ran_them() {
        let mut locations = Locations::from_features(report(), Path::new("/proj"));
        let cases = vec![
            TestCase::new("Single item", "legacy.cart.Cart pricing", TestStatus::Passed),
            TestCase::new("Unknown", "cart.Cart pricing", TestStatus::Passed),
            TestCase::new("Bulk pricing -- @1.1 ", "cart.Cart pricing", TestStatus::Failed),
            TestCase::new("Single item", "cart.Cart pricing", TestStatus::Passed),
        ];
        let cases = assign(cases, &mut locations);
        let selectors: Vec<Option<&str>> = cases.iter().map(|case| case.selector.as_deref()).collect();
        assert_eq!(
            selectors,
            [
                Some("features/cart.feature:6"),
                Some("features/cart.feature:16"),
                Some("features/legacy/cart.feature:5"),
                None
            ]
        );
        assert_eq!(cases[0].file.as_deref(), Some("features/cart.feature"));
    }

    #[test]
    fn locations_without_a_line_are_kept_whole() {
        assert_eq!(strip_line("features/a.feature:12"), "features/a.feature");
        assert_eq!(strip_line("C:features/a.feature"), "C:features/a.feature");
    }
}
