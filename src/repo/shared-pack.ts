/**
 * One pack generation read by any number of requests at their own pace (pack-cache.ts). The
 * producer starts with the first read and pulls the pack as fast as the store yields it, into
 * a list of chunks; each reader keeps its own position in that list, so a reader whose client
 * stopped reading delays nobody. While the pack fits the cache entry bound every chunk is kept
 * (it becomes the entry); past it ("oversized") chunks every reader has passed are dropped, the
 * producer stays at most the bound ahead of the slowest reader, and stops when no reader is left.
 */
import type { CachedPack, PackAnswer } from './pack-cache.js';

/** What the cache hears from a shared pack. */
export interface SharedPackEvents {
  /** The first read started the producer. */
  started: () => void;
  /** The pack grew past the entry bound: it will not be cached (no new readers should join). */
  oversized: () => void;
  /** The producer ended: the complete pack when it fits the bound, else undefined. */
  ended: (entry: CachedPack | undefined) => void;
}

/** A generation shared by its readers; see the module comment. */
export class SharedPack {
  readonly #answer: PackAnswer;
  readonly #limit: number;
  readonly #events: SharedPackEvents;
  /** Produced chunks by position; a dropped one (oversized, every reader past it) is undefined. */
  readonly #chunks: (Uint8Array | undefined)[] = [];
  readonly #readers = new Set<{ pos: number }>();
  #bytes = 0;
  /** Bytes of the chunks still held. */
  #held = 0;
  /** Chunks below this position are dropped. */
  #dropped = 0;
  #started = false;
  #oversized = false;
  #done = false;
  #failed: { error: unknown } | undefined;
  #wake!: () => void;
  #changed: Promise<void>;

  constructor(answer: PackAnswer, limit: number, events: SharedPackEvents) {
    this.#answer = answer;
    this.#limit = limit;
    this.#events = events;
    this.#changed = this.#renew();
  }

  #renew(): Promise<void> {
    return new Promise<void>((r) => (this.#wake = r));
  }

  /** Wakes everyone waiting (readers for chunks, the producer for room). */
  #notify(): void {
    const wake = this.#wake;
    this.#changed = this.#renew();
    wake();
  }

  /** A new reader's answer: the shallow boundary and the pack from its first byte. */
  answer(): PackAnswer {
    return { shallow: this.#answer.shallow, unshallow: this.#answer.unshallow, pack: this.#read() };
  }

  async *#read(): AsyncGenerator<Uint8Array> {
    const me = { pos: 0 };
    this.#readers.add(me);
    if (!this.#started) {
      this.#started = true;
      this.#events.started();
      void this.#produce();
    }
    try {
      for (;;) {
        if (me.pos < this.#chunks.length) {
          const chunk = this.#chunks[me.pos++]!;
          if (this.#oversized) this.#release();
          yield chunk;
          continue;
        }
        if (this.#failed) throw this.#failed.error;
        if (this.#done) return;
        await this.#changed;
      }
    } finally {
      this.#readers.delete(me);
      if (this.#oversized) this.#release();
    }
  }

  /** Oversized: drops the chunks every reader has passed, and tells the producer. */
  #release(): void {
    let min = this.#chunks.length;
    for (const r of this.#readers) min = Math.min(min, r.pos);
    for (; this.#dropped < min; this.#dropped++) {
      this.#held -= this.#chunks[this.#dropped]?.length ?? 0;
      this.#chunks[this.#dropped] = undefined;
    }
    this.#notify();
  }

  async #produce(): Promise<void> {
    try {
      for await (const chunk of this.#answer.pack) {
        this.#chunks.push(chunk);
        this.#bytes += chunk.length;
        this.#held += chunk.length;
        if (!this.#oversized && this.#bytes > this.#limit) {
          this.#oversized = true;
          this.#events.oversized();
          this.#release();
        }
        this.#notify();
        // Oversized: not kept for the cache, so only as far ahead of the slowest reader as the bound.
        while (this.#oversized && this.#held > this.#limit && this.#readers.size > 0) await this.#changed;
        if (this.#oversized && this.#readers.size === 0) return; // nobody left to deliver to (closes the source)
      }
      this.#done = true;
    } catch (error) {
      this.#failed = { error };
    } finally {
      const complete = this.#done && !this.#oversized;
      this.#events.ended(
        complete ? { chunks: this.#chunks as Uint8Array[], bytes: this.#bytes, shallow: this.#answer.shallow, unshallow: this.#answer.unshallow } : undefined,
      );
      if (!this.#done && !this.#failed) this.#failed = { error: new Error('pack production stopped') };
      this.#notify();
    }
  }
}
