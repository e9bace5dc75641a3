//! `git_init`, `git_add`, `git_commit`, `git_restore`: changing the repository.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{describe, short, subject};
use crate::git::Git;
use crate::tools::ToolOutput;

pub const INIT: &str = "git_init";
pub const INIT_DESCRIPTION: &str =
    "Initialize a git repository in the workspace (on branch main). New sessions already have one.";

#[derive(Deserialize, JsonSchema)]
pub struct InitArgs {}

pub fn init(repo: &mut dyn Git, _: InitArgs) -> ToolOutput {
    match repo.init().map_err(|e| describe(&e))? {
        true => Ok("Initialized empty git repository on branch main".into()),
        false => Ok("Reinitialized existing git repository (nothing changed)".into()),
    }
}

pub const ADD: &str = "git_add";
pub const ADD_DESCRIPTION: &str = "Stage changes for the next commit. Paths may be files or directories; \".\" stages everything, deletions included.";

#[derive(Deserialize, JsonSchema)]
pub struct AddArgs {
    /// Files or directories to stage ("." for everything)
    paths: Vec<String>,
}

pub fn add(repo: &mut dyn Git, args: AddArgs) -> ToolOutput {
    if args.paths.is_empty() {
        return Err("Nothing specified, nothing added. Pass paths, or [\".\"] for everything.".into());
    }
    let changed = repo.add(&args.paths).map_err(|e| describe(&e))?;
    Ok(format!("Staged {changed} change(s) from {}", args.paths.join(", ")))
}

pub const COMMIT: &str = "git_commit";
pub const COMMIT_DESCRIPTION: &str = "Commit the staged changes with a message.";

#[derive(Deserialize, JsonSchema)]
pub struct CommitArgs {
    /// The commit message
    message: String,
}

pub fn commit(repo: &mut dyn Git, args: CommitArgs) -> ToolOutput {
    let info = repo.commit(&args.message).map_err(|e| describe(&e))?;
    let branch = repo
        .status()
        .ok()
        .and_then(|s| s.branch)
        .unwrap_or_else(|| "detached HEAD".into());
    let root = if info.parents.is_empty() { " (root-commit)" } else { "" };
    Ok(format!(
        "[{branch}{root} {}] {}",
        short(&info.id),
        subject(&info.message)
    ))
}

pub const RESTORE: &str = "git_restore";
pub const RESTORE_DESCRIPTION: &str =
    "Discard the unstaged changes to a file, restoring its staged (or last committed) version.";

#[derive(Deserialize, JsonSchema)]
pub struct RestoreArgs {
    /// The file to restore
    path: String,
}

pub fn restore(repo: &mut dyn Git, args: RestoreArgs) -> ToolOutput {
    repo.restore(&args.path).map_err(|e| describe(&e))?;
    Ok(format!("Restored {}", args.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Workspace;
    use crate::git::memory::MemoryRepo;

    fn paths(paths: &[&str]) -> AddArgs {
        AddArgs {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn message(message: &str) -> CommitArgs {
        CommitArgs {
            message: message.into(),
        }
    }

    #[test]
    fn init_once() {
        let mut repo = MemoryRepo::default();
        assert_eq!(
            add(&mut repo, paths(&["."])).unwrap_err(),
            "Not a git repository. Run git_init first."
        );
        assert_eq!(
            init(&mut repo, InitArgs {}).unwrap(),
            "Initialized empty git repository on branch main"
        );
        assert_eq!(
            init(&mut repo, InitArgs {}).unwrap(),
            "Reinitialized existing git repository (nothing changed)"
        );
    }

    #[test]
    fn add_then_commit() {
        let mut repo = MemoryRepo::with(&[("/a.txt", "a\n"), ("/src/b.txt", "b\n")]);
        assert!(add(&mut repo, paths(&[])).unwrap_err().starts_with("Nothing specified"));
        assert_eq!(
            add(&mut repo, paths(&["nope"])).unwrap_err(),
            "Pathspec 'nope' did not match any file known to git."
        );
        assert_eq!(add(&mut repo, paths(&["."])).unwrap(), "Staged 2 change(s) from .");
        let first = commit(&mut repo, message("First\n\nbody")).unwrap();
        assert!(
            first.starts_with("[main (root-commit) ") && first.ends_with("] First"),
            "{first}"
        );
        assert!(
            commit(&mut repo, message("Again"))
                .unwrap_err()
                .starts_with("Nothing to commit")
        );
        repo.workspace.remove("/src/b.txt", false).unwrap();
        repo.workspace.write("/a.txt", b"A\n").unwrap();
        assert_eq!(
            add(&mut repo, paths(&["src", "a.txt"])).unwrap(),
            "Staged 2 change(s) from src, a.txt"
        );
        let second = commit(&mut repo, message("Second")).unwrap();
        let id = repo.log(1).unwrap().remove(0).id;
        assert_eq!(second, format!("[main {}] Second", &id[..7]));
    }

    #[test]
    fn restore_discards_unstaged_changes() {
        let mut repo = MemoryRepo::with(&[("/a.txt", "a\n")]);
        repo.add(&[".".into()]).unwrap();
        repo.workspace.write("/a.txt", b"changed\n").unwrap();
        let path = |p: &str| RestoreArgs { path: p.into() };
        assert_eq!(restore(&mut repo, path("a.txt")).unwrap(), "Restored a.txt");
        assert_eq!(repo.workspace.read("/a.txt").unwrap(), b"a\n");
        assert_eq!(
            restore(&mut repo, path("b.txt")).unwrap_err(),
            "Pathspec 'b.txt' did not match any file known to git."
        );
    }
}
