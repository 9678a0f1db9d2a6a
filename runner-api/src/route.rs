//! Mapping a test's name to the HTTP route it exercises.
//!
//! (Placeholder; the mapping lands with its tests in the next commit.)

/// The route (`GET /pets/{pet_id}`) a test named like
/// `test_get_pets_pet_id_success` exercises, or `None` when its name has no
/// HTTP verb.
pub fn route_for_test(_name: &str) -> Option<String> {
    None
}
