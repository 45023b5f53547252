/**
 * The gateway's time limits on what clients send (src/http/request-timeouts.ts),
 * with small configured values: headers and ordinary bodies answered 408 and
 * the connection closed; an ingest stream cut by its own limits (idle, whole
 * stream) writes the complete lines already read and answers 408 with the
 * line to resume from; an ingest stream outlives the ordinary request timeout.
 * Every wait is for an event (an answer, a write), never for a clock.
 */
import { type Socket, connect } from 'node:net';
import { request } from 'node:http';
import { readConfig } from '../../src/config';
import { httpTimeouts } from '../../src/http/request-timeouts';
import { ingestLimits } from '../../src/http/ingest';
import { parseTenantId } from '../../src/hub/tenant';
import { type TestGateway, startGateway, uuid } from '../graphql/harness';

interface Report {
  lines: number;
  created: number;
  rejected: number;
  stoppedAtLine?: number;
  errors: { line: number; code: string; message: string }[];
}

const out = (n: number): string =>
  JSON.stringify({
    record_id: uuid(n),
    created_at: '2026-03-01T00:00:00.000Z',
    skill_id: 'timed',
    employee_id: 'e1',
    status: 'SUCCEEDED',
  });

/** Opens a chunked ingest request; the caller writes to it (and may never end it). */
function openIngest(g: TestGateway, token: string) {
  const url = new URL(`${g.url}/ingest/outputs`);
  const req = request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
  });
  // The gateway drops the connection after answering a stream it stopped reading.
  req.on('error', () => undefined);
  const answer = new Promise<{ status: number; body: Report }>((resolve, reject) => {
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString()) as Report }),
      );
      res.on('error', reject);
    });
  });
  return { req, answer };
}

/** Sends raw bytes and resolves with everything the server sent back once it closes the connection. */
function rawExchange(g: TestGateway, text: string): { socket: Socket; reply: Promise<string> } {
  const url = new URL(g.url);
  const socket = connect(Number(url.port), url.hostname);
  const parts: Buffer[] = [];
  const reply = new Promise<string>((resolve) => {
    socket.on('data', (c) => parts.push(c));
    socket.on('close', () => resolve(Buffer.concat(parts).toString()));
    socket.on('error', () => undefined);
  });
  socket.write(text);
  return { socket, reply };
}

/** The tenant's outputs among `ids`, by id. */
async function stored(g: TestGateway, ids: readonly string[]): Promise<string[]> {
  const found = await g.gateway.hub.get(parseTenantId('acme'), 'outputs', ids);
  return found.filter((r) => r !== null).map((r) => r.record_id);
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => uuid(i + 1));

test('an ingest sender idle longer than HUB_INGEST_IDLE_TIMEOUT_MS: the complete lines are written, 408 says where to resume', async () => {
  const g = await startGateway({ ingest: { idleMs: 150 } });
  const token = await g.token('acme', ['hub:write']);
  const { req, answer } = openIngest(g, token);
  // Three whole lines, then half of a fourth, then nothing.
  req.write(`${out(1)}\n${out(2)}\n${out(3)}\n${out(4).slice(0, 30)}`);
  const res = await answer;
  expect(res.status).toBe(408);
  expect(res.body).toMatchObject({ lines: 3, created: 3, rejected: 0, stoppedAtLine: 4 });
  const last = res.body.errors.at(-1);
  expect(last?.code).toBe('TIMEOUT');
  expect(last?.line).toBe(4);
  expect(last?.message).toContain('no bytes arrived for 150 ms (HUB_INGEST_IDLE_TIMEOUT_MS)');
  expect(last?.message).toContain('send the rest from line 4');
  expect(await stored(g, ids(4))).toEqual(ids(3));
  req.destroy();
  await g.close();
});

test('an ingest stream over HUB_INGEST_TIMEOUT_MS: what was acknowledged stays written, nothing after it', async () => {
  const g = await startGateway({ ingest: { maxStreamMs: 300, idleMs: 600_000 } });
  const token = await g.token('acme', ['hub:write']);
  const { req, answer } = openIngest(g, token);
  req.write(`${out(1)}\n${out(2)}\n${out(3)}\n${out(4).slice(0, 30)}`);
  const res = await answer;
  expect(res.status).toBe(408);
  const last = res.body.errors.at(-1);
  expect(last?.code).toBe('TIMEOUT');
  expect(last?.message).toContain('the request took longer than 300 ms (HUB_INGEST_TIMEOUT_MS)');
  // However far the stream got on a busy machine, the answer and the store agree:
  // every line before stoppedAtLine is written, the half line is not.
  const stop = res.body.stoppedAtLine as number;
  expect(stop).toBeGreaterThanOrEqual(1);
  expect(stop).toBeLessThanOrEqual(4);
  expect(res.body.created).toBe(stop - 1);
  expect(await stored(g, ids(4))).toEqual(ids(stop - 1));
  req.destroy();
  await g.close();
});

test('an ingest stream outlives HUB_REQUEST_TIMEOUT_MS, which cuts an ordinary request sent alongside', async () => {
  const g = await startGateway({ httpTimeouts: { requestMs: 150 }, ingestChunkLines: 1 });
  const token = await g.token('acme', ['hub:write']);
  const { req, answer } = openIngest(g, token);
  req.write(`${out(1)}\n`);
  // A /graphql request whose body never arrives whole: its 408 proves the ordinary limit has passed.
  const slow = rawExchange(
    g,
    `POST /graphql HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\n` +
      `content-length: 1000\r\n\r\n{"query":`,
  );
  const reply = await slow.reply;
  expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  expect(reply).toMatch(/connection: close/i);
  expect(reply).toContain('"code":"TIMEOUT"');
  expect(reply).toContain('within 150 ms (HUB_REQUEST_TIMEOUT_MS)');
  req.end(`${out(2)}\n`);
  const res = await answer;
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ lines: 2, created: 2, rejected: 0 });
  expect(await stored(g, ids(2))).toEqual(ids(2));
  await g.close();
});

test('headers not received within HUB_HEADERS_TIMEOUT_MS: 408 and the connection closed', async () => {
  const g = await startGateway({ httpTimeouts: { headersMs: 150 } });
  const slow = rawExchange(g, 'GET /healthz HTTP/1.1\r\nhost: x\r\n');
  expect(await slow.reply).toMatch(/^HTTP\/1\.1 408 /);
  // A request sent whole is answered as usual.
  const ok = await fetch(`${g.url}/healthz`);
  expect(ok.status).toBe(200);
  await g.close();
});

test('the limits are read from the environment and refused when not positive whole milliseconds', () => {
  const config = readConfig({
    HUB_HEADERS_TIMEOUT_MS: '5000',
    HUB_REQUEST_TIMEOUT_MS: '30000',
    HUB_INGEST_TIMEOUT_MS: '7200000',
    HUB_INGEST_IDLE_TIMEOUT_MS: '120000',
  });
  expect(config.httpTimeouts).toEqual({ headersMs: 5000, requestMs: 30000 });
  expect(config.ingest).toMatchObject({ maxStreamMs: 7_200_000, idleMs: 120_000 });
  expect(() => readConfig({ HUB_INGEST_TIMEOUT_MS: '0' })).toThrow(
    /HUB_INGEST_TIMEOUT_MS must be a positive/,
  );
  expect(() => readConfig({ HUB_REQUEST_TIMEOUT_MS: '1.5' })).toThrow(/HUB_REQUEST_TIMEOUT_MS/);
  expect(() => httpTimeouts({ headersMs: -1 })).toThrow(RangeError);
  expect(() => ingestLimits({ idleMs: 0 })).toThrow(RangeError);
  expect(httpTimeouts()).toEqual({ headersMs: 20_000, requestMs: 60_000 });
  expect(ingestLimits()).toMatchObject({ maxStreamMs: 3_600_000, idleMs: 60_000 });
});
