//! Which project a run belongs to: the project directory in its manifest's
//! `target.path` (the key the Python qaagent writes too). The name is no
//! identity: two checkouts of one project, or two projects both named
//! `shop`, keep their runs apart.

use std::path::{Path, PathBuf};

use crate::manifest::Manifest;
use crate::store::ListedRun;

/// `path` with symbolic links and `..` resolved where it exists, else as given
/// (a project moved away still compares by its recorded path).
pub(crate) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `manifest` records a run of the project in `project_dir` (canonical).
pub(crate) fn of_project(manifest: &Manifest, project_dir: &Path) -> bool {
    !manifest.target.path.is_empty() && canonical(Path::new(&manifest.target.path)) == project_dir
}

impl ListedRun {
    /// Whether this is a run of the project in `project_dir`. A run whose
    /// manifest cannot be read belongs to no project.
    pub fn belongs_to(&self, project_dir: &Path) -> bool {
        let project_dir = canonical(project_dir);
        self.manifest
            .as_deref()
            .is_ok_and(|manifest| of_project(manifest, &project_dir))
    }
}
