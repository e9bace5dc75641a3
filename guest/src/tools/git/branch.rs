//! `git_branch`, `git_checkout`: branches.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{describe, short};
use crate::git::Git;
use crate::tools::ToolOutput;

pub const BRANCH: &str = "git_branch";
pub const BRANCH_DESCRIPTION: &str =
    "List branches, or create a new branch at HEAD when a name is given (it does not switch to it).";

#[derive(Deserialize, JsonSchema)]
pub struct BranchArgs {
    /// Name of a branch to create
    name: Option<String>,
}

pub fn branch(repo: &mut dyn Git, args: BranchArgs) -> ToolOutput {
    if let Some(name) = args.name {
        let created = repo.create_branch(&name).map_err(|e| describe(&e))?;
        return Ok(format!("Created branch '{}' at {}", created.name, short(&created.head)));
    }
    let branches = repo.branches().map_err(|e| describe(&e))?;
    if branches.is_empty() {
        return Ok("No branches yet (no commits)".into());
    }
    Ok(branches
        .iter()
        .map(|b| format!("{} {} {}", if b.current { "*" } else { " " }, b.name, short(&b.head)))
        .collect::<Vec<_>>()
        .join("\n"))
}

pub const CHECKOUT: &str = "git_checkout";
pub const CHECKOUT_DESCRIPTION: &str = "Switch to a branch (or a commit), updating the working tree: files are added, changed and removed to match. With create: true, first creates the branch at HEAD. Refused if uncommitted changes would be overwritten or lost.";

#[derive(Deserialize, JsonSchema)]
pub struct CheckoutArgs {
    /// Branch name or commit id
    #[serde(rename = "ref")]
    #[schemars(rename = "ref")]
    target: String,
    /// Create the branch at HEAD first (default: false)
    create: Option<bool>,
}

pub fn checkout(repo: &mut dyn Git, args: CheckoutArgs) -> ToolOutput {
    let result = repo
        .checkout(&args.target, args.create.unwrap_or(false))
        .map_err(|e| describe(&e))?;
    let files = format!("{} file(s) updated, {} removed", result.updated, result.removed);
    Ok(match result.branch {
        Some(b) if args.create.unwrap_or(false) => format!("Switched to a new branch '{b}' ({files})"),
        Some(b) => format!("Switched to branch '{b}' ({files})"),
        None => format!("HEAD is now at {} (detached; {files})", short(&result.head)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Workspace;
    use crate::git::memory::MemoryRepo;

    fn checkout_to(repo: &mut MemoryRepo, json: &str) -> ToolOutput {
        checkout(repo, serde_json::from_str(json).unwrap())
    }

    #[test]
    fn branches_are_listed_and_created_at_head() {
        let mut repo = MemoryRepo::with(&[("/a.txt", "a\n")]);
        let name = |n: &str| BranchArgs { name: Some(n.into()) };
        assert_eq!(
            branch(&mut repo, BranchArgs { name: None }).unwrap(),
            "No branches yet (no commits)"
        );
        assert_eq!(
            branch(&mut repo, name("x")).unwrap_err(),
            "The repository has no commits yet."
        );
        repo.add(&[".".into()]).unwrap();
        let id = repo.commit("First").unwrap().id;
        let head = short(&id);
        assert_eq!(
            branch(&mut repo, BranchArgs { name: None }).unwrap(),
            format!("* main {head}")
        );
        assert_eq!(
            branch(&mut repo, name("feature")).unwrap(),
            format!("Created branch 'feature' at {head}")
        );
        assert_eq!(
            branch(&mut repo, BranchArgs { name: None }).unwrap(),
            format!("  feature {head}\n* main {head}")
        );
        assert_eq!(
            branch(&mut repo, name("feature")).unwrap_err(),
            "A branch named 'feature' already exists."
        );
        assert_eq!(branch(&mut repo, name("a b")).unwrap_err(), "Invalid branch name: a b");
    }

    #[test]
    fn checkout_syncs_the_tree_and_refuses_to_lose_changes() {
        let mut repo = MemoryRepo::with(&[("/a.txt", "a\n"), ("/b.txt", "b\n")]);
        repo.add(&[".".into()]).unwrap();
        let first = repo.commit("First").unwrap().id;
        assert_eq!(
            checkout_to(&mut repo, r#"{"ref":"side","create":true}"#).unwrap(),
            "Switched to a new branch 'side' (0 file(s) updated, 0 removed)"
        );
        repo.workspace.write("/a.txt", b"side\n").unwrap();
        repo.workspace.remove("/b.txt", false).unwrap();
        repo.add(&[".".into()]).unwrap();
        repo.commit("Side").unwrap();
        assert_eq!(
            checkout_to(&mut repo, r#"{"ref":"main"}"#).unwrap(),
            "Switched to branch 'main' (2 file(s) updated, 0 removed)"
        );
        assert_eq!(repo.workspace.read("/a.txt").unwrap(), b"a\n");
        repo.workspace.write("/a.txt", b"local\n").unwrap();
        assert_eq!(
            checkout_to(&mut repo, r#"{"ref":"side"}"#).unwrap_err(),
            "Checkout refused: your local changes to these files would be overwritten or lost:\n  a.txt\nCommit them (git_add, git_commit) or discard them (git_restore) first."
        );
        repo.workspace.write("/a.txt", b"a\n").unwrap();
        assert_eq!(
            checkout_to(&mut repo, r#"{"ref":"side"}"#).unwrap(),
            "Switched to branch 'side' (1 file(s) updated, 1 removed)"
        );
        assert_eq!(
            checkout_to(&mut repo, &format!(r#"{{"ref":"{}"}}"#, &first[..8])).unwrap(),
            format!(
                "HEAD is now at {} (detached; 2 file(s) updated, 0 removed)",
                short(&first)
            )
        );
        assert_eq!(
            checkout_to(&mut repo, r#"{"ref":"nope"}"#).unwrap_err(),
            "Unknown revision or branch: nope"
        );
    }
}
