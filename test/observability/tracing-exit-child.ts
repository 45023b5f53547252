/**
 * Child process for tracing-worker.test.ts: builds a tracer exporting to the
 * OTLP endpoint in argv[3] and does what the mode in argv[2] says, printing a
 * line when done. Nothing here keeps the process alive: the test asserts
 * that the process then exits by itself.
 *   abandon  - ends 300 sampled root spans (one batch posted to the export
 *              worker, the rest waiting on this thread) and never shuts down
 *   refused  - a setting the tracer refuses (no tracer results)
 *   shutdown - ends 3 spans named `last-words` and starts `shutdown()`
 *              without awaiting it: the spans must still reach the collector
 */
import { createTracer } from '../../src/platform/tracing';

const [mode, endpoint] = process.argv.slice(2);

switch (mode) {
  case 'abandon': {
    const t = createTracer({ endpoint, sampler: 'always_on' });
    for (let i = 0; i < 300; i++) t.startRoot('abandoned', 'internal').end();
    console.log('ended');
    break;
  }
  case 'refused':
    try {
      createTracer({ endpoint, sampler: 'traceidratio', samplerArg: '2' });
    } catch (err) {
      console.log(`refused: ${(err as Error).message}`);
    }
    break;
  case 'shutdown': {
    const t = createTracer({ endpoint, sampler: 'always_on' });
    for (let i = 0; i < 3; i++) t.startRoot('last-words', 'internal').end();
    void t.shutdown().then(() => console.log('shut'));
    break;
  }
  default:
    throw new Error(`tracing-exit-child: unknown mode ${mode}`);
}
