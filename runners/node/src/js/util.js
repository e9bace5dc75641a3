// node:util: inspect (roughly node's output), format (%s %d %i %f %j %o %O %%), deep equality,
// promisify, and formatUncaught for errors that end the process.
(function (pw, load) {
  "use strict";
  const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

  function quote(text) {
    const q = text.includes("'") && !text.includes('"') ? '"' : "'";
    return q + text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(new RegExp(q, "g"), "\\" + q) + q;
  }

  function formatKey(key) {
    if (typeof key === "symbol") return `[${key.toString()}]`;
    return IDENTIFIER.test(key) ? key : quote(key);
  }

  function errorText(error) {
    const stack = typeof error.stack === "string" && error.stack.length > 0 ? error.stack : "";
    let head = `${error.name ?? "Error"}`;
    if (typeof error.code === "string" && error.code.startsWith("ERR_") && !head.includes("[")) head += ` [${error.code}]`;
    head += error.message ? `: ${error.message}` : "";
    const frames = stack.split("\n").filter((line) => /^\s+at /.test(line));
    return frames.length ? head + "\n" + frames.join("\n") : head;
  }

  function inspect(value, options = {}) {
    const depth = options.depth === undefined ? 2 : options.depth === null ? Infinity : options.depth;
    return show(value, depth, [], 0);
  }

  function show(value, depth, seen, level) {
    switch (typeof value) {
      case "string": return level === 0 ? quote(value) : quote(value);
      case "number": return Object.is(value, -0) ? "-0" : String(value);
      case "bigint": return `${value}n`;
      case "symbol": return value.toString();
      case "undefined": return "undefined";
      case "boolean": return String(value);
      case "function": {
        const keys = Object.keys(value);
        const kind = /^class\s/.test(Function.prototype.toString.call(value)) ? "class" : "Function";
        const head = `[${kind}${value.name ? (kind === "class" ? " " : ": ") + value.name : kind === "class" ? " (anonymous)" : " (anonymous)"}]`;
        return keys.length && depth >= 0 ? head + " " + showEntries(value, keys.map((k) => `${formatKey(k)}: ${show(value[k], depth - 1, seen, level + 1)}`), "{", "}") : head;
      }
    }
    if (value === null) return "null";
    if (seen.includes(value)) return "[Circular *1]";
    if (value instanceof Error) {
      const text = errorText(value);
      const keys = Object.keys(value).filter((k) => k !== "stack" && k !== "message" && k !== "name");
      if (!keys.length || depth < 0) return level === 0 ? text : `[${text}]`;
      seen = [...seen, value];
      const body = keys.map((k) => `${formatKey(k)}: ${show(value[k], depth - 1, seen, level + 1)}`);
      return `${level === 0 ? text : `[${text}]`} {\n  ${body.join(",\n  ")}\n}`;
    }
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return value.toString();
    if (value instanceof Promise) return "Promise { <unknown> }";
    if (value instanceof WeakMap || value instanceof WeakSet) return `${value.constructor.name} { <items unknown> }`;
    if (depth < 0) {
      if (Array.isArray(value)) return "[Array]";
      const name = value.constructor && value.constructor.name;
      return `[${name && name !== "Object" ? name : "Object"}]`;
    }
    seen = [...seen, value];
    const next = (v) => show(v, depth - 1, seen, level + 1);
    if (Array.isArray(value)) {
      const items = [];
      let holes = 0;
      for (let i = 0; i < value.length && items.length < 100; i++) {
        if (!(i in value)) { holes++; continue; }
        if (holes) { items.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`); holes = 0; }
        items.push(next(value[i]));
      }
      if (holes) items.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
      if (value.length > 100) items.push(`... ${value.length - 100} more items`);
      for (const k of Object.keys(value)) if (!/^\d+$/.test(k)) items.push(`${formatKey(k)}: ${next(value[k])}`);
      return showEntries(value, items, "[", "]", true);
    }
    if (value instanceof Map) {
      const items = [...value].map(([k, v]) => `${next(k)} => ${next(v)}`);
      return `Map(${value.size}) ` + showEntries(value, items, "{", "}");
    }
    if (value instanceof Set) {
      return `Set(${value.size}) ` + showEntries(value, [...value].map(next), "{", "}", true);
    }
    if (ArrayBuffer.isView(value)) {
      const name = value.constructor.name;
      const items = Array.from(value.subarray(0, 100), (b) => name === "Buffer" ? b.toString(16).padStart(2, "0") : String(b));
      if (name === "Buffer") return `<Buffer${items.length ? " " + items.join(" ") : ""}${value.length > 100 ? " ..." : ""}>`;
      return `${name}(${value.length}) ` + showEntries(value, items, "[", "]", true);
    }
    const keys = [...Object.keys(value), ...Object.getOwnPropertySymbols(value).filter((s) => Object.prototype.propertyIsEnumerable.call(value, s))];
    const items = keys.map((k) => {
      const descriptor = Object.getOwnPropertyDescriptor(value, k);
      if (descriptor && descriptor.get) return `${formatKey(k)}: [Getter${descriptor.set ? "/Setter" : ""}]`;
      return `${formatKey(k)}: ${next(value[k])}`;
    });
    const proto = Object.getPrototypeOf(value);
    const name = proto === null ? "[Object: null prototype]" : proto.constructor && proto.constructor.name;
    const prefix = name && name !== "Object" ? `${name} ` : "";
    if (!items.length) return prefix + "{}";
    return prefix + showEntries(value, items, "{", "}");
  }

  function showEntries(value, items, open, close, compactNumbers) {
    if (!items.length) return `${open}${close}`;
    const single = `${open} ${items.join(", ")} ${close}`;
    if (single.length <= 72 && !items.some((i) => i.includes("\n"))) return single;
    if (compactNumbers && items.length > 6 && items.every((i) => i.length <= 6)) {
      const lines = [];
      for (let i = 0; i < items.length; i += 16) lines.push(items.slice(i, i + 16).join(", "));
      return `${open}\n  ${lines.join(",\n  ")}\n${close}`;
    }
    return `${open}\n  ${items.map((i) => i.replace(/\n/g, "\n  ")).join(",\n  ")}\n${close}`;
  }

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
