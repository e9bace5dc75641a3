//! Synchronous file system access for `node:fs`. Errors are thrown as `Error`s whose message
//! starts with node's code (`ENOENT: no such file or directory, open '/x'`); fs.js turns the
//! prefix into `err.code`.

use std::io::{self, ErrorKind};
use std::path::PathBuf;

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::{JsArray, JsArrayBuffer};
use boa_engine::property::Attribute;
use boa_engine::{Context, JsError, JsNativeError, JsResult, JsString, JsValue, js_string};

use super::arg;
use crate::resolve::absolute;

/// Argument `index` as a path: the text the script gave (for messages) and the absolute path
/// (relative paths are resolved against the working directory, which WASI leaves to us).
fn path_arg(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<(String, PathBuf)> {
    let text: String = arg(args, index, context)?;
    let path = absolute(text.as_ref());
    Ok((text, path))
}

/// Node's error code and description for an I/O error.
fn code(error: &io::Error) -> (&'static str, String) {
    let (code, description) = known_code(error);
    (code, description.map_or_else(|| error.to_string(), str::to_string))
}

/// The code and node's description of the common errors.
fn known_code(error: &io::Error) -> (&'static str, Option<&'static str>) {
    match error.kind() {
        ErrorKind::NotFound => ("ENOENT", Some("no such file or directory")),
        ErrorKind::AlreadyExists => ("EEXIST", Some("file already exists")),
        ErrorKind::PermissionDenied => ("EACCES", Some("permission denied")),
        ErrorKind::DirectoryNotEmpty => ("ENOTEMPTY", Some("directory not empty")),
        ErrorKind::NotADirectory => ("ENOTDIR", Some("not a directory")),
        ErrorKind::IsADirectory => ("EISDIR", Some("illegal operation on a directory")),
        _ => ("EIO", None),
    }
}

/// An `Error` like node's for `syscall` on `path`.
fn fs_error(error: &io::Error, syscall: &str, path: &str) -> JsError {
    let (code, description) = code(error);
    JsNativeError::error()
        .with_message(format!("{code}: {description}, {syscall} '{path}'"))
        .into()
}

/// `readFile(path, binary)`: the file as a string, or as an `ArrayBuffer` when `binary`.
pub fn read_file(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (path, file) = path_arg(args, 0, context)?;
    let binary: bool = arg(args, 1, context)?;
    let bytes = std::fs::read(&file).map_err(|e| fs_error(&e, "open", &path))?;
    if binary {
        return bytes_to_buffer(&bytes, context);
    }
    Ok(JsString::from(String::from_utf8_lossy(&bytes).as_ref()).into())
}

/// A new `ArrayBuffer` holding `bytes`.
pub fn bytes_to_buffer(bytes: &[u8], context: &mut Context) -> JsResult<JsValue> {
    let buffer = JsArrayBuffer::new(bytes.len(), context)?;
    if let Some(mut data) = buffer.data_mut() {
        data.copy_from_slice(bytes);
    }
    Ok(buffer.into())
}

/// The bytes of a string (as UTF-8) or of an `ArrayBuffer`.
pub fn value_to_bytes(value: &JsValue, context: &mut Context) -> JsResult<Vec<u8>> {
    if let Some(buffer) = value.as_object().and_then(|o| JsArrayBuffer::from_object(o).ok()) {
        return Ok(buffer.to_vec().unwrap_or_default());
    }
    Ok(value.to_string(context)?.to_std_string_escaped().into_bytes())
}

/// `writeFile(path, data, append)`: data is a string or an `ArrayBuffer`.
pub fn write_file(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (path, file) = path_arg(args, 0, context)?;
    let data = value_to_bytes(args.get(1).unwrap_or(&JsValue::undefined()), context)?;
    let append: bool = arg(args, 2, context)?;
    let result = if append {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&file)
            .and_then(|mut file| file.write_all(&data))
    } else {
        std::fs::write(&file, data)
    };
    result.map_err(|e| fs_error(&e, "open", &path))?;
    Ok(JsValue::undefined())
}

/// `exists(path)`.
pub fn exists(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (_, file) = path_arg(args, 0, context)?;
    Ok(file.exists().into())
}

/// `readdir(path)`: the entry names, sorted.
pub fn readdir(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (path, file) = path_arg(args, 0, context)?;
    let entries = std::fs::read_dir(&file).map_err(|e| fs_error(&e, "scandir", &path))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let values = names.iter().map(|n| JsString::from(n.as_str()).into());
    Ok(JsArray::from_iter(values, context).into())
}

/// `mkdir(path, recursive)`.
pub fn mkdir(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (path, file) = path_arg(args, 0, context)?;
    let recursive: bool = arg(args, 1, context)?;
    let result = if recursive {
        std::fs::create_dir_all(&file)
    } else {
        std::fs::create_dir(&file)
    };
    result.map_err(|e| fs_error(&e, "mkdir", &path))?;
    Ok(JsValue::undefined())
}

/// `stat(path)`: `{ kind: "file" | "directory" | "other", size, mtimeMs }`.
pub fn stat(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (path, file) = path_arg(args, 0, context)?;
    let metadata = std::fs::metadata(&file).map_err(|e| fs_error(&e, "stat", &path))?;
    let kind = if metadata.is_file() {
        js_string!("file")
    } else if metadata.is_dir() {
        js_string!("directory")
    } else {
        js_string!("other")
    };
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let object = ObjectInitializer::new(context)
        .property(js_string!("kind"), kind, Attribute::all())
        .property(js_string!("size"), metadata.len() as f64, Attribute::all())
        .property(js_string!("mtimeMs"), mtime, Attribute::all())
        .build();
    Ok(object.into())
}

/// `rm(path, recursive, force)`: removes a file, or a directory when `recursive`.
pub fn rm(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (path, file) = path_arg(args, 0, context)?;
    let recursive: bool = arg(args, 1, context)?;
    let force: bool = arg(args, 2, context)?;
    let result = match std::fs::symlink_metadata(&file) {
        Ok(m) if m.is_dir() && recursive => std::fs::remove_dir_all(&file),
        Ok(m) if m.is_dir() => Err(io::Error::from(ErrorKind::IsADirectory)),
        Ok(_) => std::fs::remove_file(&file),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if !(force && e.kind() == ErrorKind::NotFound) => Err(fs_error(&e, "rm", &path)),
        _ => Ok(JsValue::undefined()),
    }
}

/// `rename(from, to)`.
pub fn rename(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let (from, from_file) = path_arg(args, 0, context)?;
    let (_, to_file) = path_arg(args, 1, context)?;
    std::fs::rename(&from_file, &to_file).map_err(|e| fs_error(&e, "rename", &from))?;
    Ok(JsValue::undefined())
}
