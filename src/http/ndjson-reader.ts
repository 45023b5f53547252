/**
 * A streaming NDJSON reader for `/ingest`: bytes in, numbered lines out,
 * holding at most one line at a time, and that line bounded.
 *
 * A line's JSON text is kept only up to `maxTextBytes`; one top-level string
 * field (the artifact `body`, in base64) can be "spilled": its characters are
 * never kept as text but decoded from base64 and hashed (SHA-256) as they
 * arrive, in pieces the size of the socket's chunks, so a 10 MiB body is
 * never a 14 MB string, never one `JSON.parse`, never one synchronous decode
 * or hash. The parsed line then carries the decoded bytes in that field, and
 * their digest is remembered (see `rememberSha256`) so validation does not
 * hash them again.
 *
 * Limits are checked as bytes arrive; a line over one of them stops being
 * held at once (the rest of it is skipped) and comes out as `invalid` with a
 * message naming the field being read and, when already seen, the record id.
 */
import { type Hash, createHash } from 'node:crypto';
import { isBase64Run } from '../hub/base64';
import { rememberSha256 } from '../hub/provenance';

/** Bounds of one line. */
export interface LineLimits {
  /** Most bytes of one line as sent, spilled field included. */
  readonly maxLineBytes: number;
  /** Most bytes of a line's JSON text held for parsing (everything but the spilled field). */
  readonly maxTextBytes: number;
  /** A top-level string field decoded from base64 as it streams (the artifact `body`). */
  readonly spill?: { readonly field: string; readonly maxBytes: number };
  /** Name of the setting behind `maxLineBytes`, for messages. */
  readonly lineLimitName?: string;
}

/** One line read. `bytes` is what the reader held for it (text plus decoded bytes). */
export type LineItem =
  | { readonly kind: 'record'; readonly line: number; readonly value: unknown; readonly bytes: number }
  | { readonly kind: 'blank'; readonly line: number }
  | { readonly kind: 'invalid'; readonly line: number; readonly message: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
/** Longest key or record id kept for messages. */
const MAX_NAME = 128;

/** Splits a byte stream into bounded, parsed lines (see the module comment). */
export class NdjsonReader {
  private line = 0;
  // Per line:
  private sent = 0;
  private parts: Buffer[] = [];
  private textBytes = 0;
  private failed: string | undefined;
  private started = false;
  private topIsObject = false;
  private depth = 0;
  private inString = false;
  private escape = false;
  /** The string being read is a key of the top-level object. */
  private stringIsKey = false;
  /** The next token at depth 1 is a key (after `{` or `,`). */
  private expectKey = false;
  /** Key of the top-level value being read (or last read). */
  private key = '';
  /** The top-level key whose string value is being read. */
  private valueKey: string | undefined;
  private captured = '';
  private recordId: string | undefined;
  private spill: Base64Sink | undefined;
  private spilled: { bytes: Buffer } | undefined;
  /** Within the segment being scanned: where the text to keep starts. */
  private keepFrom = 0;
  /** Within the segment being scanned: the next backslash (-1: none left; -2: not searched yet). */
  private nextBackslash = -2;

  constructor(private readonly limits: LineLimits) {}

  /** Bytes held for the line being read (text and decoded bytes). */
  get heldBytes(): number {
    return this.textBytes + (this.spill?.size ?? 0) + (this.spilled?.bytes.length ?? 0);
  }

  /** Most bytes one line can hold: what a caller must leave room for. */
  get maxHeldPerLine(): number {
    return this.limits.maxTextBytes + (this.limits.spill?.maxBytes ?? 0);
  }

  /** Feeds a chunk; returns the lines it completed, in order. */
  push(chunk: Buffer): LineItem[] {
    const out: LineItem[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      this.feed(chunk.subarray(start, nl < 0 ? chunk.length : nl));
      if (nl < 0) break;
      out.push(this.finish());
      start = nl + 1;
    }
    return out;
  }

  /** Ends the stream: the last line if it had no newline. */
  end(): LineItem[] {
    return this.sent > 0 || this.failed !== undefined ? [this.finish()] : [];
  }

  private feed(seg: Buffer): void {
    if (seg.length === 0) return;
    this.sent += seg.length;
    if (this.failed !== undefined) return;
    this.scan(seg);
    if (this.failed !== undefined) return;
    const limitName = this.limits.lineLimitName ?? 'the line limit';
    if (this.sent > this.limits.maxLineBytes) {
      this.fail(`line is longer than ${this.limits.maxLineBytes} bytes (${limitName})`);
    } else if (this.textBytes > this.limits.maxTextBytes) {
      const spill = this.limits.spill ? ` other than ${this.limits.spill.field}` : '';
      this.fail(`the record's fields${spill} take more than ${this.limits.maxTextBytes} bytes of JSON`);
    }
  }

  /** Runs the JSON state machine over `seg`, keeping the text and routing a spilled string. */
  private scan(seg: Buffer): void {
    const n = seg.length;
    this.keepFrom = 0;
    this.nextBackslash = -2;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        i = this.stringRun(seg, i);
        if (i < 0) return; // the line failed: nothing more is kept
      } else {
        this.structural(seg, i);
        i++;
      }
    }
    if (!this.spill) this.keep(seg, this.keepFrom, n);
  }

  /**
   * Reads the string being read from `seg[i]`: one escaped character, or up
   * to the next escape, its closing quote or the segment's end (a spilled
   * value is decoded as it goes, a key or record id captured).
   * @returns where the scan goes on; -1 when the line failed.
   */
  private stringRun(seg: Buffer, i: number): number {
    if (this.escape) {
      if (this.spill) this.spill.escaped(seg[i] as number);
      else if (this.captureOn()) this.captured += String.fromCharCode(seg[i] as number);
      this.escape = false;
      return i + 1;
    }
    const n = seg.length;
    const q = seg.indexOf(QUOTE, i);
    const end = q < 0 ? n : q;
    const b = this.backslashFrom(seg, i);
    const stop = Math.min(end, b);
    if (this.spill) this.spill.write(seg, i, stop);
    else if (this.captureOn() && this.captured.length < MAX_NAME) {
      this.captured += seg.toString('latin1', i, Math.min(stop, i + MAX_NAME));
    }
    if (this.spill?.problem) {
      this.fail(this.spill.problem);
      return -1;
    }
    if (b < end) {
      this.escape = true;
      return b + 1;
    }
    if (q < 0) return n;
    return this.closeQuote(q) ? q + 1 : -1;
  }

  /** The next backslash of `seg` at or after `from` (its length when none), searched once per backslash. */
  private backslashFrom(seg: Buffer, from: number): number {
    if (this.nextBackslash !== -1 && this.nextBackslash < from) {
      this.nextBackslash = seg.indexOf(BACKSLASH, from);
    }
    return this.nextBackslash < 0 ? seg.length : this.nextBackslash;
  }

  /**
   * The closing quote of a string at `q`: a spilled value is finished, and the
   * text keeps `""` in its place. @returns false when the line failed.
   */
  private closeQuote(q: number): boolean {
    this.inString = false;
    if (this.spill) {
      const result = this.spill.finish();
      if (typeof result === 'string') {
        this.fail(result);
        return false;
      }
      this.spilled = { bytes: result };
      this.spill = undefined;
      this.keepFrom = q;
    }
    this.closeString();
    return true;
  }

  /** A character outside strings: a quote opens one; brackets, commas and colons move the state. */
  private structural(seg: Buffer, i: number): void {
    const c = seg[i] as number;
    switch (c) {
      case QUOTE:
        this.openString();
        if (this.spill) {
          this.keep(seg, this.keepFrom, i + 1);
          this.keepFrom = seg.length; // set again at the closing quote
        }
        break;
      case 0x7b: // {
      case 0x5b: // [
        if (!this.started) this.topIsObject = c === 0x7b;
        this.depth++;
        if (this.depth === 1 && this.topIsObject) this.expectKey = true;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        this.depth--;
        break;
      case 0x2c: // ,
        if (this.depth === 1 && this.topIsObject) this.expectKey = true;
        break;
      case 0x3a: // :
        if (this.depth === 1) this.valueKey = this.key;
        break;
      default:
        break;
    }
    if (c > 0x20) this.started = true;
  }

  private captureOn(): boolean {
    return this.stringIsKey || (this.depth === 1 && this.valueKey === 'record_id');
  }

  private openString(): void {
    this.inString = true;
    this.started = true;
    this.captured = '';
    this.stringIsKey = this.depth === 1 && this.topIsObject && this.expectKey;
    if (this.stringIsKey) {
      this.expectKey = false;
      this.valueKey = undefined;
      return;
    }
    const spill = this.limits.spill;
    if (spill && this.depth === 1 && this.topIsObject && this.valueKey === spill.field) {
      if (this.spilled) return this.fail(`${spill.field}: appears more than once`);
      this.spill = new Base64Sink(spill.field, spill.maxBytes);
    }
  }

  private closeString(): void {
    if (this.stringIsKey) this.key = this.captured.slice(0, MAX_NAME);
    else if (this.depth === 1 && this.valueKey === 'record_id')
      this.recordId = this.captured.slice(0, MAX_NAME);
    this.stringIsKey = false;
    if (this.depth === 1) this.valueKey = undefined;
  }

  private keep(seg: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.parts.push(seg.subarray(from, to));
    this.textBytes += to - from;
  }

  /** Stops holding the line: the rest of it is skipped, and it ends as `invalid`. */
  private fail(message: string): void {
    if (this.failed !== undefined) return;
    const field = this.inString && !this.stringIsKey ? (this.valueKey ?? this.key) : this.key;
    const where = field && !message.startsWith(`${field}:`) ? ` (while reading field "${field}")` : '';
    const id = this.recordId ? ` (record_id ${this.recordId})` : '';
    this.failed = `${message}${where}${id}`;
    this.parts = [];
    this.textBytes = 0;
    this.spill = undefined;
    this.spilled = undefined;
  }

  private finish(): LineItem {
    const line = ++this.line;
    const text = this.failed === undefined ? Buffer.concat(this.parts, this.textBytes).toString('utf8') : '';
    const failed = this.failed;
    const spilled = this.spilled;
    const open = this.spill !== undefined || this.inString;
    const bytes = this.heldBytes;
    this.reset();
    if (failed !== undefined) return { kind: 'invalid', line, message: failed };
    if (text.trim() === '') return { kind: 'blank', line };
    if (open) return { kind: 'invalid', line, message: 'not valid JSON' };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'invalid', line, message: 'not valid JSON' };
    }
    const field = this.limits.spill?.field;
    if (spilled && field !== undefined) {
      // The text held `""` where the spilled string was; JSON.parse keeps the last of repeated keys.
      const obj = value as Record<string, unknown>;
      if (obj[field] !== '') return { kind: 'invalid', line, message: `${field}: appears more than once` };
      obj[field] = spilled.bytes;
    }
    return { kind: 'record', line, value, bytes };
  }

  private reset(): void {
    this.sent = 0;
    this.parts = [];
    this.textBytes = 0;
    this.failed = undefined;
    this.started = false;
    this.topIsObject = false;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.stringIsKey = false;
    this.expectKey = false;
    this.key = '';
    this.valueKey = undefined;
    this.captured = '';
    this.recordId = undefined;
    this.spill = undefined;
    this.spilled = undefined;
  }
}

/**
 * Decodes a base64 string as it streams and hashes the bytes (SHA-256): the
 * same acceptance rule as validation (`[A-Za-z0-9+/]`, `=` padding only at
 * the end, a length that is a multiple of 4), JSON's `\/` accepted for `/`.
 */
class Base64Sink {
  private carry = '';
  /** `=` characters seen: only more `=` may follow, two at most. */
  private pads = 0;
  private readonly pieces: Buffer[] = [];
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  problem: string | undefined;

  constructor(
    private readonly field: string,
    private readonly maxBytes: number,
  ) {}

  write(seg: Buffer, from: number, to: number): void {
    if (to > from) this.add(seg.toString('latin1', from, to));
  }

  /** The byte after a backslash: only `\/` can occur in base64 text. */
  escaped(byte: number): void {
    if (byte === 0x2f) this.add('/');
    else this.problem = `${this.field}: must be base64`;
  }

  private add(text: string): void {
    if (this.problem !== undefined) return;
    if (this.pads > 0 ? /[^=]/.test(text) || this.pads + text.length > 2 : !isBase64Run(text)) {
      this.problem = `${this.field}: must be base64`;
      return;
    }
    if (this.pads > 0) this.pads += text.length;
    else if (text.endsWith('=')) this.pads = text.length - text.replace(/=+$/, '').length;
    const all = this.carry + text;
    const whole = all.length - (all.length % 4);
    this.carry = all.slice(whole);
    if (whole === 0) return;
    const bytes = Buffer.from(all.slice(0, whole), 'base64');
    this.size += bytes.length;
    if (this.size > this.maxBytes) {
      this.problem = `${this.field}: is more than ${this.maxBytes} bytes; the limit is ${this.maxBytes}`;
      return;
    }
    this.hash.update(bytes);
    this.pieces.push(bytes);
  }

  /** The decoded bytes (their digest remembered), or a problem. */
  finish(): Buffer | string {
    if (this.problem !== undefined) return this.problem;
    if (this.carry.length > 0) return `${this.field}: must be base64`;
    const bytes = Buffer.concat(this.pieces, this.size);
    rememberSha256(bytes, this.hash.digest('hex'));
    return bytes;
  }
}
