//! Standard streams, exit, argv, environment and working directory.

use std::io::Write;

use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::JsArray;
use boa_engine::property::Attribute;
use boa_engine::{Context, JsResult, JsString, JsValue};

use super::arg;

/// `write(fd, text)`: writes to stdout (1) or stderr (2).
pub fn write(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let fd: i32 = arg(args, 0, context)?;
    let text: String = arg(args, 1, context)?;
    // A closed pipe is not the script's problem: output is best effort, like node's.
    let _ = if fd == 2 {
        std::io::stderr().write_all(text.as_bytes())
    } else {
        std::io::stdout().write_all(text.as_bytes())
    };
    Ok(JsValue::undefined())
}

/// `exit(code)`: flushes stdout and ends the process.
pub fn exit(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let code: i32 = arg(args, 0, context)?;
    crate::exit(code)
}

/// `argv()`: `["/node", <absolute script>, ...args]`.
pub fn argv(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let mut values: Vec<JsValue> = vec![JsString::from("/node").into()];
    let mut args = std::env::args().skip(1);
    if let Some(script) = args.next() {
        let script = crate::resolve::absolute(script.as_ref());
        values.push(JsString::from(script.to_string_lossy().as_ref()).into());
    }
    values.extend(args.map(|a| JsString::from(a.as_str()).into()));
    Ok(JsArray::from_iter(values, context).into())
}

/// `env()`: the environment variables as an object.
pub fn env(_: &JsValue, _: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let mut object = ObjectInitializer::new(context);
    for (key, value) in std::env::vars() {
        object.property(
            JsString::from(key.as_str()),
            JsString::from(value.as_str()),
            Attribute::all(),
        );
    }
    Ok(object.build().into())
}

/// `cwd()`: the working directory (`/` under WASI).
pub fn cwd(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    let cwd = crate::resolve::absolute(".".as_ref());
    Ok(JsString::from(cwd.to_string_lossy().as_ref()).into())
}
