/**
 * ChunkWriter (src/http/ingest-writer.ts): a batch's write starts in a turn
 * of the event loop after the one that asked for it (the line completing the
 * batch was joined in that turn; both copies in one turn held the loop), and
 * every line of it is then written and counted.
 */
import { randomUUID } from 'node:crypto';
import { ChunkWriter, IngestTally } from '../../src/http/ingest-writer';
import { Hub } from '../../src/hub/hub';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { GatewayMetrics } from '../../src/platform/metrics';
import { createMemoryStore } from '../../src/stores/memory/memory-store';

test('the write of a batch starts in a later turn, then writes every line', async () => {
  const events: string[] = [];
  const inner = createMemoryStore();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'putBatch' || typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        events.push('write');
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as HubStore;
  const tally = new IngestTally('outputs', new GatewayMetrics());
  const writer = new ChunkWriter(new Hub(store), parseTenantId('acme'), tally);
  for (let line = 1; line <= 3; line++)
    writer.add(line, { record_id: randomUUID(), skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' }, 100);
  setImmediate(() => events.push('other work'));
  await writer.flush();
  expect(events).toEqual(['other work', 'write']);
  expect(tally).toMatchObject({ created: 3, rejected: 0 });
});
