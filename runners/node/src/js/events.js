// node:events: EventEmitter (on/once/off/emit/listenerCount/removeAllListeners) and once().
(function (pw, load) {
  "use strict";
  class EventEmitter {
    #listeners = new Map();
    on(event, listener) {
      if (!this.#listeners.has(event)) this.#listeners.set(event, []);
      this.#listeners.get(event).push(listener);
      return this;
    }
    once(event, listener) {
      const wrapper = (...args) => { this.off(event, wrapper); listener.apply(this, args); };
      wrapper.listener = listener;
      return this.on(event, wrapper);
    }
    off(event, listener) {
      const list = this.#listeners.get(event) ?? [];
      const index = list.findIndex((l) => l === listener || l.listener === listener);
      if (index >= 0) list.splice(index, 1);
      return this;
    }
    emit(event, ...args) {
      const list = [...(this.#listeners.get(event) ?? [])];
      if (event === "error" && !list.length) throw args[0] instanceof Error ? args[0] : new Error(`Unhandled error. (${args[0]})`);
      for (const listener of list) listener.apply(this, args);
      return list.length > 0;
    }
    listenerCount(event) { return (this.#listeners.get(event) ?? []).length; }
    listeners(event) { return (this.#listeners.get(event) ?? []).map((l) => l.listener ?? l); }
    eventNames() { return [...this.#listeners.keys()].filter((k) => this.#listeners.get(k).length); }
    removeAllListeners(event) {
      if (event === undefined) this.#listeners.clear();
      else this.#listeners.delete(event);
      return this;
    }
    setMaxListeners() { return this; }
  }
  EventEmitter.prototype.addListener = EventEmitter.prototype.on;
  EventEmitter.prototype.removeListener = EventEmitter.prototype.off;
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.once = (emitter, event) => new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
  return EventEmitter;
})
