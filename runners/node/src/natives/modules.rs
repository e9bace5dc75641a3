//! Module resolution, CommonJS and builtin compilation, and UTF-8 conversion for `require()`,
//! `Buffer` and `TextEncoder`/`TextDecoder`.

use std::path::Path;

use boa_engine::{Context, JsNativeError, JsResult, JsString, JsValue, Script, Source};

use super::arg;
use super::fs::{bytes_to_buffer, value_to_bytes};
use crate::resolve::{Target, resolve as resolve_specifier};
use crate::transpile::{Format, transpile};

/// `resolve(specifier, fromDir)`: `node:<name>` for a builtin, else the absolute file path.
/// Throws `Error: Cannot find module ...` with code `MODULE_NOT_FOUND`.
pub fn resolve(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let specifier: String = arg(args, 0, context)?;
    let from: String = arg(args, 1, context)?;
    match resolve_specifier(&specifier, Path::new(&from)) {
        Ok(Target::Builtin(name)) => Ok(JsString::from(format!("node:{name}").as_str()).into()),
        Ok(Target::File(path)) => Ok(JsString::from(path.to_string_lossy().as_ref()).into()),
        Err(message) => Err(JsNativeError::error().with_message(message).into()),
    }
}

/// Evaluates `code` as a script named `path` and returns its completion value.
fn evaluate(code: &str, path: &Path, context: &mut Context) -> JsResult<JsValue> {
    let script = Script::parse(Source::from_bytes(code).with_path(path), None, context)?;
    script.evaluate(context)
}

/// `compileCommonJs(path)`: the file wrapped as
/// `function (exports, require, module, __filename, __dirname)`.
pub fn compile_common_js(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let path: String = arg(args, 0, context)?;
    let source = std::fs::read_to_string(&path)
        .map_err(|_| JsNativeError::error().with_message(format!("Cannot find module '{path}'")))?;
    let transpiled =
        transpile(Path::new(&path), &source).map_err(|message| JsNativeError::syntax().with_message(message))?;
    if transpiled.format == Format::Esm {
        return Err(JsNativeError::error()
            .with_message(format!("require() of ES Module {path} is not supported; use import"))
            .into());
    }
    let wrapped = format!(
        "(function (exports, require, module, __filename, __dirname) {{{}\n}})",
        transpiled.code
    );
    evaluate(&wrapped, Path::new(&path), context)
}

/// `compileBuiltin(name)`: the factory function of builtin `name` (src/js/<name>.js).
pub fn compile_builtin(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let name: String = arg(args, 0, context)?;
    let source = crate::builtins::source(&name)
        .ok_or_else(|| JsNativeError::error().with_message(format!("No such built-in module: node:{name}")))?;
    evaluate(source, Path::new(&format!("node:{name}")), context)
}

/// `utf8Encode(text)`: an `ArrayBuffer` with the UTF-8 bytes of `text`.
pub fn utf8_encode(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let text: String = arg(args, 0, context)?;
    bytes_to_buffer(text.as_bytes(), context)
}

/// `utf8Decode(buffer)`: the text of an `ArrayBuffer` (invalid sequences become U+FFFD).
pub fn utf8_decode(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let bytes = value_to_bytes(args.first().unwrap_or(&JsValue::undefined()), context)?;
    Ok(JsString::from(String::from_utf8_lossy(&bytes).as_ref()).into())
}
