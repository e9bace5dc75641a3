//! Turns a source file into plain JavaScript for Boa: TypeScript types stripped with oxc,
//! and the module format (ESM or CommonJS) decided the way node decides it.

use std::path::Path;

use oxc_allocator::Allocator;
use oxc_codegen::Codegen;
use oxc_parser::Parser;
use oxc_semantic::SemanticBuilder;
use oxc_span::SourceType;
use oxc_transformer::{TransformOptions, Transformer};

/// How a file is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An ECMAScript module (`import`/`export`, top-level `await`).
    Esm,
    /// A CommonJS file, wrapped in a function with `require`, `module`, `exports`.
    CommonJs,
}

/// A file ready for Boa.
#[derive(Debug)]
pub struct Transpiled {
    /// JavaScript without type annotations.
    pub code: String,
    /// The format the code must be evaluated as.
    pub format: Format,
}

/// Source text is JavaScript unless its extension says TypeScript.
fn is_typescript(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("ts" | "mts" | "cts"))
}

/// The format fixed by the extension, if any: `.mjs`/`.mts` are ESM, `.cjs`/`.cts` CommonJS.
fn format_from_extension(path: &Path) -> Option<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("mjs" | "mts") => Some(Format::Esm),
        Some("cjs" | "cts") => Some(Format::CommonJs),
        _ => None,
    }
}

/// Transpiles `source` (the text of `path`). Files whose extension does not fix the format are
/// ESM when they contain `import`/`export` or top-level `await` and CommonJS otherwise — node's
/// syntax detection. Syntax errors come back as a readable message.
pub fn transpile(path: &Path, source: &str) -> Result<Transpiled, String> {
    let base = if is_typescript(path) {
        SourceType::ts()
    } else {
        SourceType::mjs()
    };
    match format_from_extension(path) {
        Some(Format::Esm) => strip(path, source, base.with_module(true), Format::Esm),
        Some(Format::CommonJs) => strip(path, source, base.with_commonjs(true), Format::CommonJs),
        None => match strip(path, source, base.with_unambiguous(true), Format::CommonJs) {
            Ok(done) => Ok(done),
            // A top-level `await` makes an unambiguous file fail as a script: retry as a module.
            Err(script_error) => strip(path, source, base.with_module(true), Format::Esm).map_err(|_| script_error),
        },
    }
}

/// Parses with `source_type`, strips TypeScript and prints JavaScript. For an unambiguous
/// source type the parser decides the format; otherwise `format` is kept.
fn strip(path: &Path, source: &str, source_type: SourceType, format: Format) -> Result<Transpiled, String> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if let Some(error) = parsed.diagnostics.into_iter().next() {
        return Err(format!("{}: SyntaxError: {error}", path.display()));
    }
    let format = if source_type.is_unambiguous() {
        if parsed.program.source_type.is_module() {
            Format::Esm
        } else {
            Format::CommonJs
        }
    } else {
        format
    };
    let mut program = parsed.program;
    if !source_type.is_typescript() {
        return Ok(Transpiled {
            code: source.to_string(),
            format,
        });
    }
    let scoping = SemanticBuilder::new()
        .with_enum_eval(true)
        .build(&program)
        .semantic
        .into_scoping();
    let transformed =
        Transformer::new(&allocator, path, &TransformOptions::default()).build_with_scoping(scoping, &mut program);
    if let Some(error) = transformed.diagnostics.into_iter().next() {
        return Err(format!("{}: {error}", path.display()));
    }
    let code = Codegen::new().build(&program).code;
    Ok(Transpiled { code, format })
}
