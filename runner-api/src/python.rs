//! Finding the Python interpreter for Python-based tools (pytest, behave),
//! and telling a missing module apart.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::context::SuiteContext;
use crate::runner::RunnerError;

/// Picks the interpreter for a suite, in the order DESIGN.md gives: the
/// suite's `python` key (relative to the project dir), `$VIRTUAL_ENV/bin/python`,
/// `<project>/.venv/bin/python`, `python3` on `PATH`, `python` on `PATH`.
pub fn find_python(configured: Option<&Path>, project_dir: &Path, tool: &str) -> Result<PathBuf, RunnerError> {
    if let Some(configured) = configured {
        let path = if configured.components().count() == 1 && !configured.exists() {
            // A bare name like "python3.12" is looked up on PATH.
            which(configured.as_os_str()).unwrap_or_else(|| project_dir.join(configured))
        } else {
            project_dir.join(configured)
        };
        return if path.is_file() {
            Ok(path)
        } else {
            Err(RunnerError::ToolMissing {
                tool: format!("python interpreter {}", path.display()),
                hint: format!("the suite's `python` key points at {}, which does not exist; fix the key or create the environment", path.display()),
            })
        };
    }
    let venv = std::env::var_os("VIRTUAL_ENV").map(|venv| PathBuf::from(venv).join("bin/python"));
    let project_venv = project_dir.join(".venv/bin/python");
    venv.into_iter()
        .chain([project_venv])
        .find(|path| path.is_file())
        .or_else(|| which("python3".as_ref()))
        .or_else(|| which("python".as_ref()))
        .ok_or_else(|| RunnerError::ToolMissing {
            tool: "python".into(),
            hint: format!(
                "no Python interpreter found (looked at $VIRTUAL_ENV, {}, python3 and python on PATH); install Python 3 and {tool}, e.g. `python3 -m venv .venv && .venv/bin/pip install {tool}`",
                project_dir.join(".venv").display()
            ),
        })
}

/// The first executable named `name` on our `PATH`.
pub fn which(name: &std::ffi::OsStr) -> Option<PathBuf> {
    crate::context::which_in(name, &std::env::var_os("PATH")?)
}

/// The hint for a missing Python module `module` under `python`.
pub fn install_hint(python: &Path, package: &str) -> String {
    format!("`{package}` is not installed for {}; install it with `{} -m pip install {package}` (or set the suite's `python` key to an interpreter that has it)", python.display(), python.display())
}

/// True when a tool's log shows that `module` could not be imported by the interpreter.
pub fn module_missing(log_text: &str, module: &str) -> bool {
    log_text.contains(&format!("No module named {module}")) || log_text.contains(&format!("No module named '{module}'"))
}

/// The version of the Python distribution `distribution` (e.g. `pytest`)
/// installed for `python`, as `importlib.metadata` reports it from the
/// project dir, asked through [`SuiteContext::probe`]: a fraction of the cost
/// of the tool's own `--version`, and bounded like every probe.
pub fn distribution_version(ctx: &SuiteContext, python: &Path, distribution: &str) -> Option<String> {
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg("import sys, importlib.metadata as m; print(m.version(sys.argv[1]))")
        .arg(distribution)
        .current_dir(&ctx.project_dir);
    match ctx.probe(cmd) {
        Ok(output) => {
            let version = output.first_line();
            log::debug!("{distribution} {version:?}: asked {}", python.display());
            version
        }
        Err(err) => {
            log::debug!("cannot ask {} for {distribution}'s version: {err}", python.display());
            None
        }
    }
}

/// The module name of the Python plugin qaagent ships (pytest's `-p`,
/// behave's `-f MODULE:Formatter`). Unlikely to be a project's own: the
/// project's directory comes first on `sys.path` (`python -m pytest`), so a
/// module of the same name there would be loaded instead, or be hidden.
pub const STREAM_MODULE: &str = "_qaagent_stream";

/// Writes the Python module [`STREAM_MODULE`] holding `source` (a plugin qaagent
/// ships inside its binary) into `<attempt output>/.qaagent-python/`, puts
/// that directory first on `cmd`'s `PYTHONPATH` (before the suite's own
/// `PYTHONPATH`, else the inherited one) and names the attempt's stream file
/// to it in [`crate::stream::STREAM_ENV`]. Never written into the project.
pub fn ship_stream_module(ctx: &SuiteContext, cmd: &mut Command, source: &str) -> Result<(), RunnerError> {
    let dir = ctx.output_dir.join(".qaagent-python");
    let path = dir.join(format!("{STREAM_MODULE}.py"));
    crate::outdir::create_fresh_dir(&dir)
        .and_then(|()| crate::outdir::create_file(&path))
        .and_then(|mut file| std::io::Write::write_all(&mut file, source.as_bytes()))
        .map_err(|source| RunnerError::Io {
            what: "cannot write qaagent's stream plugin",
            path: path.clone(),
            source,
        })?;
    let inherited = ctx
        .env
        .get("PYTHONPATH")
        .map(std::ffi::OsString::from)
        .or_else(|| std::env::var_os("PYTHONPATH"));
    let mut paths = vec![dir];
    paths.extend(inherited.iter().flat_map(std::env::split_paths));
    let joined =
        std::env::join_paths(paths).map_err(|err| RunnerError::Other(format!("cannot set PYTHONPATH: {err}")))?;
    cmd.env("PYTHONPATH", joined)
        .env(crate::stream::STREAM_ENV, ctx.stream_file());
    Ok(())
}
