/**
 * The OTLP export's worker thread (tracing-worker-processor.ts) from the
 * owner's side: it never keeps a process alive that its owner did not shut
 * down, `shutdown()` as a process's last step still delivers, and a worker
 * that fails to start, dies or stops answering drops spans without blocking
 * a request or leaving a flush or shutdown waiting for ever.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { NOOP_TRACER, type Tracer, installTracer } from '../../src/platform/tracing';
import { createOtelTracer } from '../../src/platform/tracing-otel';
import { WorkerSpanProcessor } from '../../src/platform/tracing-worker-processor';
import { type TestGateway, startGateway } from '../graphql/harness';
import { OtlpReceiver } from '../support/otlp-receiver';

const root = resolve(__dirname, '../..');
const faulty = (name: string): string => join(root, 'test/support/tracing-workers', `${name}.cjs`);
const SETTINGS = { endpoint: 'http://127.0.0.1:1', sampler: 'always_on' } as const;
const WORKER = {
  url: 'http://127.0.0.1:1/v1/traces',
  headers: {},
  resourceAttributes: { 'service.name': 'hub-gateway' },
  scope: { name: 'hub-gateway' },
};

/**
 * Runs tracing-exit-child.ts in `mode` and resolves once it exits by itself.
 * A child still alive after 30 s is killed, which fails the caller's
 * assertion on its exit (a guard against hanging the suite, not a timing check).
 */
function runChild(
  mode: string,
  endpoint: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((done, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, 'bin/run-ts.cjs'), 'test/observability/tracing-exit-child.ts', mode, endpoint],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      done({ code, signal, out });
    });
  });
}

describe('the export worker never keeps a process alive', () => {
  const receiver = new OtlpReceiver();
  let endpoint: string;

  beforeAll(async () => {
    endpoint = await receiver.start();
  });
  afterAll(() => receiver.stop());

  test('a tracer whose owner never shuts it down, with spans posted and spans waiting: the process exits', async () => {
    const r = await runChild('abandon', endpoint);
    expect(r).toEqual({ code: 0, signal: null, out: 'ended\n' });
  });

  test('a refused setting leaves no worker behind: the process exits', async () => {
    const r = await runChild('refused', endpoint);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^refused: OTEL_TRACES_SAMPLER_ARG/);
  });

  test('shutdown() started as the last step holds the process until the spans are exported, then it exits', async () => {
    receiver.clear();
    const r = await runChild('shutdown', endpoint);
    expect(r).toEqual({ code: 0, signal: null, out: 'shut\n' });
    expect(receiver.spans.filter((s) => s.name === 'last-words')).toHaveLength(3);
  });
});

describe('an orderly shutdown', () => {
  test('exports what was ended, reports no failure, is shared by a second call, and spans after it are dropped', async () => {
    const receiver = new OtlpReceiver();
    const url = `${await receiver.start()}/v1/traces`;
    const errors: Error[] = [];
    const processor = new WorkerSpanProcessor({ ...WORKER, url, onError: (e) => errors.push(e) });
    const t = createOtelTracer(SETTINGS, { processor });
    t.startRoot('before', 'internal').end();
    await t.flush();
    expect(receiver.spans.map((s) => s.name)).toEqual(['before']);
    const first = t.shutdown();
    expect(t.shutdown()).toBe(first);
    await first;
    t.startRoot('after', 'internal').end();
    await t.flush();
    expect(receiver.spans.map((s) => s.name)).toEqual(['before']);
    // The worker's exit on terminate() is the shutdown's, not a failure.
    expect(errors).toEqual([]);
    await receiver.stop();
  });
});

describe('a failed worker drops spans and never blocks a request', () => {
  const BY_ID = `query { output(id: "0190a1b2-0000-7000-8000-00000000e001") { id } }`;
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw.close();
    installTracer(NOOP_TRACER);
  });

  /** A tracer over the worker script `name`, installed; `failed` resolves with the first onError. */
  function tracerOver(name: string, waitMs?: number): { t: Tracer; errors: Error[]; failed: Promise<Error> } {
    const errors: Error[] = [];
    let reported: (err: Error) => void = () => undefined;
    const failed = new Promise<Error>((r) => (reported = r));
    const processor = new WorkerSpanProcessor({
      ...WORKER,
      workerFile: faulty(name),
      ...(waitMs === undefined ? {} : { waitMs }),
      onError: (err) => {
        errors.push(err);
        reported(err);
      },
    });
    const t = createOtelTracer(SETTINGS, { processor });
    installTracer(t);
    return { t, errors, failed };
  }

  /** Serves a few traced by-id requests; each must answer. */
  async function serveSome(n: number): Promise<void> {
    const token = await gw.token('acme');
    for (let i = 0; i < n; i++) {
      const r = await gw.gql(token, BY_ID);
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual({ output: null });
    }
  }

  test('a worker that dies on its first batch: reported once, requests keep being served, flush and shutdown resolve', async () => {
    const { t, errors, failed } = tracerOver('dies');
    await serveSome(3);
    // The flush posts the batch the worker dies on; the death answers the flush.
    await t.flush();
    expect((await failed).message).toMatch(/exited with code 3/);
    await serveSome(300);
    await t.flush();
    await t.shutdown();
    expect(errors).toHaveLength(1);
  });

  test('a worker that fails to start: reported once with its error, requests served, flush and shutdown resolve', async () => {
    const { t, errors, failed } = tracerOver('throws');
    await serveSome(3);
    expect((await failed).message).toMatch(/failed to start/);
    await serveSome(3);
    await t.flush();
    await t.shutdown();
    expect(errors).toHaveLength(1);
  });

  test('a worker that never answers: requests served, flush and shutdown give up after waitMs and the worker is ended', async () => {
    const { t, errors } = tracerOver('silent', 50);
    await serveSome(3);
    await expect(t.flush()).rejects.toThrow(/did not answer flush within 50 ms/);
    await serveSome(3);
    await expect(t.shutdown()).rejects.toThrow(/did not answer shutdown within 50 ms/);
    // Ended by the shutdown, not failed: nothing to report, and nothing waits any more.
    await t.flush();
    expect(errors).toEqual([]);
  });
});
