//! Host hooks: tracks promises rejected without a handler, so that an unhandled rejection
//! ends the process like in node.

use std::cell::RefCell;

use boa_engine::builtins::promise::{OperationType, Promise};
use boa_engine::context::HostHooks;
use boa_engine::{Context, JsObject};

/// Remembers rejected promises that have no handler yet.
#[derive(Default)]
pub struct Hooks {
    /// Rejected promises without a handler, oldest first.
    unhandled: RefCell<Vec<JsObject<Promise>>>,
}

impl Hooks {
    /// The first promise still rejected without a handler.
    pub fn first_unhandled(&self) -> Option<JsObject<Promise>> {
        self.unhandled.borrow().first().cloned()
    }
}

impl HostHooks for Hooks {
    fn promise_rejection_tracker(&self, promise: &JsObject<Promise>, operation: OperationType, _: &mut Context) {
        let mut unhandled = self.unhandled.borrow_mut();
        match operation {
            OperationType::Reject => unhandled.push(promise.clone()),
            OperationType::Handle => {
                unhandled.retain(|p| !JsObject::equals(&p.clone().upcast(), &promise.clone().upcast()))
            }
        }
    }
}
