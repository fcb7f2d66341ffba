// xml_to_json / json_to_xml conversions. Kong documents these nodes on
// developer.konghq.com, plugins/datakit ("XML to JSON node", "JSON to XML
// node", new in 3.13) and in its plugin schema; tests quote the page they follow.
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTES_REQUIRED,
  jsonToXml,
  MAX_XML_DEPTH,
  MAX_XML_SIZE,
  validateJsonToXmlOptions,
  validateXmlToJsonOptions,
  XmlError,
  xmlToJson,
} from '../../host/capabilities/xml.js';

// Kong's example document, shared by both node sections of the page
const KONG_EXAMPLE_XML = `<root>
  <name>Alice</name>
  <age>30</age>
  <is_student>false</is_student>
  <courses>Math</courses>
  <courses>Science</courses>
  <address>
    <street>123 Main St</street>
    <city>Wonderland</city>
  </address>
  <null_value>null</null_value>
</root>`;
const KONG_EXAMPLE_JSON = {
  root: {
    name: 'Alice',
    age: 30,
    is_student: false,
    courses: ['Math', 'Science'],
    address: { street: '123 Main St', city: 'Wonderland' },
    null_value: null,
  },
};

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
  it('Kong docs, "XML to JSON node" example: root kept, repeated elements as a list, 30/false/null typed', () => {
    // the page's node config: root_element_name: root, attributes_block_name: "#attr"
    expect(xmlToJson(KONG_EXAMPLE_XML, { root_element_name: 'root', attributes_block_name: '#attr' })).toEqual(KONG_EXAMPLE_JSON);
    // root_element_name is not in Kong's xml_to_json schema: it changes nothing
    expect(xmlToJson(KONG_EXAMPLE_XML, { attributes_block_name: '#attr' })).toEqual(KONG_EXAMPLE_JSON);
    expect(xmlToJson('<other><a>1</a></other>', { root_element_name: 'root' })).toEqual({ other: { a: 1 } });
  });

  it('Kong docs: "Empty XML tags or elements are converted into empty JSON objects"', () => {
    expect(xmlToJson('<r><a/><b></b><c>   </c><d x="1"/></r>', { attributes_name_prefix: '@' })).toEqual({
      r: { a: {}, b: {}, c: {}, d: { '@x': 1 } },
    });
  });

  it('recognize_type defaults to true (Kong schema); repeated elements to arrays even when not adjacent', () => {
    expect(xmlToJson(catalog, { attributes_name_prefix: '@' })).toEqual({
      catalog: {
        '@xmlns:x': 'urn:x',
        book: [
          { '@id': 'bk101', '@available': true, author: 'Gambardella, Matthew', price: 44.95, tags: { tag: ['xml', 'dev'] } },
          { '@id': 'bk102', '@available': false, author: 'Ralls, Kim', price: 5.95, 'x:note': null },
        ],
        empty: {},
      },
    });
    expect(xmlToJson('<r><a>1</a><b>2</b><a>3</a></r>', {})).toEqual({ r: { a: [1, 3], b: 2 } });
  });

  it('recognize_type: false keeps every value a string', () => {
    expect(xmlToJson('<r n="1"><a>30</a><b>false</b><c>null</c></r>', { recognize_type: false, attributes_name_prefix: '@' })).toEqual({
      r: { '@n': '1', a: '30', b: 'false', c: 'null' },
    });
  });

  it('recognize_type rules: JSON numbers, lowercase true/false/null; everything else stays a string', () => {
    const el = (s: string) => (xmlToJson(`<v>${s}</v>`, {}) as { v: unknown }).v;
    expect(el('30')).toBe(30);
    expect(el('-1.5e2')).toBe(-150);
    expect(el('1e3')).toBe(1000);
    expect(el('0.5')).toBe(0.5);
    expect(el('0')).toBe(0);
    expect(el(' 42 ')).toBe(42); // element text is trimmed first
    expect(el('true')).toBe(true);
    expect(el('false')).toBe(false);
    expect(el('null')).toBe(null);
    // leading zeros (ids, zip codes) and big integers keep their exact text
    expect(el('007')).toBe('007');
    expect(el('123456789012345678901')).toBe('123456789012345678901');
    for (const s of ['+5', '0x10', '.5', '1.', '1e', 'True', 'FALSE', 'Null', 'NaN', 'Infinity', '1 000', '12abc']) expect(el(s)).toBe(s);
    // attribute values are not trimmed
    expect(xmlToJson('<v a=" 30 " b="30" c=""/>', { attributes_name_prefix: '-' })).toEqual({ v: { '-a': ' 30 ', '-b': 30, '-c': '' } });
  });

  it('attributes_block_name groups attributes in one object (the convert-json-to-xml-and-back example)', () => {
    expect(xmlToJson('<r id="1" k="v"><c x="y">t</c></r>', { attributes_block_name: '#attr' })).toEqual({
      r: { '#attr': { id: 1, k: 'v' }, c: { '#attr': { x: 'y' }, '#text': 't' } },
    });
    // both set: the block wins
    expect(xmlToJson('<r id="1"/>', { attributes_block_name: '#attr', attributes_name_prefix: '-' })).toEqual({ r: { '#attr': { id: 1 } } });
  });

  it('attributes_name_prefix prefixes attribute keys (the convert-xml-into-json example)', () => {
    const opts = { attributes_block_name: null, attributes_name_prefix: '-', recognize_type: true, text_block_name: '#text', xpath: null };
    expect(xmlToJson('<person age="30" admin="false">Ann<nick>an</nick></person>', opts)).toEqual({
      person: { '-age': 30, '-admin': false, nick: 'an', '#text': 'Ann' },
    });
  });

  it('text_block_name names the text of elements that also have attributes or children', () => {
    expect(xmlToJson('<a k="1">hello <b>x</b> world</a>', { text_block_name: '_text', attributes_name_prefix: '@' })).toEqual({
      a: { '@k': 1, b: 'x', _text: 'hello  world' },
    });
    expect(xmlToJson('<a>plain</a>', { text_block_name: '_text' })).toEqual({ a: 'plain' });
  });

  it('text_as_property (default false): true puts every text under text_block_name, even a text-only element', () => {
    const xml = '<r><name>Alice</name><age>30</age><e/><p id="7">x</p></r>';
    expect(xmlToJson(xml, { attributes_name_prefix: '-' })).toEqual({ r: { name: 'Alice', age: 30, e: {}, p: { '-id': 7, '#text': 'x' } } });
    expect(xmlToJson(xml, { attributes_name_prefix: '-', text_as_property: true })).toEqual({
      r: { name: { '#text': 'Alice' }, age: { '#text': 30 }, e: {}, p: { '-id': 7, '#text': 'x' } },
    });
    expect(xmlToJson(xml, { attributes_name_prefix: '-', text_as_property: true, text_block_name: 'value' })).toEqual({
      r: { name: { value: 'Alice' }, age: { value: 30 }, e: {}, p: { '-id': 7, value: 'x' } },
    });
  });

  it('namespaces: prefixed names and xmlns declarations are kept as written (a SOAP envelope)', () => {
    const soap = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:calc">
  <soap:Body>
    <m:AddResponse><m:AddResult>12</m:AddResult></m:AddResponse>
  </soap:Body>
</soap:Envelope>`;
    expect(xmlToJson(soap, { attributes_name_prefix: '@' })).toEqual({
      'soap:Envelope': {
        '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
        '@xmlns:m': 'urn:calc',
        'soap:Body': { 'm:AddResponse': { 'm:AddResult': 12 } },
      },
    });
  });

  it('decodes predefined entities, numeric references and CDATA; leaves unknown entities as written', () => {
    expect(xmlToJson('<a q="&quot;&apos;">&lt;&gt;&amp; &#65;&#x42; <![CDATA[<raw & stuff>]]> &nbsp;</a>', {})).toEqual({
      a: { '@q': `"'`, '#text': '<>& AB <raw & stuff> &nbsp;' },
    });
    // CDATA is text: typed like any text, never parsed as markup
    expect(xmlToJson('<a><![CDATA[42]]></a>', {})).toEqual({ a: 42 });
    expect(xmlToJson('<a><![CDATA[<b>1</b>]]></a>', {})).toEqual({ a: '<b>1</b>' });
  });

  it('whitespace: indentation is dropped, text trimmed at both ends, inner whitespace kept; comments and PIs ignored', () => {
    expect(xmlToJson('<a>\n  <b>  two  words </b>\n  <!-- note --><?pi x?>\n  <c>line1\nline2</c>\n</a>', {})).toEqual({
      a: { b: 'two  words', c: 'line1\nline2' },
    });
  });

  describe('xpath', () => {
    const x = (xpath: string, extra = {}) => xmlToJson(catalog, { xpath, attributes_name_prefix: '@', ...extra });
    it('absolute paths select a sub-tree', () => {
      expect(x('/catalog/book[1]/author')).toEqual({ author: 'Gambardella, Matthew' });
      expect(x('/catalog/book/price')).toEqual({ price: [44.95, 5.95] });
      expect(x('/catalog/book/price', { recognize_type: false })).toEqual({ price: ['44.95', '5.95'] });
      expect(x('/catalog/book[2]')).toEqual({
        book: { '@id': 'bk102', '@available': false, author: 'Ralls, Kim', price: 5.95, 'x:note': null },
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
      expect(x('/catalog/book[1]/*')).toEqual({ author: 'Gambardella, Matthew', price: 44.95, tags: { tag: ['xml', 'dev'] } });
    });
    it('@attr and text() return scalar values; several matches give an array', () => {
      expect(x('/catalog/book[1]/@id')).toBe('bk101');
      expect(x('//book/@id')).toEqual(['bk101', 'bk102']);
      expect(x('//book/@available')).toEqual([true, false]);
      expect(x('//book/@available', { recognize_type: false })).toEqual(['true', 'false']);
      expect(x('//author/text()')).toEqual(['Gambardella, Matthew', 'Ralls, Kim']);
      expect(x('//x:note/text()')).toBe(null);
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
      expect(() => xmlToJson(huge, {})).toThrow(/^XML document too large: \d+ bytes \(limit 10485760, limits.xml_input_bytes\)$/);
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
  it('Kong docs, "JSON to XML node" example: {"root": {...}} with root_element_name root gives one <root>', () => {
    const xml = jsonToXml(KONG_EXAMPLE_JSON, { root_element_name: 'root', attributes_block_name: '#attr' });
    // the page shows it indented; the same document without the indentation
    expect(xml).toBe(KONG_EXAMPLE_XML.replace(/>\s+</g, '><'));
    expect(xml.startsWith('<root><name>')).toBe(true);
    // and xml_to_json gives the JSON back (null included: written "null", read back as null)
    expect(xmlToJson(xml, { attributes_block_name: '#attr' })).toEqual(KONG_EXAMPLE_JSON);
  });

  it('Kong docs: "Empty string, empty array, and empty object values are converted into empty XML elements"', () => {
    expect(jsonToXml({ r: { s: '', a: [], o: {} } }, { attributes_name_prefix: '@' })).toBe('<r><s/><a/><o/></r>');
  });

  it('null is written as the text "null" (Kong example: <null_value>null</null_value>), in attributes too', () => {
    expect(jsonToXml({ r: { n: null, '@k': null } }, {})).toBe('<r k="null"><n>null</n></r>');
    expect(jsonToXml(null, {})).toBe('<root>null</root>');
  });

  it('a single-key object becomes the document element; arrays repeat the element; nested arrays flatten', () => {
    expect(jsonToXml({ order: { id: 7, items: [{ sku: 'a' }, { sku: 'b' }], paid: true } }, {})).toBe(
      '<order><id>7</id><items><sku>a</sku></items><items><sku>b</sku></items><paid>true</paid></order>',
    );
    expect(jsonToXml({ r: { v: [1, [2, 3]] } }, {})).toBe('<r><v>1</v><v>2</v><v>3</v></r>');
  });

  it('root_element_name wraps the value, unless the value is already {root_element_name: {...}}', () => {
    expect(jsonToXml({ a: 1, b: 'x' }, { root_element_name: 'doc' })).toBe('<doc><a>1</a><b>x</b></doc>');
    expect(jsonToXml({ a: 1 }, { root_element_name: 'doc' })).toBe('<doc><a>1</a></doc>');
    expect(jsonToXml({ doc: { a: 1 } }, { root_element_name: 'doc' })).toBe('<doc><a>1</a></doc>');
    // a list under the root's name cannot be one element: wrapped
    expect(jsonToXml({ doc: [1, 2] }, { root_element_name: 'doc' })).toBe('<doc><doc>1</doc><doc>2</doc></doc>');
    expect(jsonToXml([1, 2], { root_element_name: 'doc' })).toBe('<doc><item>1</item><item>2</item></doc>');
    expect(jsonToXml('hi', { root_element_name: 'doc' })).toBe('<doc>hi</doc>');
  });

  it('without root_element_name: several keys, scalars and arrays are wrapped in <root>', () => {
    expect(jsonToXml({ a: 1, b: 'x' }, {})).toBe('<root><a>1</a><b>x</b></root>');
    expect(jsonToXml([1, { x: 2 }], {})).toBe('<root><item>1</item><item><x>2</x></item></root>');
    expect(jsonToXml([], {})).toBe('<root/>');
    expect(jsonToXml('hi', {})).toBe('<root>hi</root>');
    expect(jsonToXml(3.5, {})).toBe('<root>3.5</root>');
    expect(jsonToXml({ list: [1, 2] }, {})).toBe('<root><list>1</list><list>2</list></root>');
  });

  it('numbers and booleans are written as their JSON text; no XML declaration, no indentation', () => {
    expect(jsonToXml({ r: { i: 30, f: 1.5, neg: -2, z: -0, big: 1e21, small: 1e-7, t: true, no: false } }, {})).toBe(
      '<r><i>30</i><f>1.5</f><neg>-2</neg><z>0</z><big>1e+21</big><small>1e-7</small><t>true</t><no>false</no></r>',
    );
  });

  it('attributes with a prefix (the convert-json-into-xml example: "-") and text blocks', () => {
    const opts = { attributes_name_prefix: '-', attributes_block_name: null, text_block_name: '#text' };
    expect(jsonToXml({ person: { '-age': 30, '-admin': false, '#text': 'Ann', nick: 'an' } }, opts)).toBe(
      '<person age="30" admin="false">Ann<nick>an</nick></person>',
    );
    // with the prefix "-", "@id" is an ordinary key, and "@id" is not an XML name
    expect(() => jsonToXml({ p: { '@id': 'x' } }, opts)).toThrow('invalid XML element name "@id"');
  });

  it('attributes block (the convert-json-to-xml-and-back example) round-trips through xmlToJson', () => {
    const value = {
      order: { '#attr': { id: 'A7', currency: 'EUR' }, line: [{ '#attr': { n: 1 }, '#text': 'pen' }, { '#attr': { n: 2 }, '#text': 'ink' }], total: 3 },
    };
    const xml = jsonToXml(value, { attributes_block_name: '#attr' });
    expect(xml).toBe('<order id="A7" currency="EUR"><line n="1">pen</line><line n="2">ink</line><total>3</total></order>');
    expect(xmlToJson(xml, { attributes_block_name: '#attr' })).toEqual(value);
  });

  it('custom text_block_name; a text block holding an object is an error', () => {
    expect(jsonToXml({ a: { _t: 'x', '@k': 'v' } }, { text_block_name: '_t' })).toBe('<a k="v">x</a>');
    expect(() => jsonToXml({ a: { '#text': { b: 1 } } }, {})).toThrow('text "#text" of <a> must be a string, number or boolean');
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

  it('element names: any script, namespace prefixes and names starting with "xml" are fine', () => {
    expect(jsonToXml({ 'soap:Envelope': { '@xmlns:soap': 'urn:s', 'soap:Body': { ünïcode: 'ok', xmlData: 1 } } }, {})).toBe(
      '<soap:Envelope xmlns:soap="urn:s"><soap:Body><ünïcode>ok</ünïcode><xmlData>1</xmlData></soap:Body></soap:Envelope>',
    );
  });

  it('fails clearly on values XML cannot carry', () => {
    expect(() => jsonToXml({ '1bad': 1 }, {})).toThrow('invalid XML element name "1bad"');
    expect(() => jsonToXml({ r: { 'a b': 1 } }, {})).toThrow('invalid XML element name "a b"');
    expect(() => jsonToXml({ r: { '': 1 } }, {})).toThrow('invalid XML element name ""');
    expect(() => jsonToXml({ r: { 'a:b:c': 1 } }, {})).toThrow(XmlError);
    expect(() => jsonToXml({ a: { '@1x': 1 } }, {})).toThrow('invalid XML attribute name "1x"');
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

describe('option checks at config load (Kong plugin schema, 3.13+)', () => {
  it('xml_to_json: one of attributes_block_name / attributes_name_prefix is required (Kong docs note)', () => {
    expect(validateXmlToJsonOptions({})).toEqual([ATTRIBUTES_REQUIRED]);
    expect(validateXmlToJsonOptions({ attributes_block_name: null, attributes_name_prefix: null })).toEqual([ATTRIBUTES_REQUIRED]);
    expect(ATTRIBUTES_REQUIRED).toBe('At least one of attributes_block_name or attributes_name_prefix is required');
    expect(validateXmlToJsonOptions({ attributes_block_name: '#attr' })).toEqual([]);
    expect(validateXmlToJsonOptions({ attributes_name_prefix: '-' })).toEqual([]);
    // the convert-xml-into-json example, nulls included
    expect(
      validateXmlToJsonOptions({ attributes_block_name: null, attributes_name_prefix: '-', recognize_type: true, text_block_name: '#text', xpath: null }),
    ).toEqual([]);
  });

  it('json_to_xml: the same requirement (Kong flow editor schema)', () => {
    expect(validateJsonToXmlOptions({ root_element_name: 'root' })).toEqual([ATTRIBUTES_REQUIRED]);
    expect(validateJsonToXmlOptions({ attributes_name_prefix: '-', attributes_block_name: null, text_block_name: '#text' })).toEqual([]);
  });

  it('types and lengths, named by field', () => {
    expect(validateXmlToJsonOptions({ attributes_name_prefix: '-', recognize_type: 'yes' })).toEqual(['recognize_type: expected a boolean']);
    expect(validateXmlToJsonOptions({ attributes_name_prefix: '-', text_as_property: 1 })).toEqual(['text_as_property: expected a boolean']);
    expect(validateXmlToJsonOptions({ attributes_name_prefix: 5 })).toEqual(['attributes_name_prefix: expected a string']);
    expect(validateXmlToJsonOptions({ attributes_name_prefix: '' })).toEqual(['attributes_name_prefix: length must be at least 1']);
    expect(validateXmlToJsonOptions({ attributes_name_prefix: '-', text_block_name: 'x'.repeat(33) })).toEqual([
      'text_block_name: length must be at most 32',
    ]);
    expect(validateXmlToJsonOptions({ attributes_block_name: 'x'.repeat(32) })).toEqual([]);
    expect(validateXmlToJsonOptions({ attributes_name_prefix: '-', xpath: '/' + 'a'.repeat(256) })).toEqual(['xpath: length must be at most 256']);
    expect(validateJsonToXmlOptions({ attributes_name_prefix: '-', root_element_name: 'r'.repeat(65) })).toEqual([
      'root_element_name: length must be at most 64',
    ]);
  });

  it('xpath is compiled at load; root_element_name must be an XML name; text and attribute blocks must differ', () => {
    expect(validateXmlToJsonOptions({ attributes_name_prefix: '-', xpath: 'count(//a)' })).toEqual([
      'xpath: invalid xpath "count(//a)": unsupported syntax at "(//a)"',
    ]);
    expect(validateJsonToXmlOptions({ attributes_name_prefix: '-', root_element_name: '1root' })).toEqual([
      'root_element_name: "1root" is not a valid XML element name',
    ]);
    expect(validateJsonToXmlOptions({ attributes_block_name: '#text' })).toEqual(['attributes_block_name: must differ from text_block_name ("#text")']);
    expect(validateXmlToJsonOptions({ attributes_block_name: 'v', text_block_name: 'v' })).toEqual([
      'attributes_block_name: must differ from text_block_name ("v")',
    ]);
  });
});
