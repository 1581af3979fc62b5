/**
 * Where the engine finds its remote client and webhooks. They are installed (`enableRemotes`),
 * not imported by engine.ts, so a browser bundle that never calls `enableRemotes` carries none
 * of their code; the Node entry (`node.ts`) and the CLI install them at load.
 */
import type { Kv } from './storage/kv.js';
import type { EngineEvents, RemoteEngineOptions } from './webhooks/services.js';

type Factory = (kv: Kv, options: RemoteEngineOptions, repoId: (name: string) => Promise<number>) => EngineEvents;

let factory: Factory | undefined;

/** Installs the factory engines opened from now on use. */
export function installEngineEvents(f: Factory): void {
  factory = f;
}

/** The services for a new engine, or undefined where none were installed. */
export function engineEvents(kv: Kv, options: RemoteEngineOptions, repoId: (name: string) => Promise<number>): EngineEvents | undefined {
  return factory?.(kv, options, repoId);
}
