// Public face of the shared memory: the named word offsets and value constants (offsets.ts), the
// regions they make up (regions.ts), and the SharedState that carries the buffer, its views and
// one accessor object per concept.
// Import from here; offsets.ts stays free of imports so every shm module can depend on it.

export * from './offsets.ts';
export * from './regions.ts';
export { SharedState } from './shared-state.ts';
