// node:util: inspect (from internal/inspect), format (%s %d %i %f %j %o %O %%), deep equality,
// promisify, and formatUncaught for errors that end the process.
(function (pw, load) {
  "use strict";
  const { inspect } = load("internal/inspect");

  function format(...args) {
    if (typeof args[0] !== "string") return args.map((a) => (typeof a === "string" ? a : inspect(a))).join(" ");
    let rest = args.slice(1);
    let text = args[0].replace(/%([sdifjoOc%])/g, (match, spec) => {
      if (spec === "%") return "%";
      if (!rest.length) return match;
      const arg = rest.shift();
      switch (spec) {
        case "s": return typeof arg === "string" ? arg : typeof arg === "object" && arg !== null ? inspect(arg, { depth: 1 }) : String(arg);
        case "d": case "i": {
          if (typeof arg === "bigint") return `${arg}n`;
          const n = Number(arg);
          return String(spec === "i" ? Math.trunc(n) : n);
        }
        case "f": return String(parseFloat(arg));
        case "j": try { return JSON.stringify(arg); } catch { return "[Circular]"; }
        case "c": return "";
        default: return inspect(arg, { depth: spec === "o" ? 4 : 2 });
      }
    });
    for (const arg of rest) text += " " + (typeof arg === "string" ? arg : inspect(arg));
    return text;
  }

  function isDeepEqual(a, b, strict, seen = []) {
    if (strict ? Object.is(a, b) : a == b || (a !== a && b !== b)) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (seen.some(([x, y]) => x === a && y === b)) return true;
    seen = [...seen, [a, b]];
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
    if (a instanceof RegExp && b instanceof RegExp) return String(a) === String(b);
    if (a instanceof Map && b instanceof Map) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) if (!b.has(k) || !isDeepEqual(v, b.get(k), strict, seen)) return false;
      return true;
    }
    if (a instanceof Set && b instanceof Set) {
      if (a.size !== b.size) return false;
      for (const v of a) if (!b.has(v) && ![...b].some((w) => isDeepEqual(v, w, strict, seen))) return false;
      return true;
    }
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isDeepEqual(a[k], b[k], strict, seen));
  }

  function formatUncaught(error) {
    return error instanceof Error ? inspect(error) : "Uncaught " + inspect(error);
  }

  function promisify(fn) {
    return (...args) => new Promise((resolve, reject) => {
      fn(...args, (error, value) => (error ? reject(error) : resolve(value)));
    });
  }

  return {
    inspect,
    format,
    formatUncaught,
    promisify,
    isDeepStrictEqual: (a, b) => isDeepEqual(a, b, true),
    isDeepEqual,
    types: { isPromise: (v) => v instanceof Promise, isDate: (v) => v instanceof Date, isRegExp: (v) => v instanceof RegExp },
    inherits(ctor, superCtor) { Object.setPrototypeOf(ctor.prototype, superCtor.prototype); Object.setPrototypeOf(ctor, superCtor); },
    TextEncoder: globalThis.TextEncoder,
    TextDecoder: globalThis.TextDecoder,
  };
})
