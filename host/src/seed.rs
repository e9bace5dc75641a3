//! The sample project a new session starts with.

use crate::git::{GitError, Repo};
use crate::storage::{SessionDb, meta};

/// What a new session's workspace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Template {
    /// A small TypeScript project.
    #[default]
    Sample,
    /// Nothing.
    Empty,
}

/// The sample TypeScript project: path and contents.
pub const SAMPLE_FILES: &[(&str, &str)] = &[
    (
        "/package.json",
        r#"{
  "name": "sample-project",
  "version": "1.0.0",
  "type": "module",
  "main": "src/index.ts",
  "scripts": {
    "build": "tsc",
    "start": "node dist/index.js"
  },
  "devDependencies": {
    "typescript": "^5.4.0"
  }
}
"#,
    ),
    (
        "/tsconfig.json",
        r#"{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ES2022",
    "moduleResolution": "bundler",
    "strict": true,
    "outDir": "dist"
  },
  "include": ["src"]
}
"#,
    ),
    (
        "/README.md",
        "# Sample Project\n\nA small TypeScript project to try the agent on.\n\n- `src/index.ts`: entry point\n- `src/utils.ts`: helpers\n",
    ),
    (
        "/src/index.ts",
        r#"import { greet, add } from "./utils";

console.log(greet("World"));
console.log(`2 + 3 = ${add(2, 3)}`);
"#,
    ),
    (
        "/src/utils.ts",
        r#"export function greet(name: string): string {
  return `Hello, ${name}!`;
}

export function add(a: number, b: number): number {
  return a + b;
}
"#,
    ),
];

/// Who a session's commits are authored by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitAuthor {
    /// The name.
    pub name: String,
    /// The email address.
    pub email: String,
}

/// Fills a new session's workspace from `template` and makes it a git repository: `git init` on
/// `main`, the author (if given) recorded, and for the sample project an initial commit of all
/// its files. One transaction: a session is seeded completely or not at all.
pub fn seed(db: &mut SessionDb, template: Template, author: Option<&GitAuthor>) -> Result<(), GitError> {
    db.write(|s| {
        let repo = Repo::new(s);
        repo.init()?;
        if let Some(author) = author {
            s.meta().set(meta::GIT_AUTHOR_NAME, &author.name)?;
            s.meta().set(meta::GIT_AUTHOR_EMAIL, &author.email)?;
        }
        if template == Template::Sample {
            for (path, contents) in SAMPLE_FILES {
                s.worktree().write(path, contents.as_bytes())?;
            }
            repo.add(&[".".to_string()])?;
            repo.commit("Initial commit")?;
        }
        let name = match template {
            Template::Sample => "sample",
            Template::Empty => "empty",
        };
        s.meta().set(meta::TEMPLATE, name)?;
        Ok(())
    })
}
