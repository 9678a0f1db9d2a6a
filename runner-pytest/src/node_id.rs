//! Rebuilding pytest node ids from xunit1 JUnit rows.

/// The node id of a test from its xunit1 JUnit attributes: `file`
/// (`tests/api/test_orders.py`), `classname` (`tests.api.test_orders.TestOrders`)
/// and `name` (`test_get[a b]`) give `tests/api/test_orders.py::TestOrders::test_get[a b]`.
///
/// The class segments are what `classname` holds beyond the module path; a
/// module-level test has none. Non-ASCII parametrize ids stay in the escaped
/// form pytest writes (`[\xfcn\xefcode]`), which is also how pytest selects them.
pub fn node_id(file: &str, classname: &str, name: &str) -> String {
    let (file, classes) = match class_path(file, classname) {
        Some(classes) => (std::borrow::Cow::Borrowed(file), Some(classes)),
        None if !is_module_of(file, classname) && file.ends_with(".py") && is_dotted_path(classname) => {
            let (module, classes) = defined_elsewhere(classname);
            (std::borrow::Cow::Owned(module), classes)
        }
        None => (std::borrow::Cow::Borrowed(file), None),
    };
    let mut id = String::with_capacity(file.len() + classes.map_or(0, |c| c.len() + 4) + name.len() + 2);
    id.push_str(&file);
    if let Some(classes) = classes {
        for class in classes.split('.') {
            id.push_str("::");
            id.push_str(class);
        }
    }
    id.push_str("::");
    id.push_str(name);
    id
}

/// Whether `classname` is exactly the module path of `file` (a module-level test).
fn is_module_of(file: &str, classname: &str) -> bool {
    let module = file.strip_suffix(".py").unwrap_or(file).as_bytes();
    let dotted = classname.as_bytes();
    module.len() == dotted.len()
        && (module.iter().zip(dotted)).all(|(&m, &c)| if matches!(m, b'/' | b'\\') { c == b'.' } else { m == c })
}

/// Whether `classname` is names joined by dots, as pytest writes a test
/// module's path and classes (anything else keeps `file`'s plain id).
fn is_dotted_path(classname: &str) -> bool {
    classname
        .split('.')
        .all(|segment| !segment.is_empty() && !segment.contains(['/', '\\']))
}

/// The test module and classes of a test whose function is defined in
/// another file than the module that collects it (a test inherited from a
/// base class in a helper module, a test function imported into a module):
/// pytest's `file` names where the function is, `classname` where it is
/// collected. The classes are the segments from the first that starts with
/// a capital letter on (pytest collects classes named `Test*`), the module
/// the segments before them: `tests.test_child.TestChild` gives
/// `tests/test_child.py` and `TestChild`. A wrong guess names a test pytest
/// does not find when asked to run it again: an error, never another test.
fn defined_elsewhere(classname: &str) -> (String, Option<&str>) {
    let mut start = 0;
    let mut class_start = None;
    for (index, segment) in classname.split('.').enumerate() {
        if index > 0 && segment.starts_with(|c: char| c.is_ascii_uppercase()) {
            class_start = Some(start);
            break;
        }
        start += segment.len() + 1;
    }
    match class_start {
        Some(at) => (
            format!("{}.py", classname[..at - 1].replace('.', "/")),
            Some(&classname[at..]),
        ),
        None => (format!("{}.py", classname.replace('.', "/")), None),
    }
}

/// What `classname` holds beyond the module path of `file` (`TestOrders` for
/// `tests/api/test_orders.py` and `tests.api.test_orders.TestOrders`), if
/// anything. Compared in place: this runs once per case of a report.
fn class_path<'a>(file: &str, classname: &'a str) -> Option<&'a str> {
    let module = file.strip_suffix(".py").unwrap_or(file).as_bytes();
    let dotted = classname.as_bytes();
    let same_module = dotted.len() > module.len() + 1
        && dotted[module.len()] == b'.'
        && module
            .iter()
            .zip(dotted)
            .all(|(&m, &c)| if matches!(m, b'/' | b'\\') { c == b'.' } else { m == c });
    // The byte at `module.len()` is an ASCII '.', so the rest starts on a character boundary.
    same_module.then(|| &classname[module.len() + 1..])
}

#[cfg(test)]
mod tests {
    use super::node_id;

    #[test]
    fn module_level_test() {
        assert_eq!(
            node_id("tests/test_a.py", "tests.test_a", "test_x"),
            "tests/test_a.py::test_x"
        );
    }

    #[test]
    fn class_and_nested_class() {
        assert_eq!(
            node_id(
                "tests/api/test_orders.py",
                "tests.api.test_orders.TestOrders",
                "test_get[a b]"
            ),
            "tests/api/test_orders.py::TestOrders::test_get[a b]"
        );
        assert_eq!(
            node_id("t/test_a.py", "t.test_a.TestA.TestB", "test_n"),
            "t/test_a.py::TestA::TestB::test_n"
        );
    }

    #[test]
    fn a_test_defined_in_another_file_is_named_where_it_is_collected() {
        assert_eq!(
            node_id("tests/lib/base.py", "tests.test_child_a.TestChild", "test_one"),
            "tests/test_child_a.py::TestChild::test_one"
        );
        assert_eq!(
            node_id("tests/helpers.py", "tests.test_a", "test_shared"),
            "tests/test_a.py::test_shared"
        );
        assert_eq!(
            node_id("tests/lib/base.py", "tests.test_b.TestOuter.TestInner", "test_n"),
            "tests/test_b.py::TestOuter::TestInner::test_n"
        );
    }

    #[test]
    fn parametrize_ids_are_kept_verbatim() {
        assert_eq!(
            node_id("test_a.py", "test_a", "test_p[x::y]"),
            "test_a.py::test_p[x::y]"
        );
        assert_eq!(
            node_id("test_a.py", "test_a", r"test_p[\xfcn\xef]"),
            r"test_a.py::test_p[\xfcn\xef]"
        );
    }

    #[test]
    fn classname_not_matching_the_file_names_where_the_test_is_collected() {
        // The function is in other.py; class Else of module something collects it.
        assert_eq!(
            node_id("other.py", "something.Else", "test_x"),
            "something.py::Else::test_x"
        );
        // A prefix of the module is not the module.
        assert_eq!(
            node_id("t/test_a.py", "t.test_ab.TestA", "test_x"),
            "t/test_ab.py::TestA::test_x"
        );
        // Not a dotted path: the plain id.
        assert_eq!(
            node_id("t/test_a.py", "t/test_a.TestA", "test_x"),
            "t/test_a.py::test_x"
        );
        assert_eq!(node_id("t/test_a.py", "t.test_a.", "test_x"), "t/test_a.py::test_x");
    }

    #[test]
    fn windows_separators_and_dotted_file_names() {
        assert_eq!(
            node_id(r"tests\test_a.py", "tests.test_a.TestA", "test_x"),
            r"tests\test_a.py::TestA::test_x"
        );
        assert_eq!(
            node_id("pkg.v2/test_a.py", "pkg.v2.test_a.T", "t"),
            "pkg.v2/test_a.py::T::t"
        );
    }
}
