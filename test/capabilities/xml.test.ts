import { describe, expect, it } from 'vitest';
import { jsonToXml, MAX_XML_DEPTH, MAX_XML_SIZE, XmlError, xmlToJson } from '../../host/capabilities/xml.js';

const catalog = `<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns:x="urn:x">
  <book id="bk101" available="true">
    <author>Gambardella, Matthew</author>
    <price>44.95</price>
    <tags><tag>xml</tag><tag>dev</tag></tags>
  </book>
  <book id="bk102" available="false">
    <author>Ralls, Kim</author>
    <price>5.95</price>
    <x:note>null</x:note>
  </book>
  <empty/>
</catalog>`;

describe('xmlToJson', () => {
  it('converts elements, repeated elements to arrays, empty elements to {}; strings by default', () => {
    expect(xmlToJson(catalog, {})).toEqual({
      catalog: {
        '@xmlns:x': 'urn:x',
        book: [
          {
            '@id': 'bk101',
            '@available': 'true',
            author: 'Gambardella, Matthew',
            price: '44.95',
            tags: { tag: ['xml', 'dev'] },
          },
          { '@id': 'bk102', '@available': 'false', author: 'Ralls, Kim', price: '5.95', 'x:note': 'null' },
        ],
        empty: {},
      },
    });
  });

  it('recognize_type turns numbers, booleans and null into typed values (elements and attributes)', () => {
    const r = xmlToJson('<r a="30" b="false"><n>30</n><f>-1.5e2</f><t>true</t><z>null</z><s>007</s><big>123456789012345678901</big><w> x </w></r>', {
      recognize_type: true,
    });
    expect(r).toEqual({ r: { '@a': 30, '@b': false, n: 30, f: -150, t: true, z: null, s: '007', big: '123456789012345678901', w: 'x' } });
  });

  it('attributes_block_name groups attributes in one object', () => {
    expect(xmlToJson('<r id="1" k="v"><c x="y">t</c></r>', { attributes_block_name: '#attr' })).toEqual({
      r: { '#attr': { id: '1', k: 'v' }, c: { '#attr': { x: 'y' }, '#text': 't' } },
    });
  });

  it('attributes_name_prefix prefixes attribute keys (the convert-xml-into-json flow)', () => {
    const opts = { attributes_block_name: null, attributes_name_prefix: '-', recognize_type: true, text_block_name: '#text', xpath: null };
    expect(xmlToJson('<person age="30" admin="false">Ann<nick>an</nick></person>', opts)).toEqual({
      person: { '-age': 30, '-admin': false, nick: 'an', '#text': 'Ann' },
    });
    expect(xmlToJson('<p a="1"/>', { attributes_name_prefix: '' })).toEqual({ p: { a: '1' } });
  });

  it('text_block_name names the text of mixed / attributed elements', () => {
    expect(xmlToJson('<a k="1">hello <b>x</b> world</a>', { text_block_name: '_text' })).toEqual({
      a: { '@k': '1', b: 'x', _text: 'hello  world' },
    });
    expect(xmlToJson('<a>plain</a>', { text_block_name: '_text' })).toEqual({ a: 'plain' });
  });

  it('decodes predefined entities, numeric references and CDATA; leaves unknown entities as written', () => {
    expect(xmlToJson('<a q="&quot;&apos;">&lt;&gt;&amp; &#65;&#x42; <![CDATA[<raw & stuff>]]> &nbsp;</a>', {})).toEqual({
      a: { '@q': `"'`, '#text': '<>& AB <raw & stuff> &nbsp;' },
    });
  });

  it('root_element_name unwraps the named root element (inverse of json_to_xml)', () => {
    expect(xmlToJson('<root><a>1</a><b>2</b></root>', { root_element_name: 'root' })).toEqual({ a: '1', b: '2' });
    // another root name: returned as a normal document
    expect(xmlToJson('<other><a>1</a></other>', { root_element_name: 'root' })).toEqual({ other: { a: '1' } });
  });

  describe('xpath', () => {
    const x = (xpath: string, extra = {}) => xmlToJson(catalog, { xpath, ...extra });
    it('absolute paths select a sub-tree', () => {
      expect(x('/catalog/book[1]/author')).toEqual({ author: 'Gambardella, Matthew' });
      expect(x('/catalog/book/price', { recognize_type: true })).toEqual({ price: [44.95, 5.95] });
      expect(x('/catalog/book[2]')).toEqual({
        book: { '@id': 'bk102', '@available': 'false', author: 'Ralls, Kim', price: '5.95', 'x:note': 'null' },
      });
    });
    it('relative paths start at the document node', () => {
      expect(x('catalog/book/tags/tag')).toEqual({ tag: ['xml', 'dev'] });
    });
    it('// descendant search, * wildcard, [last()], positional per parent', () => {
      expect(x('//tag')).toEqual({ tag: ['xml', 'dev'] });
      expect(x('//tag[1]')).toEqual({ tag: 'xml' });
      expect(x('//book[last()]/author')).toEqual({ author: 'Ralls, Kim' });
      expect(x('/catalog/*[3]')).toEqual({ empty: {} });
      expect(x('/catalog/book[1]/*')).toEqual({
        author: 'Gambardella, Matthew',
        price: '44.95',
        tags: { tag: ['xml', 'dev'] },
      });
    });
    it('@attr and text() return scalar values; several matches give an array', () => {
      expect(x('/catalog/book[1]/@id')).toBe('bk101');
      expect(x('//book/@id')).toEqual(['bk101', 'bk102']);
      expect(x('//book/@available', { recognize_type: true })).toEqual([true, false]);
      expect(x('//author/text()')).toEqual(['Gambardella, Matthew', 'Ralls, Kim']);
      expect(x('//x:note/text()', { recognize_type: true })).toBe(null);
    });
    it('predicates on attributes and child values; . and ..', () => {
      expect(x('//book[@id="bk102"]/author')).toEqual({ author: 'Ralls, Kim' });
      expect(x("//book[author='Gambardella, Matthew']/@id")).toBe('bk101');
      expect(x('//book[tags]/@id')).toBe('bk101');
      expect(x('//tag[text()="dev"]/../../@id')).toBe('bk101');
      expect(x('/catalog/./empty')).toEqual({ empty: {} });
    });
    it('no match gives null; unsupported syntax is an XmlError', () => {
      expect(x('/catalog/nothing')).toBeNull();
      expect(() => x('/catalog/book[position()>1]')).toThrow(/invalid xpath .*unsupported predicate/);
      expect(() => x('count(//book)')).toThrow(XmlError);
      expect(() => x('/catalog/book[1')).toThrow(/unterminated predicate/);
      expect(() => x('/catalog/')).toThrow(/missing step/);
    });
  });

  describe('failures', () => {
    it('bad XML fails with the parser message', () => {
      expect(() => xmlToJson('<a><b></a>', {})).toThrow(XmlError);
      expect(() => xmlToJson('<a><b></a>', {})).toThrow(/^invalid XML: Expected closing tag 'b' .* \(line 1, column \d+\)$/);
      expect(() => xmlToJson('not xml', {})).toThrow(/^invalid XML/);
      expect(() => xmlToJson('', {})).toThrow('invalid XML: empty document');
      expect(() => xmlToJson('<a/><b/>', {})).toThrow(/^invalid XML/);
      expect(() => xmlToJson(42 as unknown as string, {})).toThrow('xml_to_json expects a string, got number');
    });

    it('rejects XXE (external entity) documents without touching the file system', () => {
      const xxe = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>';
      expect(() => xmlToJson(xxe, {})).toThrow('DOCTYPE and ENTITY declarations are not allowed (entity expansion is disabled)');
      const param = '<!DOCTYPE foo [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]><foo/>';
      expect(() => xmlToJson(param, {})).toThrow(XmlError);
    });

    it('rejects billion-laughs documents quickly', () => {
      const lol =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
        Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
        ']><lolz>&lol9;</lolz>';
      const t0 = Date.now();
      expect(() => xmlToJson(lol, {})).toThrow(/DOCTYPE/);
      expect(Date.now() - t0).toBeLessThan(100);
    });

    it('never expands an entity reference without a declaration', () => {
      expect(xmlToJson('<a>&lol9;&xxe;</a>', {})).toEqual({ a: '&lol9;&xxe;' });
    });

    it('bounds the input size', () => {
      const huge = '<a>' + 'x'.repeat(MAX_XML_SIZE) + '</a>';
      expect(() => xmlToJson(huge, {})).toThrow(/^XML document too large: \d+ characters \(limit 10485760\)$/);
    });

    it('bounds the nesting depth (no stack overflow, no hang)', () => {
      const ok = '<a>'.repeat(MAX_XML_DEPTH) + '</a>'.repeat(MAX_XML_DEPTH);
      expect(() => xmlToJson(ok, {})).not.toThrow();
      const deep = '<a>'.repeat(MAX_XML_DEPTH + 1) + '</a>'.repeat(MAX_XML_DEPTH + 1);
      expect(() => xmlToJson(deep, {})).toThrow(`XML nesting too deep: more than ${MAX_XML_DEPTH} levels`);
      const t0 = Date.now();
      const insane = '<a>'.repeat(500_000) + '</a>'.repeat(500_000);
      expect(() => xmlToJson(insane, {})).toThrow(/nesting too deep/);
      expect(Date.now() - t0).toBeLessThan(2000);
    });

    it('does not pollute prototypes', () => {
      // the parser refuses reserved names; attribute names are stored with defineProperty
      expect(() => xmlToJson('<r><__proto__><polluted>yes</polluted></__proto__></r>', {})).toThrow(/invalid XML: .*__proto__/);
      expect(() => xmlToJson('<r constructor="x"/>', { attributes_name_prefix: '' })).toThrow(XmlError);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});

describe('jsonToXml', () => {
  it('single-key object becomes the document element; arrays repeat elements', () => {
    expect(jsonToXml({ order: { id: 7, items: [{ sku: 'a' }, { sku: 'b' }], paid: true, note: null } }, {})).toBe(
      '<order><id>7</id><items><sku>a</sku></items><items><sku>b</sku></items><paid>true</paid><note/></order>',
    );
  });

  it('several top-level keys, scalars and top-level arrays are wrapped in <root> (or root_element_name)', () => {
    expect(jsonToXml({ a: 1, b: 'x' }, {})).toBe('<root><a>1</a><b>x</b></root>');
    expect(jsonToXml({ a: 1, b: 'x' }, { root_element_name: 'doc' })).toBe('<doc><a>1</a><b>x</b></doc>');
    expect(jsonToXml({ a: 1 }, { root_element_name: 'doc' })).toBe('<doc><a>1</a></doc>');
    expect(jsonToXml([1, { x: 2 }], {})).toBe('<root><item>1</item><item><x>2</x></item></root>');
    expect(jsonToXml('hi', {})).toBe('<root>hi</root>');
    expect(jsonToXml(3.5, {})).toBe('<root>3.5</root>');
    expect(jsonToXml(null, {})).toBe('<root/>');
    expect(jsonToXml({ list: [1, 2] }, {})).toBe('<root><list>1</list><list>2</list></root>');
  });

  it('attributes with a prefix (the convert-json-into-xml flow) and text blocks', () => {
    const opts = { attributes_name_prefix: '-', attributes_block_name: null, text_block_name: '#text' };
    expect(jsonToXml({ person: { '-age': 30, '-admin': false, '#text': 'Ann', nick: 'an' } }, opts)).toBe(
      '<person age="30" admin="false">Ann<nick>an</nick></person>',
    );
    // default prefix is @
    expect(jsonToXml({ p: { '@id': 'x', v: 1 } }, {})).toBe('<p id="x"><v>1</v></p>');
  });

  it('attributes block (the json-to-xml-and-back flow) round-trips through xmlToJson', () => {
    const value = { order: { '#attr': { id: '7', currency: 'EUR' }, line: [{ '#attr': { n: '1' }, '#text': 'pen' }, { '#attr': { n: '2' }, '#text': 'ink' }], total: '3' } };
    const xml = jsonToXml(value, { attributes_block_name: '#attr' });
    expect(xml).toBe('<order id="7" currency="EUR"><line n="1">pen</line><line n="2">ink</line><total>3</total></order>');
    expect(xmlToJson(xml, { attributes_block_name: '#attr' })).toEqual(value);
  });

  it('root_element_name round-trips a multi-key object', () => {
    const v = { a: '1', b: { c: '2' } };
    expect(xmlToJson(jsonToXml(v, { root_element_name: 'envelope' }), { root_element_name: 'envelope' })).toEqual(v);
  });

  it('custom text_block_name', () => {
    expect(jsonToXml({ a: { _t: 'x', '@k': 'v' } }, { text_block_name: '_t' })).toBe('<a k="v">x</a>');
  });

  it('escapes text and attribute values', () => {
    expect(jsonToXml({ a: { '@q': `"<&>'\n`, '#text': '<b>&amp;</b>' } }, {})).toBe(
      '<a q="&quot;&lt;&amp;&gt;\'&#10;">&lt;b&gt;&amp;amp;&lt;/b&gt;</a>',
    );
    expect(xmlToJson(jsonToXml({ a: '</a><evil/>' }, {}), {})).toEqual({ a: '</a><evil/>' });
  });

  it('accepts a JSON string body', () => {
    expect(jsonToXml('{"a":{"b":1}}', {})).toBe('<a><b>1</b></a>');
  });

  it('fails clearly on values XML cannot carry', () => {
    expect(() => jsonToXml({ '1bad': 1 }, {})).toThrow('invalid XML element name "1bad"');
    expect(() => jsonToXml({ 'a b': 1 }, {})).toThrow(XmlError);
    expect(() => jsonToXml({ a: '\u0001' }, {})).toThrow('value contains a character that is not allowed in XML');
    expect(() => jsonToXml({ a: { '@x': { y: 1 } } }, {})).toThrow('attribute "x" of <a> must be a string, number or boolean');
    expect(() => jsonToXml({ a: { '#attr': 'no' } }, { attributes_block_name: '#attr' })).toThrow(/must be an object/);
    expect(() => jsonToXml({ a: Infinity }, {})).toThrow(/cannot be represented/);
    expect(() => jsonToXml({}, { root_element_name: '<bad>' })).toThrow(XmlError);
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < MAX_XML_DEPTH + 5; i++) {
      const next = {};
      deep.n = next;
      deep = next;
    }
    expect(() => jsonToXml(top, {})).toThrow(/JSON nesting too deep/);
  });
});
