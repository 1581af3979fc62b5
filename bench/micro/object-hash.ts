/**
 * Object hashing: SHA-1 of `"<type> <size>\0" + body` on the Node platform (node:crypto) and
 * on the portable one (@noble/hashes), one-shot and incremental, for small and large bodies.
 * run: node --import tsx bench/micro/object-hash.ts
 */
import { hashObject, objectHeader } from '../../src/object/oid.js';
import { nodePlatform } from '../../src/platform/node.js';
import { portablePlatform } from '../../src/platform/portable.js';
import { concat } from '../../src/platform/bytes.js';
import { compare } from './micro.js';

function body(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 7)) & 0xff;
  return b;
}

for (const size of [200, 4 * 1024, 256 * 1024]) {
  const data = body(size);
  const header = objectHeader('blob', size);
  await compare(`hash one ${size}-byte blob`, [
    { name: 'hashObject (platform in use)', fn: () => hashObject('blob', data) },
    { name: 'node: sha1(concat(header, body))', fn: () => nodePlatform.sha1(concat([header, data])) },
    {
      name: 'node: createSha1 update×2',
      fn: () => {
        const h = nodePlatform.createSha1();
        h.update(header);
        h.update(data);
        return h.digest();
      },
    },
    {
      name: 'portable: createSha1 update×2',
      fn: () => {
        const h = portablePlatform.createSha1();
        h.update(header);
        h.update(data);
        return h.digest();
      },
    },
  ]);
}
