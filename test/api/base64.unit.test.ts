/**
 * `decodeBase64Into` (NDJSON commits decode every line of a big file with it, from the request's
 * bytes into one reused buffer): the same bytes as a reference decoder for valid text, whitespace
 * ignored, and the same refusals as before for anything else (bad characters, a length not a
 * multiple of 4, padding that is not at the end).
 */
import { describe, expect, it } from 'vitest';
import { base64Room, decodeBase64, decodeBase64Into } from '../../src/http/api/body.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('base64 decoding into a buffer', () => {
  it('decodes what Buffer encodes, for every length and padding', () => {
    const out = new Uint8Array(base64Room(4000));
    for (let n = 0; n < 300; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 131 + n * 7) & 0xff);
      const text = Buffer.from(bytes).toString('base64');
      const written = decodeBase64Into(ascii(text), out);
      expect(out.subarray(0, written)).toEqual(bytes);
      expect(decodeBase64(text)).toEqual(bytes);
    }
  });

  it('ignores whitespace, as the JSON body always did', () => {
    expect(decodeBase64(' aGVs\nbG8g\td29y bGQ=\r\n')).toEqual(ascii('hello world'));
  });

  it('refuses what is not strict base64', () => {
    for (const bad of ['a', 'abc', 'ab=c', 'a===', '====', '==', 'ab==cd==', 'aGVsbG8*', 'aGVs bG8=x', 'é', 'aGVsbG8=\u0000']) {
      expect(() => decodeBase64(bad, 'line 3 content'), bad).toThrow(/line 3 content is not valid base64/);
    }
    expect(decodeBase64('')).toEqual(new Uint8Array(0));
  });
});
