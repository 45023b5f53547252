import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { describeStoreConformance } from '../conformance/suite';

describeStoreConformance('memory', async () => ({ store: createMemoryStore() }));
