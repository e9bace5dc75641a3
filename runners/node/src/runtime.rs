//! A Boa context set up like node: globals from bootstrap.js, the ESM loader, the job queue
//! and unhandled-rejection tracking.

use std::path::Path;
use std::rc::Rc;

use boa_engine::builtins::promise::PromiseState;
use boa_engine::job::SimpleJobExecutor;
use boa_engine::object::builtins::JsPromise;
use boa_engine::{Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, Script, Source};

use crate::hooks::Hooks;
use crate::loader::Loader;
use crate::resolve::Target;

/// The engine with node's globals installed.
pub struct Runtime {
    /// The Boa context.
    context: Context,
    /// The module loader (shared with the context).
    loader: Rc<Loader>,
    /// The rejection tracker (shared with the context).
    hooks: Rc<Hooks>,
    /// The object bootstrap.js returned.
    bridge: JsObject,
}

impl Runtime {
    /// Creates the context and runs bootstrap.js.
    pub fn new() -> JsResult<Self> {
        let loader = Rc::new(Loader::default());
        let hooks = Rc::new(Hooks::default());
        let mut context = Context::builder()
            .job_executor(Rc::new(SimpleJobExecutor::new()))
            .module_loader(loader.clone())
            .host_hooks(hooks.clone())
            .build()?;
        let source = Source::from_bytes(crate::builtins::BOOTSTRAP).with_path(Path::new("node:internal/bootstrap"));
        let factory = Script::parse(source, None, &mut context)?.evaluate(&mut context)?;
        let natives = crate::natives::natives(&mut context);
        let bridge = call(&factory, &JsValue::undefined(), &[natives.into()], &mut context)?
            .as_object()
            .ok_or_else(|| JsNativeError::typ().with_message("bootstrap returned no bridge"))?;
        loader.set_bridge(bridge.clone());
        Ok(Self {
            context,
            loader,
            hooks,
            bridge,
        })
    }

    /// Runs the script at `path` (absolute) to completion and returns the exit code.
    pub fn run_main(&mut self, path: &Path) -> i32 {
        match self.evaluate_main(path) {
            Ok(()) => self.finish(),
            Err(error) => self.report(&error),
        }
    }

    /// Loads, links and evaluates the entry module, then drains the job queue.
    fn evaluate_main(&mut self, path: &Path) -> JsResult<()> {
        let main = JsString::from(path.to_string_lossy().as_ref());
        self.call_bridge("setMain", main.into())?;
        let module = self.loader.load(Target::File(path.to_path_buf()), &mut self.context)?;
        let promise = module.load_link_evaluate(&mut self.context);
        self.context.run_jobs()?;
        match promise.state() {
            PromiseState::Rejected(reason) => Err(JsError::from_opaque(reason)),
            PromiseState::Pending => {
                let message = "Warning: Detected unsettled top-level await";
                eprintln!("{message}");
                crate::exit(13)
            }
            PromiseState::Fulfilled(_) => Ok(()),
        }
    }

    /// After the queue is empty: an unhandled rejection fails the run, otherwise `process`
    /// emits `exit` and its `exitCode` is returned.
    fn finish(&mut self) -> i32 {
        if let Some(promise) = self.hooks.first_unhandled()
            && let Ok(promise) = JsPromise::from_object(promise.upcast())
            && let PromiseState::Rejected(reason) = promise.state()
        {
            return self.report(&JsError::from_opaque(reason));
        }
        match self.call_bridge("emitExit", JsValue::undefined()) {
            Ok(code) => code.to_i32(&mut self.context).unwrap_or(1),
            Err(error) => self.report(&error),
        }
    }

    /// Prints an uncaught error like node does and returns exit code 1.
    fn report(&mut self, error: &JsError) -> i32 {
        let Ok(value) = error.clone().into_opaque(&mut self.context) else {
            eprintln!("Uncaught {error}");
            return 1;
        };
        if self.call_bridge("report", value).is_err() {
            eprintln!("Uncaught {error}");
        }
        1
    }

    /// Calls `bridge[method](argument)`.
    fn call_bridge(&mut self, method: &str, argument: JsValue) -> JsResult<JsValue> {
        let function = self.bridge.get(JsString::from(method), &mut self.context)?;
        call(&function, &self.bridge.clone().into(), &[argument], &mut self.context)
    }
}

/// Calls `function` if it is callable.
fn call(function: &JsValue, this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let function = function
        .as_callable()
        .ok_or_else(|| JsNativeError::typ().with_message("not a function"))?;
    function.call(this, args, context)
}
