// node:assert and node:assert/strict: AssertionError with node's messages and code.
(function (pw, load) {
  "use strict";
  const util = load("util");
  class AssertionError extends Error {
    constructor(options) {
      super(options.message);
      this.name = "AssertionError";
      this.generatedMessage = !options.userMessage;
      this.code = "ERR_ASSERTION";
      this.actual = options.actual;
      this.expected = options.expected;
      this.operator = options.operator;
    }
  }
  const show = (v) => util.inspect(v, { depth: 4 });
  function fail(message, actual, expected, operator, generated) {
    if (message instanceof Error) throw message;
    throw new AssertionError({ message: message ?? generated, userMessage: message !== undefined, actual, expected, operator });
  }
  function ok(value, message) {
    if (!value) fail(message, value, true, "==", `The expression evaluated to a falsy value:\n\n  assert.ok(${show(value)})\n`);
  }
  function diff(kind, actual, expected) {
    return `${kind}:\n\n${show(actual)} !== ${show(expected)}\n`;
  }
  function matches(error, expected) {
    if (expected === undefined) return true;
    if (typeof expected === "function") {
      if (expected.prototype !== undefined && error instanceof expected) return true;
      if (Error.isPrototypeOf(expected) || expected === Error) return false;
      return expected(error) === true;
    }
    if (expected instanceof RegExp) return expected.test(String(error && error.message !== undefined ? error.message : error)) || expected.test(String(error));
    if (typeof expected === "object") {
      return Object.keys(expected).every((k) => expected[k] instanceof RegExp && typeof error[k] === "string"
        ? expected[k].test(error[k])
        : util.isDeepStrictEqual(error[k], expected[k]));
    }
    return false;
  }
  function checkThrown(threw, error, expected, message, operator) {
    if (typeof expected === "string") { message = expected; expected = undefined; }
    if (!threw) fail(message, undefined, expected, operator, `Missing expected ${operator === "rejects" ? "rejection" : "exception"}.`);
    if (!matches(error, expected)) {
      if (typeof expected === "function" && !(expected.prototype !== undefined && error instanceof expected) && (Error.isPrototypeOf(expected) || expected === Error)) {
        fail(message, error, expected, operator, `The error is expected to be an instance of "${expected.name}". Received "${error && error.name}"\n\nError message:\n\n${error && error.message}`);
      }
      fail(message, error, expected, operator, `The input did not match the expected value.\n\n${show(error)}`);
    }
  }
  function make(strict) {
    const assert = (value, message) => ok(value, message);
    Object.assign(assert, {
      AssertionError,
      ok,
      fail: (message = "Failed") => fail(message, undefined, undefined, "fail", message),
      strictEqual(actual, expected, message) {
        if (!Object.is(actual, expected)) fail(message, actual, expected, "strictEqual", diff("Expected values to be strictly equal", actual, expected));
      },
      notStrictEqual(actual, expected, message) {
        if (Object.is(actual, expected)) fail(message, actual, expected, "notStrictEqual", `Expected "actual" to be strictly unequal to: ${show(expected)}`);
      },
      deepStrictEqual(actual, expected, message) {
        if (!util.isDeepStrictEqual(actual, expected)) fail(message, actual, expected, "deepStrictEqual", `Expected values to be strictly deep-equal:\n\n${show(actual)}\n\nshould equal\n\n${show(expected)}\n`);
      },
      notDeepStrictEqual(actual, expected, message) {
        if (util.isDeepStrictEqual(actual, expected)) fail(message, actual, expected, "notDeepStrictEqual", `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`);
      },
      throws(fn, expected, message) {
        let threw = false;
        let error;
        try { fn(); } catch (e) { threw = true; error = e; }
        checkThrown(threw, error, expected, message, "throws");
      },
      doesNotThrow(fn, message) {
        try { fn(); } catch (e) { fail(message, e, undefined, "doesNotThrow", `Got unwanted exception.\nActual message: "${e && e.message}"`); }
      },
      async rejects(promiseOrFn, expected, message) {
        let threw = false;
        let error;
        try { await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn); } catch (e) { threw = true; error = e; }
        checkThrown(threw, error, expected, message, "rejects");
      },
      async doesNotReject(promiseOrFn, message) {
        try { await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn); } catch (e) { fail(message, e, undefined, "doesNotReject", `Got unwanted rejection.\nActual message: "${e && e.message}"`); }
      },
      match(text, regexp, message) {
        if (!regexp.test(text)) fail(message, text, regexp, "match", `The input did not match the regular expression ${regexp}. Input:\n\n${show(text)}\n`);
      },
      doesNotMatch(text, regexp, message) {
        if (regexp.test(text)) fail(message, text, regexp, "doesNotMatch", `The input was expected to not match the regular expression ${regexp}. Input:\n\n${show(text)}\n`);
      },
      ifError(value) { if (value !== null && value !== undefined) throw value; },
    });
    if (strict) {
      assert.equal = assert.strictEqual;
      assert.notEqual = assert.notStrictEqual;
      assert.deepEqual = assert.deepStrictEqual;
      assert.notDeepEqual = assert.notDeepStrictEqual;
    } else {
      assert.equal = (actual, expected, message) => {
        if (!(actual == expected || (actual !== actual && expected !== expected))) fail(message, actual, expected, "==", `${show(actual)} == ${show(expected)}`);
      };
      assert.notEqual = (actual, expected, message) => {
        if (actual == expected) fail(message, actual, expected, "!=", `${show(actual)} != ${show(expected)}`);
      };
      assert.deepEqual = (actual, expected, message) => {
        if (!util.isDeepEqual(actual, expected, false)) fail(message, actual, expected, "deepEqual", `Expected values to be loosely deep-equal:\n\n${show(actual)}\n\nshould loosely deep-equal\n\n${show(expected)}`);
      };
      assert.notDeepEqual = (actual, expected, message) => {
        if (util.isDeepEqual(actual, expected, false)) fail(message, actual, expected, "notDeepEqual", `"actual" deepEqual "expected"`);
      };
    }
    return assert;
  }
  const assert = make(false);
  assert.strict = make(true);
  assert.strict.strict = assert.strict;
  return assert;
})
