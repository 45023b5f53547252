/**
 * The conformance suite on PGlite (the embedded default), in memory, with the
 * same schema, row-level security and application role as on a server.
 */
import { openStore } from '../../src/stores';
import { describeStoreConformance } from '../conformance/suite';

describeStoreConformance('pglite', async () => ({ store: await openStore('pglite:memory') }));
