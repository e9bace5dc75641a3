// `pi:worker/session`: the conversation and the live events, in memory.

/** A session's conversation: entries with sequence numbers, an optional summary, events. */
export class MemorySession {
  constructor() {
    this.entries = [];
    this.summary = undefined;
    this.nextSeq = 1n;
    this.events = [];
    this.abortRequested = false;
  }

  /** The WIT functions, bound to this session. */
  imports() {
    return {
      history: () => ({ summary: this.summary, entries: [...this.entries] }),
      append: (entries) => {
        for (const { message, promptTokens } of entries) this.entries.push({ seq: this.nextSeq++, message, promptTokens });
        return this.nextSeq - 1n;
      },
      compact: (summary, keepFrom, tokensBefore) => {
        const kept = keepFrom === 0n ? this.entries.length : this.entries.findIndex((e) => e.seq === keepFrom);
        if (kept < 0) throw { payload: `message ${keepFrom} is not in the model's view` };
        const message = this.entries[kept]?.message;
        if (message?.content.some((block) => block.tag === 'tool-result')) {
          throw { payload: `message ${keepFrom} is a tool result: keep its call too` };
        }
        this.summary = { seq: this.nextSeq++, text: summary };
        this.entries = this.entries.slice(kept);
        this.events.push({ tag: 'compaction', val: { tokensBefore, tokensAfter: 0n } });
      },
      aborted: () => this.abortRequested,
      emit: (event) => {
        this.events.push(event);
      },
    };
  }
}
