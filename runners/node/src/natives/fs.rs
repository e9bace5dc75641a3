//! Synchronous file system access for `node:fs`. Errors are thrown as `Error`s whose message
//! starts with node's code (`ENOENT: no such file or directory, open '/x'`); fs.js turns the
//! prefix into `err.code`.

use std::io::{self, ErrorKind};
use std::path::Path;

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::{JsArray, JsArrayBuffer};
use boa_engine::property::Attribute;
use boa_engine::{Context, JsError, JsNativeError, JsResult, JsString, JsValue, js_string};

use super::arg;

/// Node's error code and description for an I/O error.
fn code(error: &io::Error) -> (&'static str, &'static str) {
    match error.kind() {
        ErrorKind::NotFound => ("ENOENT", "no such file or directory"),
        ErrorKind::AlreadyExists => ("EEXIST", "file already exists"),
        ErrorKind::PermissionDenied => ("EACCES", "permission denied"),
        ErrorKind::DirectoryNotEmpty => ("ENOTEMPTY", "directory not empty"),
        ErrorKind::NotADirectory => ("ENOTDIR", "not a directory"),
        ErrorKind::IsADirectory => ("EISDIR", "illegal operation on a directory"),
        _ => ("EIO", "i/o error"),
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
    let path: String = arg(args, 0, context)?;
    let binary: bool = arg(args, 1, context)?;
    let bytes = std::fs::read(&path).map_err(|e| fs_error(&e, "open", &path))?;
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
    let path: String = arg(args, 0, context)?;
    let data = value_to_bytes(args.get(1).unwrap_or(&JsValue::undefined()), context)?;
    let append: bool = arg(args, 2, context)?;
    let result = if append {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut file| file.write_all(&data))
    } else {
        std::fs::write(&path, data)
    };
    result.map_err(|e| fs_error(&e, "open", &path))?;
    Ok(JsValue::undefined())
}

/// `exists(path)`.
pub fn exists(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let path: String = arg(args, 0, context)?;
    Ok(Path::new(&path).exists().into())
}

/// `readdir(path)`: the entry names, sorted.
pub fn readdir(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let path: String = arg(args, 0, context)?;
    let entries = std::fs::read_dir(&path).map_err(|e| fs_error(&e, "scandir", &path))?;
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
    let path: String = arg(args, 0, context)?;
    let recursive: bool = arg(args, 1, context)?;
    let result = if recursive {
        std::fs::create_dir_all(&path)
    } else {
        std::fs::create_dir(&path)
    };
    result.map_err(|e| fs_error(&e, "mkdir", &path))?;
    Ok(JsValue::undefined())
}

/// `stat(path)`: `{ kind: "file" | "directory" | "other", size, mtimeMs }`.
pub fn stat(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let path: String = arg(args, 0, context)?;
    let metadata = std::fs::metadata(&path).map_err(|e| fs_error(&e, "stat", &path))?;
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
    let path: String = arg(args, 0, context)?;
    let recursive: bool = arg(args, 1, context)?;
    let force: bool = arg(args, 2, context)?;
    let result = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() && recursive => std::fs::remove_dir_all(&path),
        Ok(m) if m.is_dir() => Err(io::Error::from(ErrorKind::IsADirectory)),
        Ok(_) => std::fs::remove_file(&path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if !(force && e.kind() == ErrorKind::NotFound) => Err(fs_error(&e, "rm", &path)),
        _ => Ok(JsValue::undefined()),
    }
}

/// `rename(from, to)`.
pub fn rename(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let from: String = arg(args, 0, context)?;
    let to: String = arg(args, 1, context)?;
    std::fs::rename(&from, &to).map_err(|e| fs_error(&e, "rename", &from))?;
    Ok(JsValue::undefined())
}
