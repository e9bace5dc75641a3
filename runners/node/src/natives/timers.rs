//! `setTimeout`/`setInterval` on Boa's job executor, with cancellation by id.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use boa_engine::job::{CancellationToken, IntervalJob, NativeJob, NativeJobFn, TimeoutJob};
use boa_engine::object::builtins::JsFunction;
use boa_engine::{Context, JsNativeError, JsResult, JsValue};

use super::arg;

thread_local! {
    /// Cancellation tokens of the pending timers, by id.
    static TIMERS: RefCell<HashMap<u32, CancellationToken>> = RefCell::new(HashMap::new());
    /// The id of the next timer.
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

/// `setTimer(callback, milliseconds, repeat)`: returns the timer's id.
pub fn set_timer(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let callback = args
        .first()
        .and_then(JsValue::as_callable)
        .and_then(JsFunction::from_object)
        .ok_or_else(|| JsNativeError::typ().with_message("The \"callback\" argument must be of type function"))?;
    let millis: f64 = arg(args, 1, context)?;
    let millis = if millis.is_finite() && millis > 0.0 {
        millis as u64
    } else {
        0
    };
    let repeat: bool = arg(args, 2, context)?;
    let id = NEXT_ID.get();
    NEXT_ID.set(id + 1);
    let token = if repeat {
        let job = IntervalJob::new(
            NativeJobFn::new(move |context| callback.call(&JsValue::undefined(), &[], context)),
            millis.max(1),
        );
        let token = job.cancellation_token().clone();
        context.enqueue_job(job.into());
        token
    } else {
        let job = TimeoutJob::new(
            NativeJob::new(move |context| {
                TIMERS.with_borrow_mut(|timers| timers.remove(&id));
                callback.call(&JsValue::undefined(), &[], context)
            }),
            millis,
        );
        let token = job.cancellation_token().clone();
        context.enqueue_job(job.into());
        token
    };
    TIMERS.with_borrow_mut(|timers| timers.insert(id, token));
    Ok(id.into())
}

/// `clearTimer(id)`: cancels a pending timer; unknown ids are ignored.
pub fn clear_timer(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let id: f64 = arg(args, 0, context)?;
    if let Some(token) = TIMERS.with_borrow_mut(|timers| timers.remove(&(id as u32))) {
        token.cancel(context);
    }
    Ok(JsValue::undefined())
}
