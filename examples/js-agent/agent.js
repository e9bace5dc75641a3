// A minimal pi-worker agent in JavaScript, built into a component with `jco componentize`
// against ../../wit. A system prompt, a tool loop and three tools: read, write and ls.

import { complete } from 'pi:worker/llm@0.2.2';
import { read, write, list } from 'pi:worker/workspace@0.2.2';
import { history, append, aborted, emit } from 'pi:worker/session@0.2.2';

const SYSTEM = 'You are a small coding agent. Use the tools to read and change the files of the workspace, then answer briefly.';

const TOOLS = [
  { name: 'read', description: 'Read a file of the workspace.', inputSchema: JSON.stringify({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }) },
  { name: 'write', description: 'Create or replace a file.', inputSchema: JSON.stringify({ type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] }) },
  { name: 'ls', description: 'List a directory.', inputSchema: JSON.stringify({ type: 'object', properties: { path: { type: 'string' } } }) },
];

function runTool(name, args) {
  switch (name) {
    case 'read':
      return new TextDecoder().decode(read(args.path));
    case 'write':
      write(args.path, new TextEncoder().encode(args.content));
      return `wrote ${args.content.length} characters to ${args.path}`;
    case 'ls':
      return list(args.path ?? '/').map((e) => e.path + (e.kind === 'directory' ? '/' : '')).join('\n');
    default:
      throw new Error(`unknown tool ${name}`);
  }
}

/** The WIT error a JS exception carries, as text. */
function describe(e) {
  const payload = e?.payload ?? e;
  return payload?.tag ? `${payload.tag}: ${payload.val ?? ''}` : String(e?.message ?? e);
}

export const agent = {
  chat(request) {
    const user = { role: 'user', content: [{ tag: 'text', val: request.message }] };
    append([{ message: user, promptTokens: 0n }]);
    const usage = { inputTokens: 0n, outputTokens: 0n, cacheReadTokens: 0n, cacheWriteTokens: 0n };
    const toolCalls = [];
    let response = '';
    for (let turn = 0; turn < request.maxTurns; turn++) {
      if (aborted()) return { response, toolCalls, usage, outcome: 'aborted' };
      const context = history();
      const messages = context.entries.map((e) => e.message);
      let stream;
      try {
        stream = complete({ model: request.model, system: SYSTEM, messages, tools: TOOLS, maxTokens: 4096 });
      } catch (e) {
        throw { tag: 'llm', val: e.payload ?? { tag: 'protocol', val: String(e) } };
      }
      const content = [];
      let text = '';
      for (let event = stream.next(); event; event = stream.next()) {
        if (event.tag === 'text-delta') {
          text += event.val;
          emit({ tag: 'text-delta', val: event.val });
        } else if (event.tag === 'tool-call') {
          content.push({ tag: 'tool-call', val: event.val });
        } else {
          for (const key of Object.keys(usage)) usage[key] += event.val.usage[key];
        }
      }
      if (text) content.unshift({ tag: 'text', val: text });
      append([{ message: { role: 'assistant', content }, promptTokens: 0n }]);
      response = text;
      const calls = content.filter((b) => b.tag === 'tool-call').map((b) => b.val);
      if (!calls.length) return { response, toolCalls, usage, outcome: 'done' };
      const results = calls.map((call) => {
        emit({ tag: 'tool-start', val: { id: call.id, tool: call.name, args: call.arguments } });
        toolCalls.push({ tool: call.name, args: call.arguments });
        let result;
        let isError = false;
        try {
          result = runTool(call.name, JSON.parse(call.arguments || '{}'));
        } catch (e) {
          [result, isError] = [describe(e), true];
        }
        emit({ tag: 'tool-end', val: { id: call.id, tool: call.name, isError, result } });
        return { tag: 'tool-result', val: { callId: call.id, content: result, isError } };
      });
      append([{ message: { role: 'user', content: results }, promptTokens: 0n }]);
    }
    return { response, toolCalls, usage, outcome: 'turn-limit' };
  },
};
