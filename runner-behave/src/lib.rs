//! Placeholder: the runner arrives with its issue.
