//! The sample project a new session starts with.

use crate::git::{GitError, Repo};
use crate::storage::SessionDb;

/// What a new session's workspace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
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

/// Fills a new session's workspace from `template` and makes it a git repository: `git init` on
/// `main`, and for the sample project an initial commit of all its files.
pub fn seed(db: &mut SessionDb, template: Template) -> Result<(), GitError> {
    Repo::new(db).init()?;
    if template == Template::Sample {
        for (path, contents) in SAMPLE_FILES {
            db.write_file(path, contents.as_bytes())?;
        }
        let mut repo = Repo::new(db);
        repo.add(&[".".to_string()])?;
        repo.commit("Initial commit")?;
    }
    db.set_meta(
        "template",
        match template {
            Template::Sample => "sample",
            Template::Empty => "empty",
        },
    )?;
    Ok(())
}
