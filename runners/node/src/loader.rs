//! The ESM loader: resolves `import` specifiers, parses ESM files, and wraps builtins and
//! CommonJS files as synthetic modules (default export plus one named export per key).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use boa_engine::module::{ModuleLoader, Referrer, SyntheticModuleInitializer};
use boa_engine::object::builtins::JsArray;
use boa_engine::{Context, JsNativeError, JsObject, JsResult, JsString, JsValue, Module, Source, js_string};

use crate::resolve::{Target, absolute, resolve};
use crate::transpile::{Format, transpile};

/// Loads modules, each once.
#[derive(Default)]
pub struct Loader {
    /// The bridge object returned by bootstrap.js (`require`, `builtin`, `exportNames`).
    bridge: RefCell<Option<JsObject>>,
    /// Loaded modules by absolute path (`node:<name>` for builtins).
    modules: RefCell<HashMap<PathBuf, Module>>,
}

impl Loader {
    /// Gives the loader the JavaScript side it uses for builtins and CommonJS.
    pub fn set_bridge(&self, bridge: JsObject) {
        *self.bridge.borrow_mut() = Some(bridge);
    }

    /// Calls `bridge[method](argument)`.
    fn call_bridge(&self, method: &str, argument: JsValue, context: &mut Context) -> JsResult<JsValue> {
        let bridge = self
            .bridge
            .borrow()
            .clone()
            .ok_or_else(|| JsNativeError::error().with_message("runtime not started"))?;
        let function = bridge.get(JsString::from(method), context)?;
        let function = function
            .as_callable()
            .ok_or_else(|| JsNativeError::typ().with_message(format!("bridge.{method} is not a function")))?;
        function.call(&bridge.into(), &[argument], context)
    }

    /// The module for `target`, loading it the first time.
    pub fn load(&self, target: Target, context: &mut Context) -> JsResult<Module> {
        let key = match &target {
            Target::Builtin(name) => PathBuf::from(format!("node:{name}")),
            Target::File(path) => path.clone(),
        };
        if let Some(module) = self.modules.borrow().get(&key) {
            return Ok(module.clone());
        }
        let module = match target {
            Target::Builtin(name) => {
                let value = self.call_bridge("builtin", JsString::from(name).into(), context)?;
                self.synthetic(value, key.clone(), context)?
            }
            Target::File(path) => self.load_file(&path, context)?,
        };
        self.modules.borrow_mut().insert(key, module.clone());
        Ok(module)
    }

    /// Parses an ESM file, or runs a CommonJS one through `require` and wraps its exports.
    fn load_file(&self, path: &Path, context: &mut Context) -> JsResult<Module> {
        let source = std::fs::read_to_string(path)
            .map_err(|_| JsNativeError::error().with_message(format!("Cannot find module '{}'", path.display())))?;
        if path.extension().is_some_and(|e| e == "json") {
            return Module::parse_json(JsString::from(source.as_str()), context);
        }
        let transpiled = transpile(path, &source).map_err(|message| JsNativeError::syntax().with_message(message))?;
        match transpiled.format {
            Format::Esm => Module::parse(Source::from_bytes(&transpiled.code).with_path(path), None, context),
            Format::CommonJs => {
                let path_string = JsString::from(path.to_string_lossy().as_ref());
                let exports = self.call_bridge("require", path_string.into(), context)?;
                self.synthetic(exports, path.to_path_buf(), context)
            }
        }
    }

    /// A synthetic module exporting `value` as default and its own keys as named exports.
    fn synthetic(&self, value: JsValue, path: PathBuf, context: &mut Context) -> JsResult<Module> {
        let names = self.call_bridge("exportNames", value.clone(), context)?;
        let names = names.as_object().and_then(|o| JsArray::from_object(o).ok());
        let mut export_names = vec![js_string!("default")];
        if let Some(names) = names {
            for index in 0..names.length(context)? {
                export_names.push(names.get(index, context)?.to_string(context)?);
            }
        }
        let initializer = SyntheticModuleInitializer::from_copy_closure_with_captures(
            |module, (value, names): &(JsValue, Vec<JsString>), context| {
                module.set_export(&js_string!("default"), value.clone())?;
                if let Some(object) = value.as_object() {
                    for name in names.iter().skip(1) {
                        module.set_export(name, object.get(name.clone(), context)?)?;
                    }
                }
                Ok(())
            },
            (value, export_names.clone()),
        );
        Ok(Module::synthetic(&export_names, initializer, Some(path), None, context))
    }
}

impl ModuleLoader for Loader {
    fn load_imported_module(
        self: Rc<Self>,
        referrer: Referrer,
        request: boa_engine::module::ModuleRequest,
        context: &RefCell<&mut Context>,
    ) -> impl Future<Output = JsResult<Module>> {
        let from_dir = referrer
            .path()
            .and_then(Path::parent)
            .map_or_else(|| absolute(Path::new(".")), Path::to_path_buf);
        let specifier = request.specifier().to_std_string_escaped();
        let result = resolve(&specifier, &from_dir)
            .map_err(|message| JsNativeError::error().with_message(message).into())
            .and_then(|target| self.load(target, &mut context.borrow_mut()));
        std::future::ready(result)
    }

    /// `import.meta.url`, `import.meta.filename` and `import.meta.dirname`.
    fn init_import_meta(self: Rc<Self>, import_meta: &JsObject, module: &Module, context: &mut Context) {
        let Some(path) = module.path() else { return };
        let dirname = path.parent().unwrap_or(Path::new("/"));
        let properties = [
            ("url", format!("file://{}", path.display())),
            ("filename", path.display().to_string()),
            ("dirname", dirname.display().to_string()),
        ];
        for (key, value) in properties {
            // Defining a property on a fresh ordinary object cannot fail.
            let _ =
                import_meta.create_data_property_or_throw(JsString::from(key), JsString::from(value.as_str()), context);
        }
    }
}
