//! The native functions the JavaScript side of the runtime (src/js/) is built on. They are
//! handed to `bootstrap.js` as one object and never exposed to user code directly.

mod fs;
mod modules;
mod process;
mod timers;

use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use boa_engine::value::TryFromJs;
use boa_engine::{Context, JsObject, JsResult, JsString, JsValue, NativeFunction, js_string};

/// The signature of every native function.
type Native = fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>;

/// All natives by name.
const NATIVES: &[(&str, Native)] = &[
    ("write", process::write),
    ("exit", process::exit),
    ("argv", process::argv),
    ("env", process::env),
    ("cwd", process::cwd),
    ("resolve", modules::resolve),
    ("compileCommonJs", modules::compile_common_js),
    ("compileBuiltin", modules::compile_builtin),
    ("utf8Encode", modules::utf8_encode),
    ("utf8Decode", modules::utf8_decode),
    ("readFile", fs::read_file),
    ("writeFile", fs::write_file),
    ("exists", fs::exists),
    ("readdir", fs::readdir),
    ("mkdir", fs::mkdir),
    ("stat", fs::stat),
    ("rm", fs::rm),
    ("rename", fs::rename),
    ("setTimer", timers::set_timer),
    ("clearTimer", timers::clear_timer),
];

/// Builds the object holding every native function.
pub fn natives(context: &mut Context) -> JsObject {
    let mut object = ObjectInitializer::new(context);
    for (name, function) in NATIVES {
        object.function(NativeFunction::from_fn_ptr(*function), JsString::from(*name), 0);
    }
    object.property(js_string!("platform"), js_string!("wasi"), Attribute::all());
    object.build()
}

/// Argument `index` converted with `TryFromJs` (strings, numbers, booleans).
fn arg<T: TryFromJs>(args: &[JsValue], index: usize, context: &mut Context) -> JsResult<T> {
    T::try_from_js(args.get(index).unwrap_or(&JsValue::undefined()), context)
}
