// Node types, port types and the static port tables of spec sections 3-4.

export const enum PortType {
  ANY = 0,
  STRING = 1,
  NUMBER = 2,
  BOOLEAN = 3,
  OBJECT = 4,
  MAP = 5,
}

export function portTypeName(t: i32): string {
  if (t == PortType.STRING) return 'string';
  if (t == PortType.NUMBER) return 'number';
  if (t == PortType.BOOLEAN) return 'boolean';
  if (t == PortType.OBJECT) return 'object';
  if (t == PortType.MAP) return 'map';
  return 'any';
}

/** 0 = compatible, 1 = compatible with a run-time check, -1 = incompatible. */
export function compat(from: i32, to: i32): i32 {
  if (to == PortType.ANY) return 0;
  if (from == to) return 0;
  if (from == PortType.ANY) return 1;
  if ((from == PortType.STRING && to == PortType.NUMBER) || (from == PortType.NUMBER && to == PortType.STRING)) return 1;
  if (from == PortType.MAP && to == PortType.OBJECT) return 0;
  return -1;
}

export const enum NodeType {
  REQUEST = 0,
  SERVICE_REQUEST = 1,
  SERVICE_RESPONSE = 2,
  RESPONSE = 3,
  VAULT = 4,
  STATIC = 10,
  JQ = 11,
  HANDLEBARS = 12,
  CALL = 13,
  EXIT = 14,
  PROPERTY = 15,
  BRANCH = 16,
  CACHE = 17,
  XML_TO_JSON = 18,
  JSON_TO_XML = 19,
  JWT_DECODE = 20,
  JWT_SIGN = 21,
  JWT_VERIFY = 22,
}

export const IMPLICIT_NAMES: string[] = ['request', 'service_request', 'service_response', 'response', 'vault'];

/** The node types a configuration may use, by name. */
export const NODE_TYPE_NAMES: string[] = [
  'static', 'jq', 'handlebars', 'call', 'exit', 'property', 'branch', 'cache',
  'xml_to_json', 'json_to_xml', 'jwt_decode', 'jwt_sign', 'jwt_verify',
];

/** Fields every node has, besides the attributes of its type. */
export const COMMON_NODE_FIELDS: string[] = ['name', 'type', 'input', 'inputs', 'output', 'outputs'];

export function nodeTypeFromName(t: string): i32 {
  if (t == 'static') return NodeType.STATIC;
  if (t == 'jq') return NodeType.JQ;
  if (t == 'handlebars') return NodeType.HANDLEBARS;
  if (t == 'call') return NodeType.CALL;
  if (t == 'exit') return NodeType.EXIT;
  if (t == 'property') return NodeType.PROPERTY;
  if (t == 'branch') return NodeType.BRANCH;
  if (t == 'cache') return NodeType.CACHE;
  if (t == 'xml_to_json') return NodeType.XML_TO_JSON;
  if (t == 'json_to_xml') return NodeType.JSON_TO_XML;
  if (t == 'jwt_decode') return NodeType.JWT_DECODE;
  if (t == 'jwt_sign') return NodeType.JWT_SIGN;
  if (t == 'jwt_verify') return NodeType.JWT_VERIFY;
  return -1;
}

/** Attributes each user node type accepts, besides name/type/input(s)/output(s). */
export function allowedAttributes(t: i32): string[] {
  if (t == NodeType.STATIC) return ['values'];
  if (t == NodeType.JQ) return ['jq'];
  if (t == NodeType.HANDLEBARS) return ['template', 'content_type'];
  if (t == NodeType.CALL) return ['url', 'method', 'timeout', 'ssl_server_name', 'ssl_verify'];
  if (t == NodeType.EXIT) return ['status', 'warn_headers_sent'];
  if (t == NodeType.PROPERTY) return ['property', 'content_type', 'non_nil'];
  if (t == NodeType.BRANCH) return ['then', 'else'];
  if (t == NodeType.CACHE) return ['ttl', 'bypass_on_error'];
  if (t == NodeType.XML_TO_JSON)
    return ['text_block_name', 'attributes_block_name', 'attributes_name_prefix', 'root_element_name', 'recognize_type', 'text_as_property', 'xpath'];
  if (t == NodeType.JSON_TO_XML) return ['text_block_name', 'attributes_block_name', 'attributes_name_prefix', 'root_element_name'];
  if (t == NodeType.JWT_SIGN) return ['algorithm', 'expires_in', 'not_before', 'kid', 'typ', 'static_claims'];
  if (t == NodeType.JWT_VERIFY)
    return ['allowed_algorithms', 'issuers', 'audiences', 'required_claims', 'leeway', 'validate_exp', 'validate_nbf'];
  return [];
}

export class PortSpec {
  constructor(public name: string, public type: i32) {}
}

function ports(names: string[], types: i32[]): PortSpec[] {
  const out = new Array<PortSpec>();
  for (let i = 0; i < names.length; i++) out.push(new PortSpec(names[i], types[i]));
  return out;
}

const A = PortType.ANY;
const S = PortType.STRING;
const N = PortType.NUMBER;
const M = PortType.MAP;
const B = PortType.BOOLEAN;

export function fixedInputs(t: i32): PortSpec[] {
  if (t == NodeType.CALL)
    return ports(
      ['body', 'headers', 'query', 'url', 'http_proxy', 'https_proxy', 'proxy_auth_username', 'proxy_auth_password'],
      [A, M, M, S, S, S, S, S],
    );
  if (t == NodeType.EXIT) return ports(['body', 'headers'], [A, M]);
  if (t == NodeType.SERVICE_REQUEST) return ports(['body', 'headers', 'query'], [A, M, M]);
  if (t == NodeType.RESPONSE) return ports(['body', 'headers'], [A, M]);
  if (t == NodeType.CACHE) return ports(['key', 'ttl', 'data'], [S, N, A]);
  if (t == NodeType.JWT_SIGN) return ports(['claims', 'key'], [A, A]);
  if (t == NodeType.JWT_VERIFY) return ports(['token', 'key'], [S, A]);
  return [];
}

export function fixedOutputs(t: i32): PortSpec[] {
  if (t == NodeType.CALL || t == NodeType.SERVICE_RESPONSE)
    return ports(['body', 'headers', 'status', 'raw_body'], [A, M, N, S]);
  if (t == NodeType.REQUEST)
    return ports(
      ['body', 'headers', 'query', 'path', 'raw_path', 'port', 'method', 'scheme', 'version'],
      [A, M, M, S, S, N, S, S, N],
    );
  if (t == NodeType.CACHE) return ports(['hit', 'miss', 'stored', 'data'], [B, B, B, A]);
  if (t == NodeType.JWT_DECODE) return ports(['header', 'payload', 'signature'], [A, A, S]);
  if (t == NodeType.JWT_SIGN) return ports(['token', 'claims', 'header'], [S, A, A]);
  if (t == NodeType.JWT_VERIFY) return ports(['claims', 'header'], [A, A]);
  return [];
}

/** Type of the node-wise ($self) input; -1 when the node takes none. */
export function selfInputType(t: i32): i32 {
  if (
    t == NodeType.CALL || t == NodeType.EXIT || t == NodeType.SERVICE_REQUEST || t == NodeType.RESPONSE ||
    t == NodeType.CACHE || t == NodeType.JWT_SIGN || t == NodeType.JWT_VERIFY
  )
    return PortType.OBJECT;
  if (t == NodeType.JQ || t == NodeType.HANDLEBARS || t == NodeType.PROPERTY || t == NodeType.JSON_TO_XML) return PortType.ANY;
  if (t == NodeType.XML_TO_JSON || t == NodeType.JWT_DECODE) return PortType.STRING;
  if (t == NodeType.BRANCH) return PortType.BOOLEAN;
  return -1;
}

/** Type of the node-wise ($self) output; -1 when the node has none. */
export function selfOutputType(t: i32): i32 {
  if (
    t == NodeType.CALL || t == NodeType.SERVICE_RESPONSE || t == NodeType.REQUEST || t == NodeType.CACHE ||
    t == NodeType.JWT_DECODE || t == NodeType.JWT_SIGN || t == NodeType.JWT_VERIFY
  )
    return PortType.OBJECT;
  if (t == NodeType.XML_TO_JSON) return PortType.ANY;
  if (t == NodeType.JSON_TO_XML) return PortType.STRING;
  if (t == NodeType.STATIC || t == NodeType.VAULT) return PortType.MAP;
  if (t == NodeType.JQ || t == NodeType.HANDLEBARS || t == NodeType.PROPERTY) return PortType.ANY;
  return -1;
}

/** jq, handlebars and json_to_xml take inputs named by the user; jq also names outputs. */
export function userDefinedInputs(t: i32): bool {
  return t == NodeType.JQ || t == NodeType.HANDLEBARS || t == NodeType.JSON_TO_XML;
}

export function userDefinedOutputs(t: i32): bool {
  return t == NodeType.JQ;
}

/** Properties a flow may set (spec section 3); `.{key}` families end in '.'. */
export const WRITABLE_PROPERTIES: string[] = [
  'kong.service.target',
  'kong.service.upstream',
  'kong.service.request.scheme',
  'kong.response.status',
  'kong.client.consumer',
];
export const WRITABLE_PREFIXES: string[] = ['kong.ctx.shared.', 'kong.ctx.plugin.'];

export function isWritableProperty(name: string): bool {
  for (let i = 0; i < WRITABLE_PROPERTIES.length; i++) if (WRITABLE_PROPERTIES[i] == name) return true;
  for (let i = 0; i < WRITABLE_PREFIXES.length; i++) {
    const p = WRITABLE_PREFIXES[i];
    if (name.length > p.length && name.startsWith(p)) return true;
  }
  return false;
}

/** Node types whose attributes the host validates (capability options). */
export function hostValidatedOptions(t: i32): bool {
  return t == NodeType.XML_TO_JSON || t == NodeType.JSON_TO_XML || t == NodeType.JWT_SIGN || t == NodeType.JWT_VERIFY;
}
