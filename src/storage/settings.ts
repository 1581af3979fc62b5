/**
 * Engine-wide settings kept in the database (`'G' setting/<name>`), for values every process
 * over one database must share without being told: the token signing secret of `level-git
 * serve --db`. A setting is written once, by the first process that needs it; processes that
 * start at the same moment agree because the read-then-write runs under the shared `RefLock`.
 */
import { utf8 } from '../platform/bytes.js';
import type { RefLock } from '../refs/lock.js';
import { TAG } from './keys.js';
import type { Kv } from './kv.js';

/** Key of a setting: `'G' setting/<name>`. */
export function settingKey(name: string): Uint8Array {
  const n = utf8(`setting/${name}`);
  const k = new Uint8Array(1 + n.length);
  k[0] = TAG.global;
  k.set(n, 1);
  return k;
}

/** The setting `name`; when missing, `create()`'s value, stored once across racing processes (under `lock`). */
export async function sharedSetting(kv: Kv, lock: RefLock, name: string, create: () => Uint8Array): Promise<Uint8Array> {
  const key = settingKey(name);
  const found = await kv.get(key);
  if (found !== undefined) return found;
  return lock.run(`setting/${name}`, async () => {
    const again = await kv.get(key);
    if (again !== undefined) return again;
    const value = create();
    await kv.batch([{ type: 'put', key, value }]);
    return value;
  });
}
