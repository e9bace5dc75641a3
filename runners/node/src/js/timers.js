// node:timers: the global timer functions, and timers/promises-style setTimeout as `promises`.
(function (pw, load) {
  "use strict";
  const { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate } = globalThis;
  const promises = { setTimeout: (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms)) };
  return { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, promises };
})
