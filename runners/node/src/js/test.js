// node:test: test/it, describe/suite, hooks and skip/todo, run after the main module with
// TAP-like "ok"/"not ok" lines; any failure sets the exit code to 1.
(function (pw, load) {
  "use strict";
  const util = load("util");
  const root = { name: "", tests: [], before: [], after: [], beforeEach: [], afterEach: [], parent: null };
  let current = root;
  let scheduled = false;
  const totals = { pass: 0, fail: 0, skip: 0, todo: 0 };

  function options(args) {
    const name = typeof args[0] === "string" ? args.shift() : (args[0] && args[0].name) || "<anonymous>";
    const opts = typeof args[0] === "object" && args[0] !== null ? args.shift() : {};
    return { name, opts, fn: args[0] };
  }
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(async () => {
      await runSuite(root, "");
      pw.write(1, `# tests ${totals.pass + totals.fail + totals.skip + totals.todo}\n# pass ${totals.pass}\n# fail ${totals.fail}\n`);
      if (totals.skip) pw.write(1, `# skipped ${totals.skip}\n`);
      if (totals.todo) pw.write(1, `# todo ${totals.todo}\n`);
      if (totals.fail) process.exitCode = 1;
    }, 0);
  }
  function test(...args) {
    const { name, opts, fn } = options(args);
    current.tests.push({ kind: "test", name, opts, fn });
    schedule();
    return Promise.resolve();
  }
  function describe(...args) {
    const { name, opts, fn } = options(args);
    const suite = { kind: "suite", name, opts, tests: [], before: [], after: [], beforeEach: [], afterEach: [], parent: current };
    current.tests.push(suite);
    const parent = current;
    current = suite;
    try { if (fn) fn(); } finally { current = parent; }
    schedule();
    return Promise.resolve();
  }
  function hooks(suite, kind) {
    const list = [];
    for (let s = suite; s; s = s.parent) list.unshift(...s[kind]);
    return kind === "afterEach" ? list.reverse() : list;
  }
  async function runSuite(suite, indent) {
    for (const fn of suite.before) await fn();
    let number = 0;
    for (const item of suite.tests) {
      number++;
      if (item.kind === "suite") {
        pw.write(1, `${indent}# Subtest: ${item.name}\n`);
        const before = totals.fail;
        if (item.opts.skip) { totals.skip++; pw.write(1, `${indent}ok ${number} - ${item.name} # SKIP\n`); continue; }
        await runSuite(item, indent + "    ");
        pw.write(1, `${indent}${totals.fail > before ? "not ok" : "ok"} ${number} - ${item.name}\n`);
        continue;
      }
      if (item.opts.skip || item.opts.todo) {
        totals[item.opts.skip ? "skip" : "todo"]++;
        pw.write(1, `${indent}ok ${number} - ${item.name} # ${item.opts.skip ? "SKIP" : "TODO"}\n`);
        continue;
      }
      try {
        for (const fn of hooks(suite, "beforeEach")) await fn();
        const context = { name: item.name, test, skip() {}, todo() {}, diagnostic(m) { pw.write(1, `${indent}# ${m}\n`); } };
        await (item.fn.length >= 2
          ? new Promise((resolve, reject) => item.fn(context, (e) => (e ? reject(e) : resolve())))
          : item.fn(context));
        for (const fn of hooks(suite, "afterEach")) await fn();
        totals.pass++;
        pw.write(1, `${indent}ok ${number} - ${item.name}\n`);
      } catch (error) {
        totals.fail++;
        pw.write(1, `${indent}not ok ${number} - ${item.name}\n`);
        const detail = util.inspect(error).replace(/^/gm, `${indent}  # `);
        pw.write(1, detail + "\n");
      }
    }
    for (const fn of suite.after) await fn();
  }
  const hook = (kind) => (fn) => { current[kind].push(fn); };
  const skipped = (f) => (...args) => { const { name, opts, fn } = options(args); return f(name, { ...opts, skip: true }, fn); };
  test.skip = skipped(test);
  test.todo = (...args) => { const { name, opts, fn } = options(args); return test(name, { ...opts, todo: true }, fn ?? (() => {})); };
  test.only = test;
  describe.skip = skipped(describe);
  describe.only = describe;
  Object.assign(test, {
    test,
    it: test,
    describe,
    suite: describe,
    before: hook("before"),
    after: hook("after"),
    beforeEach: hook("beforeEach"),
    afterEach: hook("afterEach"),
  });
  return test;
})
