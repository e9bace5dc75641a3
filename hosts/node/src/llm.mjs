// `pi:worker/llm` as a scripted model: each `complete` takes the next scripted answer and
// streams it back. A real host would call a provider here.

/**
 * A model that answers from `script`, a list of answers; each answer is a list of
 * `{ text }` or `{ tool, args }` blocks. It records every request it gets.
 */
export class ScriptedModel {
  constructor(script) {
    this.script = [...script];
    this.requests = [];
  }

  /** The WIT functions and the `response-stream` resource. */
  imports() {
    const model = this;
    class ResponseStream {
      constructor(events) {
        this.events = events;
      }
      next() {
        return this.events.shift();
      }
    }
    return {
      ResponseStream,
      complete(request) {
        model.requests.push(request);
        const answer = model.script.shift();
        if (!answer) throw { payload: { tag: 'provider', val: { status: 500, message: 'the script has no more answers' } } };
        let calls = 0;
        const events = answer.map((block) =>
          block.text !== undefined
            ? { tag: 'text-delta', val: block.text }
            : { tag: 'tool-call', val: { id: `call_${model.requests.length}_${++calls}`, name: block.tool, arguments: JSON.stringify(block.args) } },
        );
        const usage = { inputTokens: 100n, outputTokens: 20n, cacheReadTokens: 0n, cacheWriteTokens: 0n };
        events.push({ tag: 'finish', val: { stopReason: calls ? 'tool-use' : 'end-turn', usage } });
        return new ResponseStream(events);
      },
    };
  }
}
