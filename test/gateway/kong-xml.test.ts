// The XML nodes through the gateway, on real sockets: a SOAP service on
// 127.0.0.1 stands in for the "external SOAP API" of Kong's examples
// (developer.konghq.com, plugins/datakit/examples/convert-json-to-xml-and-back,
// convert-xml-into-json, convert-json-into-xml; node reference: plugins/datakit,
// "XML to JSON node" and "JSON to XML node").
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../host/gateway/index.js';
import { call, gateway } from './helpers.js';

interface SoapCall {
  method: string;
  url: string;
  contentType: string | undefined;
  soapAction: string | undefined;
  body: string;
}

/**
 * A small SOAP calculator and an XML echo. `/calc` reads <a> and <b> from the
 * envelope with a regex (a real service would parse it; the test checks what
 * was sent separately) and answers a SOAP envelope; `/echo` answers the XML
 * it got; `/fault` answers a SOAP fault with 500.
 */
async function startSoapService() {
  const calls: SoapCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      calls.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], soapAction: req.headers['soapaction'] as string | undefined, body });
      const xml = (status: number, text: string, type = 'text/xml; charset=utf-8') => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(text);
      };
      if (req.url === '/echo') return xml(200, body, 'application/xml');
      if (req.url === '/fault')
        return xml(500, '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode></soap:Fault></soap:Body></soap:Envelope>');
      if (req.url === '/calc') {
        const a = Number(/<(?:\w+:)?a>([^<]*)</.exec(body)?.[1]);
        const b = Number(/<(?:\w+:)?b>([^<]*)</.exec(body)?.[1]);
        return xml(
          200,
          `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:calc">
  <soap:Body>
    <m:AddResponse unit="none">
      <m:AddResult>${a + b}</m:AddResult>
      <m:Operands><m:n>${a}</m:n><m:n>${b}</m:n></m:Operands>
      <m:Note><![CDATA[a < b & "quoted"]]></m:Note>
      <m:Code>007</m:Code>
    </m:AddResponse>
  </soap:Body>
</soap:Envelope>`,
        );
      }
      xml(404, '<error>not found</error>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let soap: Awaited<ReturnType<typeof startSoapService>>;
let gw: RunningGateway;

/** One service (the SOAP service) with one route per flow, each route with its datakit flow. */
function doc(flows: Record<string, { nodes: unknown[]; debug?: boolean }>) {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'soap',
        url: `${soap.url}/echo`,
        routes: Object.entries(flows).map(([name, config]) => ({ name, paths: [`/${name}`], plugins: [{ name: 'datakit', config }] })),
      },
    ],
  };
}

async function load(flows: Record<string, { nodes: unknown[]; debug?: boolean }>) {
  const r = await call(gw.adminUrl, '/config', { method: 'POST', json: doc(flows) });
  expect(r.status, r.text).toBe(201);
}

// Kong's example configs, with the SOAP API's address (localhost:7180) pointing at the local service
const KONG_XML_INTO_JSON = {
  debug: true,
  nodes: [
    {
      name: 'XML_JSON',
      type: 'xml_to_json',
      attributes_block_name: null,
      attributes_name_prefix: '-',
      recognize_type: true,
      text_block_name: '#text',
      input: 'request.body',
      xpath: null,
    },
    { name: 'EXIT', type: 'exit', inputs: { body: 'XML_JSON' } },
  ],
};
const KONG_JSON_INTO_XML = {
  debug: true,
  nodes: [
    { name: 'JSON_XML', type: 'json_to_xml', attributes_name_prefix: '-', attributes_block_name: null, text_block_name: '#text', input: 'request.body' },
    { name: 'EXIT', type: 'exit', inputs: { body: 'JSON_XML' } },
  ],
};
const kongJsonToXmlAndBack = () => ({
  debug: true,
  nodes: [
    { name: 'JSON_XML', type: 'json_to_xml', attributes_block_name: '#attr', input: 'request.body' },
    { name: 'CALL', type: 'call', url: `${soap.url}/echo`, method: 'POST', inputs: { body: 'JSON_XML' } },
    { name: 'XML_JSON', type: 'xml_to_json', input: 'CALL.body', attributes_block_name: '#attr', output: 'response.body' },
  ],
});

/** A REST facade over the SOAP calculator: GET /add?a=&b= -> SOAP call -> JSON answer. */
const soapFacade = () => ({
  nodes: [
    {
      name: 'ENVELOPE',
      type: 'jq',
      input: 'request.query',
      jq: `{"soap:Envelope": {"@xmlns:soap": "http://schemas.xmlsoap.org/soap/envelope/", "@xmlns:m": "urn:calc",
             "soap:Body": {"m:Add": {"m:a": (.a | tonumber), "m:b": (.b | tonumber)}}}}`,
    },
    { name: 'TO_XML', type: 'json_to_xml', attributes_name_prefix: '@', input: 'ENVELOPE' },
    { name: 'HEADERS', type: 'static', values: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: 'urn:calc#Add' } },
    { name: 'SOAP', type: 'call', url: `${soap.url}/calc`, method: 'POST', inputs: { body: 'TO_XML', headers: 'HEADERS' } },
    { name: 'TO_JSON', type: 'xml_to_json', attributes_name_prefix: '@', input: 'SOAP.body' },
    {
      name: 'PICK',
      type: 'jq',
      input: 'TO_JSON',
      jq: '.["soap:Envelope"]["soap:Body"]["m:AddResponse"] | {sum: .["m:AddResult"], operands: .["m:Operands"]["m:n"], unit: .["@unit"], note: .["m:Note"], code: .["m:Code"]}',
    },
    { name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'PICK' } },
  ],
});

/** JSON clients, XML upstream: the request body goes up as XML, the upstream's XML answer comes back as JSON. */
const XML_UPSTREAM = {
  nodes: [
    { name: 'UP_XML', type: 'json_to_xml', attributes_name_prefix: '@', root_element_name: 'request', input: 'request.body', output: 'service_request.body' },
    { name: 'DOWN_JSON', type: 'xml_to_json', attributes_name_prefix: '@', input: 'service_response.body', output: 'response.body' },
  ],
};

/** json_to_xml with named `inputs` (Kong's schema: an `inputs` map), converted as one object of those fields. */
const NAMED_INPUTS = {
  nodes: [
    { name: 'CONST', type: 'static', values: { ref: 'R-1', '@version': 2 } },
    { name: 'X', type: 'json_to_xml', attributes_name_prefix: '@', root_element_name: 'lookup', inputs: { '@version': 'CONST.@version', ref: 'CONST.ref', query: 'request.query' } },
    { name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'X' } },
  ],
};

beforeAll(async () => {
  soap = await startSoapService();
  gw = await gateway({ _format_version: '3.0' });
});
afterAll(async () => {
  await gw.close();
  await soap.close();
});

describe('Kong examples through the gateway', () => {
  beforeAll(async () => {
    await load({
      'xml-into-json': KONG_XML_INTO_JSON,
      'json-into-xml': KONG_JSON_INTO_XML,
      'and-back': kongJsonToXmlAndBack(),
      add: soapFacade(),
      proxied: XML_UPSTREAM,
      fields: NAMED_INPUTS,
      'text-prop': {
        nodes: [
          { name: 'X', type: 'xml_to_json', attributes_name_prefix: '-', text_as_property: true, recognize_type: false, input: 'request.body' },
          { name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'X' } },
        ],
      },
    });
  });

  it('"Transform XML into JSON" (convert-xml-into-json): the XML request body answered as JSON, for application/xml and text/xml', async () => {
    const xml = '<book id="7" lang="en"><title>Dune</title><year>1965</year><tag>a</tag><tag>b</tag><empty/></book>';
    for (const type of ['application/xml', 'text/xml; charset=utf-8']) {
      const r = await call(gw.proxyUrl, '/xml-into-json', { method: 'POST', headers: { 'content-type': type }, body: xml });
      expect(r.status, r.text).toBe(200);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.json).toEqual({ book: { '-id': 7, '-lang': 'en', title: 'Dune', year: 1965, tag: ['a', 'b'], empty: {} } });
    }
    expect(soap.calls).toHaveLength(0); // the exit answered; nothing was proxied
  });

  it('"Transform JSON into XML" (convert-json-into-xml): the JSON request body answered as application/xml', async () => {
    const r = await call(gw.proxyUrl, '/json-into-xml', {
      method: 'POST',
      json: { book: { '-id': 7, '#text': 'Dune', 'co-author': null, tags: ['a', 'b'], notes: [] } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('application/xml');
    expect(r.text).toBe('<book id="7">Dune<co-author>null</co-author><tags>a</tags><tags>b</tags><notes/></book>');
  });

  it('"Transform JSON into XML and back" (convert-json-to-xml-and-back): XML sent to the SOAP API, its XML answer back as JSON', async () => {
    const before = soap.calls.length;
    const input = { order: { '#attr': { id: 'A-7', priority: 2 }, item: [{ '#attr': { sku: 'KB-01' }, '#text': 'keyboard' }, { '#attr': { sku: 'MS-07' }, '#text': 'mouse' }], gift: false } };
    const r = await call(gw.proxyUrl, '/and-back', { method: 'POST', json: input });
    expect(r.status, r.text).toBe(200);
    const sent = soap.calls.slice(before);
    expect(sent).toHaveLength(2); // the call node, then the proxied request
    expect(sent[0]).toMatchObject({ method: 'POST', url: '/echo', contentType: 'application/xml' });
    expect(sent[0].body).toBe(
      '<order id="A-7" priority="2"><item sku="KB-01">keyboard</item><item sku="MS-07">mouse</item><gift>false</gift></order>',
    );
    // the echoed XML comes back as the same JSON (recognize_type: numbers and booleans typed)
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json).toEqual(input);
  });

  it('a SOAP facade: envelope built by json_to_xml, the SOAP answer read by xml_to_json (namespaces, CDATA, typed values)', async () => {
    const before = soap.calls.length;
    const r = await call(gw.proxyUrl, '/add?a=5&b=7');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ sum: 12, operands: [5, 7], unit: 'none', note: 'a < b & "quoted"', code: '007' });
    const sent = soap.calls.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ url: '/calc', contentType: 'text/xml; charset=utf-8', soapAction: 'urn:calc#Add' });
    expect(sent[0].body).toBe(
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:calc">' +
        '<soap:Body><m:Add><m:a>5</m:a><m:b>7</m:b></m:Add></soap:Body></soap:Envelope>',
    );
  });

  it('both phases around a real XML upstream: service_request.body as XML, service_response.body back as JSON', async () => {
    const before = soap.calls.length;
    const r = await call(gw.proxyUrl, '/proxied', { method: 'POST', json: { '@v': 2, user: 'ada', roles: ['admin', 'dev'], active: true } });
    expect(r.status, r.text).toBe(200);
    const sent = soap.calls.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ url: '/echo', contentType: 'application/xml' });
    expect(sent[0].body).toBe('<request v="2"><user>ada</user><roles>admin</roles><roles>dev</roles><active>true</active></request>');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json).toEqual({ request: { '@v': 2, user: 'ada', roles: ['admin', 'dev'], active: true } });
  });

  it('text_as_property and recognize_type: false load from a gateway config (Kong schema fields) and apply', async () => {
    const r = await call(gw.proxyUrl, '/text-prop', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<p id="7"><name>Ada</name><age>36</age></p>' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ p: { '-id': '7', name: { '#text': 'Ada' }, age: { '#text': '36' } } });
  });

  it('json_to_xml with named inputs (Kong schema: "inputs": JSON string or table): the fields become one object', async () => {
    const r = await call(gw.proxyUrl, '/fields?q=5&lang=en');
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('application/xml');
    expect(r.text).toBe('<lookup version="2"><ref>R-1</ref><query><q>5</q><lang>en</lang></query></lookup>');
  });
});

describe('failures', () => {
  it('config load: a missing attributes option, a bad type or length is a 400 naming node and field', async () => {
    const bad = async (node: Record<string, unknown>) => {
      const r = await call(gw.adminUrl, '/config', {
        method: 'POST',
        json: doc({ x: { nodes: [{ name: 'CONVERT', input: 'request.body', ...node }, { name: 'EXIT', type: 'exit', inputs: { body: 'CONVERT' } }] } }),
      });
      expect(r.status, r.text).toBe(400);
      expect(r.json.name).toBe('invalid declarative configuration');
      return r.json.message as string;
    };
    expect(await bad({ type: 'xml_to_json' })).toContain('node #1 (CONVERT): At least one of attributes_block_name or attributes_name_prefix is required');
    expect(await bad({ type: 'json_to_xml', root_element_name: 'root' })).toContain(
      'node #1 (CONVERT): At least one of attributes_block_name or attributes_name_prefix is required',
    );
    expect(await bad({ type: 'xml_to_json', attributes_name_prefix: '-', recognize_type: 'yes' })).toContain('node #1 (CONVERT): recognize_type: expected a boolean');
    expect(await bad({ type: 'xml_to_json', attributes_name_prefix: '-', text_block_name: '' })).toContain('node #1 (CONVERT): text_block_name: length must be at least 1');
    expect(await bad({ type: 'xml_to_json', attributes_name_prefix: '-', xpath: '//a[position()>1]' })).toContain('node #1 (CONVERT): xpath: invalid xpath');
    expect(await bad({ type: 'json_to_xml', attributes_name_prefix: '-', root_element_name: 'my root' })).toContain(
      'node #1 (CONVERT): root_element_name: "my root" is not a valid XML element name',
    );
  });

  it("runtime (debug: true, as in Kong's examples): bad XML, a DOCTYPE (billion laughs), an invalid element name fail the node by name; the gateway keeps serving", async () => {
    await load({ 'xml-into-json': KONG_XML_INTO_JSON, 'json-into-xml': KONG_JSON_INTO_XML });
    const post = (path: string, type: string, body: string) => call(gw.proxyUrl, path, { method: 'POST', headers: { 'content-type': type }, body });

    const bad = await post('/xml-into-json', 'application/xml', '<a><b></a>');
    expect(bad.status).toBe(500);
    expect(bad.json).toMatchObject({ message: 'node execution error', node: { index: 1, name: 'XML_JSON', type: 'xml_to_json' } });
    expect(bad.json.error).toMatch(/^invalid XML: Expected closing tag 'b'/);

    const lol =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
      ']><lolz>&lol9;</lolz>';
    const t0 = Date.now();
    const laughs = await post('/xml-into-json', 'application/xml', lol);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(laughs.status).toBe(500);
    expect(laughs.json).toMatchObject({
      error: 'DOCTYPE and ENTITY declarations are not allowed (entity expansion is disabled)',
      node: { name: 'XML_JSON', type: 'xml_to_json' },
    });

    const name = await post('/json-into-xml', 'application/json', JSON.stringify({ 'order list': { id: 1 } }));
    expect(name.status).toBe(500);
    expect(name.json).toMatchObject({ error: 'invalid XML element name "order list"', node: { index: 1, name: 'JSON_XML', type: 'json_to_xml' } });

    const ok = await post('/xml-into-json', 'text/xml', '<ok>1</ok>');
    expect(ok.json).toEqual({ ok: 1 });
  });
});
