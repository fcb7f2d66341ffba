// Query and form decoding used by the plugins: keys named like Object
// properties are plain keys.
import { describe, expect, it } from 'vitest';
import { parseForm, parseQuery } from '../../host/plugins/body.js';

describe('query and form decoding', () => {
  it('decodes repeated keys, bare keys and + as space', () => {
    expect(parseQuery('a=1&a=2&flag&b=x+y%21')).toEqual({ a: ['1', '2'], flag: null, b: 'x y!' });
    expect(parseQuery('')).toEqual({});
  });

  it('handles empty parts, = in values, malformed escapes and three repeats', () => {
    expect(parseQuery('a=1&&b&=x&c=d=e&&')).toEqual({ a: '1', b: null, '': 'x', c: 'd=e' });
    expect(parseQuery('k=1&k=2&k')).toEqual({ k: ['1', '2', ''] });
    expect(parseQuery('bad=%zz+1&ok=%C3%A9')).toEqual({ bad: '%zz 1', ok: 'é' });
    expect(parseQuery('constructor=only')).toEqual({ constructor: 'only' });
  });

  it('keys like constructor, toString and __proto__ are ordinary keys', () => {
    const q = parseQuery('constructor=1&toString=2&__proto__=3&constructor=4');
    expect(JSON.parse(JSON.stringify(q))).toEqual(JSON.parse('{"constructor":["1","4"],"toString":"2","__proto__":"3"}'));
    expect(Object.getPrototypeOf(q)).toBe(Object.prototype);
    const f = parseForm('constructor=a&valueOf=b&__proto__=c');
    expect(JSON.parse(JSON.stringify(f))).toEqual(JSON.parse('{"constructor":"a","valueOf":"b","__proto__":"c"}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
