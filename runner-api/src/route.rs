//! Mapping a test's name to the HTTP route it exercises.
//!
//! API test suites often name tests after the call they make:
//! `test_get_pets_pet_id_success` exercises `GET /pets/{pet_id}`. Evidence
//! records carry that route so failures can be grouped by endpoint. The rules,
//! applied to the test function's name:
//!
//! 1. A parametrize suffix (`test_get_pets[abc]`) is dropped, and so is any
//!    `module::Class::` qualification.
//! 2. A leading `test_` is dropped.
//! 3. The rest is split on `_` (empty pieces ignored). The first token must be
//!    an HTTP verb — `get`, `post`, `put`, `patch`, `delete`, `head`,
//!    `options`, in any case — or there is no route.
//! 4. One trailing outcome suffix is dropped: `success`, `invalid_data`,
//!    `invalid_params` or `error`.
//! 5. Each remaining token is a path segment, except that a parameter token —
//!    `id`, `pk`, `slug`, `uuid` — joins the token before it into one
//!    parameter segment: `pets pet id` → `/pets/{pet_id}`, `users id` →
//!    `/{users_id}`. A parameter token with nothing before it to join (first,
//!    or right after another parameter) stands alone: `get_id` → `/{id}`.
//! 6. No tokens left → `/`.

use std::fmt;

/// The HTTP verbs a test name may start with.
const VERBS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// Tokens naming a path parameter, joined with the token before them.
const PARAM_TOKENS: [&str; 4] = ["id", "pk", "slug", "uuid"];

/// Outcome suffixes (as token sequences) that say what a test expects, not where it goes.
const OUTCOME_SUFFIXES: [&[&str]; 4] = [&["success"], &["invalid", "data"], &["invalid", "params"], &["error"]];

/// An HTTP route derived from a test name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The verb, upper case (`GET`).
    pub method: String,
    /// The path, starting with `/`, parameters in braces (`/pets/{pet_id}`).
    pub path: String,
}

impl fmt::Display for Route {
    /// `GET /pets/{pet_id}`, the form evidence records use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.method)?;
        f.write_str(" ")?;
        f.write_str(&self.path)
    }
}

/// The route a test exercises, judged by its name (see the module docs for
/// the rules); `None` when the name does not start with an HTTP verb.
///
/// Asked for every test record, so it builds the path in one string rather
/// than a string per token, joined: with `to_string`, 405 M → 211 M
/// instructions for 100,000 names (callgrind); in BENCHMARKS.md's target 4
/// the routes had been a third of writing the records (532 M of 1,653 M).
pub fn route_for_test(test_name: &str) -> Option<Route> {
    let name = test_name.split('[').next().unwrap_or(test_name);
    // A substring search is costly to set up; most names have no `::`.
    let name = if name.contains(':') {
        name.rsplit("::").next().unwrap_or(name)
    } else {
        name
    };
    let name = name.strip_prefix("test_").unwrap_or(name);
    let mut tokens = name.split('_').filter(|token| !token.is_empty());
    let first = tokens.next()?;
    let verb = VERBS.iter().find(|verb| verb.eq_ignore_ascii_case(first))?;
    let mut tokens: Vec<&str> = tokens.collect();
    if let Some(suffix) = OUTCOME_SUFFIXES
        .iter()
        .find(|suffix| tokens.len() >= suffix.len() && tokens.ends_with(suffix))
    {
        tokens.truncate(tokens.len() - suffix.len());
    }

    let mut path = String::with_capacity(name.len() + 4);
    // Where the last segment starts, when it is a plain token a parameter may join.
    let mut plain_segment = None;
    for token in tokens {
        if PARAM_TOKENS.contains(&token) {
            match plain_segment.take() {
                // `pets pet id`: `/pets/pet` becomes `/pets/{pet_id}`.
                Some(start) => {
                    path.insert(start, '{');
                    path.push('_');
                }
                None => path.push_str("/{"),
            }
            path.push_str(token);
            path.push('}');
        } else {
            path.push('/');
            plain_segment = Some(path.len());
            path.push_str(token);
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    Some(Route {
        method: verb.to_ascii_uppercase(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(name: &str) -> Option<String> {
        route_for_test(name).map(|route| route.to_string())
    }

    #[test]
    fn the_issue_example() {
        assert_eq!(
            route("test_get_pets_pet_id_success").as_deref(),
            Some("GET /pets/{pet_id}")
        );
    }

    #[test]
    fn every_verb_in_any_case() {
        for (name, expected) in [
            ("test_get_pets", "GET /pets"),
            ("test_post_pets", "POST /pets"),
            ("test_put_pets", "PUT /pets"),
            ("test_patch_pets", "PATCH /pets"),
            ("test_delete_pets", "DELETE /pets"),
            ("test_head_pets", "HEAD /pets"),
            ("test_options_pets", "OPTIONS /pets"),
            ("test_GET_pets", "GET /pets"),
            ("test_Delete_pets", "DELETE /pets"),
        ] {
            assert_eq!(route(name).as_deref(), Some(expected), "{name}");
        }
    }

    #[test]
    fn no_verb_first_means_no_route() {
        assert_eq!(route("test_pets_get"), None);
        assert_eq!(route("test_list_pets"), None);
        assert_eq!(route("test_getter_works"), None);
        assert_eq!(route("test_"), None);
        assert_eq!(route(""), None);
        assert_eq!(route("Add 2 of kiwi -- @1.2 Fruits"), None);
        assert_eq!(route("get pets"), None);
    }

    #[test]
    fn test_prefix_is_optional() {
        assert_eq!(route("get_pets").as_deref(), Some("GET /pets"));
    }

    #[test]
    fn outcome_suffixes_are_dropped_once() {
        assert_eq!(route("test_post_pets_success").as_deref(), Some("POST /pets"));
        assert_eq!(route("test_post_pets_invalid_data").as_deref(), Some("POST /pets"));
        assert_eq!(route("test_get_pets_invalid_params").as_deref(), Some("GET /pets"));
        assert_eq!(
            route("test_get_pets_pet_id_error").as_deref(),
            Some("GET /pets/{pet_id}")
        );
        assert_eq!(route("test_get_pets_error_success").as_deref(), Some("GET /pets/error"));
        // Only whole tokens are suffixes.
        assert_eq!(route("test_get_successes").as_deref(), Some("GET /successes"));
        assert_eq!(route("test_get_data").as_deref(), Some("GET /data"));
    }

    #[test]
    fn parameter_tokens_join_the_token_before() {
        assert_eq!(route("test_get_users_user_pk").as_deref(), Some("GET /users/{user_pk}"));
        assert_eq!(
            route("test_get_posts_post_slug").as_deref(),
            Some("GET /posts/{post_slug}")
        );
        assert_eq!(
            route("test_delete_files_file_uuid_success").as_deref(),
            Some("DELETE /files/{file_uuid}")
        );
        assert_eq!(route("test_get_users_id").as_deref(), Some("GET /{users_id}"));
        assert_eq!(
            route("test_get_owners_owner_id_pets_pet_id").as_deref(),
            Some("GET /owners/{owner_id}/pets/{pet_id}")
        );
        assert_eq!(
            route("test_get_pets_pet_id_photos").as_deref(),
            Some("GET /pets/{pet_id}/photos")
        );
    }

    #[test]
    fn lone_parameter_tokens_stand_alone() {
        assert_eq!(route("test_get_id").as_deref(), Some("GET /{id}"));
        assert_eq!(route("test_get_item_id_uuid").as_deref(), Some("GET /{item_id}/{uuid}"));
    }

    #[test]
    fn no_path_is_the_root() {
        assert_eq!(route("test_get").as_deref(), Some("GET /"));
        assert_eq!(route("test_get_success").as_deref(), Some("GET /"));
    }

    #[test]
    fn parametrize_ids_and_qualification_are_ignored() {
        assert_eq!(route("test_get_pets[abc]").as_deref(), Some("GET /pets"));
        assert_eq!(
            route("test_get_pets_pet_id_success[with space-x_id]").as_deref(),
            Some("GET /pets/{pet_id}")
        );
        assert_eq!(route("TestPets::test_get_pets").as_deref(), Some("GET /pets"));
        assert_eq!(
            route("tests/test_api.py::TestPets::test_put_pets_pet_id[1]").as_deref(),
            Some("PUT /pets/{pet_id}")
        );
    }

    #[test]
    fn repeated_underscores_do_not_make_empty_segments() {
        assert_eq!(route("test_get__pets___pet_id").as_deref(), Some("GET /pets/{pet_id}"));
    }

    #[test]
    fn route_fields() {
        let route = route_for_test("test_patch_orders_order_id_success").expect("a route");
        assert_eq!(route.method, "PATCH");
        assert_eq!(route.path, "/orders/{order_id}");
    }
}
