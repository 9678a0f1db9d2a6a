//! Rebuilding pytest node ids from xunit1 JUnit rows.

/// The node id of a test from its xunit1 JUnit attributes: `file`
/// (`tests/api/test_orders.py`), `classname` (`tests.api.test_orders.TestOrders`)
/// and `name` (`test_get[a b]`) give `tests/api/test_orders.py::TestOrders::test_get[a b]`.
///
/// The class segments are what `classname` holds beyond the module path; a
/// module-level test has none. Non-ASCII parametrize ids stay in the escaped
/// form pytest writes (`[\xfcn\xefcode]`), which is also how pytest selects them.
pub fn node_id(file: &str, classname: &str, name: &str) -> String {
    let module = file.strip_suffix(".py").unwrap_or(file).replace(['/', '\\'], ".");
    let classes = classname
        .strip_prefix(module.as_str())
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|rest| !rest.is_empty());
    match classes {
        Some(classes) => format!("{file}::{}::{name}", classes.replace('.', "::")),
        None => format!("{file}::{name}"),
    }
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
    fn classname_not_matching_the_file_keeps_the_plain_id() {
        assert_eq!(node_id("other.py", "something.Else", "test_x"), "other.py::test_x");
    }
}
