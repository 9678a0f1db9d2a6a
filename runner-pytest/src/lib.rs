//! pytest
