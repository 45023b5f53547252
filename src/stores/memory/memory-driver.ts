import type { StoreDriver } from '../driver';
import { createMemoryStore } from './memory-store';

/** `memory:`: an in-process store that forgets everything on exit (tests and demos only). */
export const memoryDriver: StoreDriver = {
  schemes: ['memory'],
  async open() {
    return createMemoryStore();
  },
  async migrate() {
    return [];
  },
};
