// Configuration -> plan: parse the plugin config, validate it (spec
// section 2, Kong's wording), resolve connections into typed ports and
// compute dependencies, cycles and the phase of every node.

import { ByteWriter } from './bytes';
import { jsonQuote, JsonParser, Kind, parseJson, Value, writeJsonString } from './json';
import { host_call, host_jq_compile, host_jq_free, host_jq_input_paths, host_jq_simple, host_template_compile, host_template_free, takeResult } from './host';
import { compileSimple, JqOp } from './jqsimple';
import { didYouMean } from './suggest';
import { configError310, DIALECT_310, DIALECT_311, jqVariableName310 } from './dialect';
import {
  allowedAttributes,
  COMMON_NODE_FIELDS,
  compat,
  hostValidatedOptions,
  fixedInputs,
  fixedOutputs,
  IMPLICIT_NAMES,
  isWritableProperty,
  NODE_TYPE_NAMES,
  nodeTypeFromName,
  NodeType,
  PortSpec,
  PortType,
  portTypeName,
  selfInputType,
  selfOutputType,
  userDefinedInputs,
  userDefinedOutputs,
} from './types';

export const SELF: i32 = -1;

export class Conn {
  constructor(
    public srcNode: i32,
    public srcPort: i32,
    /** run-time type check target, or -1 */
    public check: i32,
    public label: string,
  ) {}
}

export class ConfigError {
  constructor(
    public message: string,
    public node: PNode | null,
    public field: string | null,
  ) {}
}

export class PNode {
  index: i32 = 0;
  /** 1-based position in the config's node list; 0 for implicit nodes */
  userIndex: i32 = 0;
  name: string = '';
  typeName: string = '';
  type: i32 = 0;
  inPorts: PortSpec[] = [];
  outPorts: PortSpec[] = [];
  selfInType: i32 = -1;
  selfOutType: i32 = -1;
  inConns: Array<Conn | null> = [];
  selfConn: Conn | null = null;
  deps: i32[] = [];
  dependants: i32[] = [];
  branchThen: i32[] = [];
  branchElse: i32[] = [];
  phase: i32 = 0;
  config: Value = Value.obj();
  /** an error left its ports unknown (bad `values`, `inputs`, `outputs`): connections touching it are not checked */
  broken: bool = false;

  // attributes, by type
  jqHandle: i32 = 0;
  jqVarNames: string[] = [];
  /** 3.10: the label a node-wise input was written with (its jq $variable's name) */
  selfSource: string = '';
  /** the parts of its input a jq filter reads (null: all of it) */
  jqPaths: PathTree | null = null;
  /** the filter when the module can evaluate it itself (null: always the host's jq_run) */
  jqSimple: JqOp | null = null;
  tplHandle: i32 = 0;
  contentType: string = '';
  staticValue: Value | null = null;
  url: string = '';
  method: string = 'GET';
  timeout: i32 = -1;
  sslVerify: bool = true;
  sslServerName: string = '';
  status: i32 = 200;
  warnHeadersSent: bool = false;
  /** exit: the config gives a status */
  statusSet: bool = false;
  /** 3.10: the node waits (transitively) for the upstream's body, so it ran in 3.10's response-body phase */
  bodyPhase310: bool = false;
  property: string = '';
  nonNil: bool = false;
  /** capability nodes: their attributes as JSON, handed to the host */
  optionsJson: string = '{}';
  ttl: i32 = -1;
  bypassOnError: bool = false;
  /** some node reads this node's raw_body (call, service_response) */
  rawBodyUsed: bool = false;
  /** call: some node reads its headers, or the plan can trace them; otherwise the host sends only content-type */
  headersUsed: bool = false;

  label(): string {
    if (this.userIndex == 0) return 'node ' + this.name;
    return 'node #' + this.userIndex.toString() + ' (' + this.name + ')';
  }

  inPortIndex(name: string): i32 {
    for (let i = 0; i < this.inPorts.length; i++) if (this.inPorts[i].name == name) return i;
    return -2;
  }

  outPortIndex(name: string): i32 {
    for (let i = 0; i < this.outPorts.length; i++) if (this.outPorts[i].name == name) return i;
    return -2;
  }

  addDep(other: i32): void {
    if (!this.deps.includes(other)) this.deps.push(other);
  }
}

export const N_REQUEST: i32 = 0;
export const N_SERVICE_REQUEST: i32 = 1;
export const N_SERVICE_RESPONSE: i32 = 2;
export const N_RESPONSE: i32 = 3;
export const N_VAULT: i32 = 4;
export const N_IMPLICIT: i32 = 5;

export class Plan {
  id: i32 = 0;
  nodes: PNode[] = [];
  debug: bool = false;
  /** DIALECT_310 or DIALECT_311 (assembly/dialect.ts): whose semantics the flow runs with */
  dialect: i32 = DIALECT_311;
  vaultNames: string[] = [];
  vaultRefs: string[] = [];
  /** resources.cache as JSON, for cache nodes ('' when absent) */
  cacheJson: string = '';
  order: i32[] = [];
  /** flat output table layout for request contexts */
  outBase: StaticArray<i32> = new StaticArray<i32>(0);
  outCount: i32 = 0;
  depCount: StaticArray<i32> = new StaticArray<i32>(0);
  needsRequestBody: bool = false;
  /** request headers and query reach the module only when something reads them */
  needsRequestHeaders: bool = false;
  needsRequestQuery: bool = false;
  /** the response phase has work even without tracing */
  responsePhase: bool = false;
  responseBody: bool = false;
  errors: ConfigError[] = [];
  /** names of nodes that could not be read (no or unknown type): connections to them are not checked */
  lostNames: string[] = [];
  /** nodes with a bad name: checked (attributes, jq, templates) but not part of the graph */
  orphans: PNode[] = [];
  /** request contexts running on this plan */
  live: i32 = 0;

  error(msg: string, node: PNode | null, field: string | null = null): void {
    this.errors.push(new ConfigError(msg, node, field));
  }

  byName(name: string): i32 {
    for (let i = 0; i < this.nodes.length; i++) if (this.nodes[i].name == name) return i;
    return -1;
  }

  /** Releases host-side handles (compiled jq filters and templates). */
  release(): void {
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      if (n.jqHandle > 0) host_jq_free(n.jqHandle);
      if (n.tplHandle > 0) host_template_free(n.tplHandle);
      n.jqHandle = 0;
      n.tplHandle = 0;
    }
  }

  infoJson(w: ByteWriter): void {
    w.str('{"ok":true,"request_body":');
    w.str(this.needsRequestBody ? 'true' : 'false');
    w.str(',"request_headers":');
    w.str(this.needsRequestHeaders ? 'true' : 'false');
    w.str(',"request_query":');
    w.str(this.needsRequestQuery ? 'true' : 'false');
    w.str(',"response_phase":');
    w.str(this.responsePhase ? 'true' : 'false');
    w.str(',"response_body":');
    w.str(this.responseBody ? 'true' : 'false');
    w.str(',"debug":');
    w.str(this.debug ? 'true' : 'false');
    w.str(',"nodes":[');
    let first = true;
    for (let i = N_IMPLICIT; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      if (!first) w.byte(0x2c);
      first = false;
      w.str('{"index":');
      w.int(n.userIndex);
      w.str(',"name":');
      writeJsonString(w, n.name);
      w.str(',"type":');
      writeJsonString(w, n.typeName);
      w.str(',"phase":');
      w.str(n.phase == 0 ? '"request"' : '"response"');
      w.byte(0x7d);
    }
    w.str(']}');
  }

  errorsJson(w: ByteWriter): void {
    w.str('{"ok":false,"errors":[');
    for (let i = 0; i < this.errors.length; i++) {
      const e = this.errors[i];
      if (i > 0) w.byte(0x2c);
      w.str('{"message":');
      writeJsonString(w, this.dialect == DIALECT_310 ? configError310(e.message, e.node !== null ? e.node!.name : '', e.node !== null ? e.node!.typeName : '') : e.message);
      if (e.node !== null) {
        const n = e.node!;
        w.str(',"node":{"index":');
        w.int(n.userIndex);
        w.str(',"name":');
        writeJsonString(w, n.name);
        w.str(',"type":');
        writeJsonString(w, n.typeName);
        w.byte(0x7d);
      }
      if (e.field !== null) {
        w.str(',"field":');
        writeJsonString(w, e.field!);
      }
      w.byte(0x7d);
    }
    w.str(']}');
  }
}

class RawLink {
  constructor(
    public fromNode: string,
    public fromPort: string | null,
    public toNode: string,
    public toPort: string | null,
    public owner: PNode,
    /** where the owner declares it: `input`, `inputs.PORT`, `outputs`... */
    public field: string,
  ) {}
  fromLabel(): string {
    return this.fromPort === null ? this.fromNode : this.fromNode + '.' + this.fromPort!;
  }
  toLabel(): string {
    return this.toPort === null ? this.toNode : this.toNode + '.' + this.toPort!;
  }
}

function splitLabel(s: string): string[] {
  const t = s.trim();
  const dot = t.indexOf('.');
  if (dot < 0) return [t];
  const node = t.substring(0, dot).trim();
  const port = t.substring(dot + 1).trim();
  if (port == '$self') return [node];
  return [node, port];
}

/** Kong's schema limits (the plugin's published schema, 3.11 to 3.15) */
const MAX_NODES: i32 = 64;
const MAX_BRANCH_NODES: i32 = 64;
const MAX_VAULT_REFS: i32 = 64;
const MAX_LABEL: i32 = 255;
const PROPERTY_CONTENT_TYPES: string[] = ['application/json', 'application/octet-stream', 'text/plain'];

/** A string attribute longer than Kong's schema allows is an error in Kong's wording. */
function maxLength(plan: Plan, n: PNode, v: Value, key: string, max: i32): void {
  const a = v.get(key);
  if (a === null || a.typeKind() != Kind.STR) return;
  if (a.resolve().s.length > max) plan.error(n.label() + ': ' + key + ': length must be at most ' + max.toString(), n, key);
}

const NAME_OK = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';

function validName(name: string): bool {
  if (name.length == 0 || name.length > 255) return false;
  const c0 = name.charCodeAt(0);
  if (c0 == 45 || (c0 >= 48 && c0 <= 57)) return false; // not starting with '-' or a digit
  for (let i = 0; i < name.length; i++) {
    if (NAME_OK.indexOf(name.charAt(i)) < 0) return false;
  }
  return true;
}


/** Port type a static value feeds with. */
function staticPortType(v: Value): i32 {
  const k = v.typeKind();
  if (k == Kind.STR) return PortType.STRING;
  if (k == Kind.NUM) return PortType.NUMBER;
  if (k == Kind.BOOL) return PortType.BOOLEAN;
  if (k == Kind.OBJ) return PortType.MAP;
  return PortType.ANY;
}

// ------------------------------------------------------------------ build

export function buildPlan(cfg: Value): Plan {
  const plan = new Plan();
  if (cfg.typeKind() != Kind.OBJ) {
    plan.error('config: expected an object', null, 'config');
    return plan;
  }
  cfg.resolve();
  const keys = cfg.keys!;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k != 'nodes' && k != 'debug' && k != 'resources' && k != 'dialect') plan.error(k + ': unknown field' + didYouMean(k, ['nodes', 'debug', 'resources', 'dialect']), null, k);
  }
  readDialect(plan, cfg);
  const debug = cfg.get('debug');
  if (debug !== null && !debug.isNull()) {
    if (debug.typeKind() != Kind.BOOL) plan.error('debug: expected a boolean', null, 'debug');
    else plan.debug = debug.resolve().b;
  }

  // implicit nodes
  for (let i = 0; i < IMPLICIT_NAMES.length; i++) {
    const n = new PNode();
    n.index = i;
    n.name = IMPLICIT_NAMES[i];
    n.typeName = IMPLICIT_NAMES[i];
    n.type = i; // NodeType values 0..4 match IMPLICIT_NAMES order
    n.inPorts = fixedInputs(n.type);
    n.outPorts = fixedOutputs(n.type);
    n.selfInType = selfInputType(n.type);
    n.selfOutType = selfOutputType(n.type);
    plan.nodes.push(n);
  }
  readResources(plan, cfg.get('resources'));

  const nodesV = cfg.get('nodes');
  if (nodesV === null || nodesV.typeKind() != Kind.ARR) {
    plan.error('nodes: expected an array of nodes', null, 'nodes');
    return plan;
  }
  const items = nodesV.resolve().items!;
  // 3.10's filter accepted an empty flow
  if (items.length == 0 && plan.dialect != DIALECT_310) plan.error('nodes: at least one node is required', null, 'nodes');

  // Kong's schema: nodes has at most 64 entries
  if (items.length > MAX_NODES) plan.error('nodes: length must be at most ' + MAX_NODES.toString(), null, 'nodes');

  const links = new Array<RawLink>();
  for (let i = 0; i < items.length; i++) {
    readNode(plan, items[i], i + 1, links);
  }

  // Every stage runs, whatever the earlier ones found, so that one run
  // reports every error; a stage skips only what an earlier error left
  // unknown (connections to nodes that could not be read, the ports of
  // a broken node, phases of a cyclic graph).

  // inputs first, then outputs: an `output:` that lands on an input some
  // node already declares is the one reported as conflicting
  for (let i = 0; i < links.length; i++) if (links[i].toNode == links[i].owner.name) resolveLink(plan, links[i]);
  for (let i = 0; i < links.length; i++) if (links[i].toNode != links[i].owner.name) resolveLink(plan, links[i]);
  resolveBranches(plan);

  // connections that failed are left out: a cycle among the rest is a real one
  const acyclic = computeDependencies(plan);
  if (acyclic) computePhases(plan);
  if (acyclic && plan.dialect == DIALECT_310) markBodyPhase310(plan);
  compileNodes(plan, acyclic);
  if (plan.errors.length > 0) return plan;
  layoutOutputs(plan);
  return plan;
}

/**
 * The dialect: an explicit `dialect: "3.10"` or `"3.11"` wins (the gateway
 * sets "3.10" on filters read from `filter_chains`); otherwise a config in
 * which any node writes `inputs` or `outputs` as a list (3.10's shape) is
 * 3.10, and every other config is 3.11+.
 */
function readDialect(plan: Plan, cfg: Value): void {
  const d = cfg.get('dialect');
  if (d !== null && !d.isNull()) {
    const s = d.typeKind() == Kind.STR ? d.resolve().s : '';
    if (s == '3.10') plan.dialect = DIALECT_310;
    else if (s != '3.11') plan.error('dialect: expected "3.10" or "3.11"', null, 'dialect');
    return;
  }
  const nodes = cfg.get('nodes');
  if (nodes === null || nodes.typeKind() != Kind.ARR) return;
  const items = nodes.resolve().items!;
  for (let i = 0; i < items.length; i++) {
    const n = items[i];
    if (n.typeKind() != Kind.OBJ) continue;
    const ins = n.get('inputs');
    const outs = n.get('outputs');
    if ((ins !== null && ins.typeKind() == Kind.ARR) || (outs !== null && outs.typeKind() == Kind.ARR)) {
      plan.dialect = DIALECT_310;
      return;
    }
  }
}

function readResources(plan: Plan, res: Value | null): void {
  const vault = plan.nodes[N_VAULT];
  vault.selfOutType = PortType.MAP;
  if (res === null || res.isNull()) return;
  if (res.typeKind() != Kind.OBJ) {
    plan.error('resources: expected an object', null, 'resources');
    return;
  }
  res.resolve();
  const rk = res.keys!;
  for (let i = 0; i < rk.length; i++) {
    if (rk[i] != 'vault' && rk[i] != 'cache') plan.error('resources.' + rk[i] + ': unknown field' + didYouMean(rk[i], ['vault', 'cache']), null, 'resources.' + rk[i]);
  }
  const cache = res.get('cache');
  if (cache !== null && !cache.isNull()) {
    plan.cacheJson = cache.toJsonString();
    for (let i = 0, msgs = hostValidate('cache', plan.cacheJson); i < msgs.length; i++)
      plan.error('resources.cache: ' + msgs[i], null, 'resources.cache');
  }
  const v = res.get('vault');
  if (v === null || v.isNull()) return;
  if (v.typeKind() != Kind.OBJ) {
    plan.error('resources.vault: expected a map of names to vault references', null, 'resources.vault');
    vault.broken = true;
    return;
  }
  v.resolve();
  const keys = v.keys!;
  if (keys.length > MAX_VAULT_REFS) plan.error('resources.vault: length must be at most ' + MAX_VAULT_REFS.toString(), null, 'resources.vault');
  for (let i = 0; i < keys.length; i++) {
    const ref = v.vals![i];
    if (ref.typeKind() != Kind.STR) {
      plan.error('resources.vault.' + keys[i] + ': expected a vault reference string', null, 'resources.vault.' + keys[i]);
      vault.broken = true;
      continue;
    }
    const s = ref.resolve().s;
    if (!s.startsWith('{vault://') || !s.endsWith('}')) {
      plan.error('resources.vault.' + keys[i] + ': invalid vault reference ' + jsonQuote(s), null, 'resources.vault.' + keys[i]);
      vault.broken = true;
      continue;
    }
    plan.vaultNames.push(keys[i]);
    plan.vaultRefs.push(s);
    vault.outPorts.push(new PortSpec(keys[i], PortType.STRING));
  }
}

function readNode(plan: Plan, v: Value, userIndex: i32, links: RawLink[]): void {
  const n = new PNode();
  n.userIndex = userIndex;
  n.index = plan.nodes.length;
  if (v.typeKind() != Kind.OBJ) {
    n.name = '#' + userIndex.toString();
    plan.error('node #' + userIndex.toString() + ': expected an object', null, 'nodes');
    return;
  }
  v.resolve();
  n.config = v;
  // 3.10 names the node and its type in a bad name's error too
  const nameErrors = plan.errors.length;
  const nameV = v.get('name');
  const typeV = v.get('type');
  let nameOk = true;
  if (nameV === null || nameV.typeKind() != Kind.STR) {
    // unnamed nodes are allowed (nothing can refer to them); give a stable name
    n.name = 'node_' + userIndex.toString();
    if (nameV !== null && !nameV.isNull()) {
      plan.error('node #' + userIndex.toString() + ': name: expected a string', null, 'name');
      nameOk = false;
    }
  } else {
    n.name = nameV.resolve().s;
    if (IMPLICIT_NAMES.includes(n.name)) {
      plan.error('node #' + userIndex.toString() + ': name: ' + jsonQuote(n.name) + ' is a reserved node name', null, 'name');
      nameOk = false;
    } else if (!validName(n.name)) {
      plan.error(
        'node #' + userIndex.toString() + ': name: invalid node name ' + jsonQuote(n.name) + ' (use letters, digits, "_" and "-")',
        null,
        'name',
      );
      nameOk = false;
    } else if (plan.byName(n.name) >= 0) {
      plan.error('node #' + userIndex.toString() + ': name: duplicate node name ' + jsonQuote(n.name), null, 'name');
      nameOk = false;
    }
  }
  if (typeV === null || typeV.typeKind() != Kind.STR) {
    plan.error(n.label() + ': type: required field missing', n, 'type');
    if (nameOk) plan.lostNames.push(n.name);
    return;
  }
  n.typeName = typeV.resolve().s;
  if (plan.dialect == DIALECT_310) for (let k = nameErrors; k < plan.errors.length; k++) if (plan.errors[k].node === null) plan.errors[k].node = n;
  n.type = nodeTypeFromName(n.typeName);
  if (n.type < 0) {
    plan.error(n.label() + ': type: unknown node type ' + jsonQuote(n.typeName) + didYouMean(n.typeName, NODE_TYPE_NAMES), n, 'type');
    if (nameOk) plan.lostNames.push(n.name);
    return;
  }
  n.inPorts = fixedInputs(n.type);
  n.outPorts = fixedOutputs(n.type);
  n.selfInType = selfInputType(n.type);
  n.selfOutType = selfOutputType(n.type);
  // 3.10's call reports a failed dispatch on an `error` output instead of failing
  if (plan.dialect == DIALECT_310 && n.type == NodeType.CALL) n.outPorts.push(new PortSpec('error', PortType.STRING));
  // a node with a bad name is still checked, but nothing connects to it
  if (nameOk) plan.nodes.push(n);
  else plan.orphans.push(n);

  // unknown fields
  const allowed = allowedAttributes(n.type);
  const keys = v.keys!;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    // Kong 3.11+'s jq node has no field-level outputs (only 3.10's list shape has them)
    if (k == 'outputs' && n.type == NodeType.JQ && v.vals![i].typeKind() == Kind.OBJ && plan.dialect != DIALECT_310) {
      plan.error(n.label() + ': outputs: unknown field', n, k);
      continue;
    }
    if (COMMON_NODE_FIELDS.includes(k)) continue;
    // 3.10's filter ignored the attributes a node type does not know
    if (!allowed.includes(k) && plan.dialect != DIALECT_310) plan.error(n.label() + ': ' + k + ': unknown field' + didYouMean(k, allowed.concat(COMMON_NODE_FIELDS)), n, k);
  }

  readAttributes(plan, n, v);
  if (hostValidatedOptions(n.type) || n.type == NodeType.CACHE) {
    n.optionsJson = optionsOf(n, v);
    if (hostValidatedOptions(n.type)) {
      const msgs = hostValidate(n.typeName, n.optionsJson);
      for (let i = 0; i < msgs.length; i++) plan.error(n.label() + ': ' + msgs[i], n, null);
    }
  }
  // an orphan's connections are read for its ports (jq $variables) only
  readLinks(plan, n, v, nameOk ? links : new Array<RawLink>());
}

function attrString(plan: Plan, n: PNode, v: Value, key: string, required: bool): string | null {
  const a = v.get(key);
  if (a === null || a.isNull()) {
    if (required) plan.error(n.label() + ': ' + key + ': required field missing', n, key);
    return null;
  }
  if (a.typeKind() != Kind.STR) {
    plan.error(n.label() + ': ' + key + ': expected a string', n, key);
    return null;
  }
  return a.resolve().s;
}

function attrBool(plan: Plan, n: PNode, v: Value, key: string, dflt: bool): bool {
  const a = v.get(key);
  if (a === null || a.isNull()) return dflt;
  if (a.typeKind() != Kind.BOOL) {
    plan.error(n.label() + ': ' + key + ': expected a boolean', n, key);
    return dflt;
  }
  return a.resolve().b;
}

function attrInt(plan: Plan, n: PNode, v: Value, key: string, dflt: i32, min: i32, max: i32): i32 {
  const a = v.get(key);
  if (a === null || a.isNull()) return dflt;
  if (a.typeKind() != Kind.NUM) {
    plan.error(n.label() + ': ' + key + ': expected an integer', n, key);
    return dflt;
  }
  const x = a.resolve().n;
  if (x != Math.floor(x)) {
    plan.error(n.label() + ': ' + key + ': expected an integer', n, key);
    return dflt;
  }
  if (x < <f64>min || x > <f64>max) {
    plan.error(n.label() + ': ' + key + ': value should be between ' + min.toString() + ' and ' + max.toString(), n, key);
    return dflt;
  }
  return <i32>x;
}

/** url form: http(s)://host[:port][/path][?query] */
export function urlProblem(u: string): string | null {
  let rest: string;
  if (u.startsWith('http://')) rest = u.substring(7);
  else if (u.startsWith('https://')) rest = u.substring(8);
  else return 'missing or unsupported scheme (expected http:// or https://)';
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c == 47 || c == 63 || c == 35) {
      end = i;
      break;
    }
  }
  const authority = rest.substring(0, end);
  if (authority.length == 0) return 'missing host';
  for (let i = 0; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c <= 32 || c == 127) return 'invalid character in host';
  }
  const colon = authority.lastIndexOf(':');
  if (colon >= 0 && authority.indexOf(']') < colon) {
    const port = authority.substring(colon + 1);
    if (port.length == 0 || port.length > 5) return 'invalid port';
    for (let i = 0; i < port.length; i++) {
      const c = port.charCodeAt(i);
      if (c < 48 || c > 57) return 'invalid port';
    }
    if (I32.parseInt(port) > 65535) return 'invalid port';
    if (colon == 0) return 'missing host';
  }
  return null;
}

function readAttributes(plan: Plan, n: PNode, v: Value): void {
  const t = n.type;
  // jwt_sign has no default algorithm in Kong's schema (the host checks its value)
  if (t == NodeType.JWT_SIGN) {
    const alg = v.get('algorithm');
    if (alg === null || alg.isNull()) plan.error(n.label() + ': algorithm: required field missing', n, 'algorithm');
  }
  if (t == NodeType.CALL) {
    // Kong 3.13+: the url may come from the `url` input instead
    const urlIn = v.get('inputs');
    const dynamicUrl = urlIn !== null && urlIn.typeKind() == Kind.OBJ && urlIn.get('url') !== null;
    const url = attrString(plan, n, v, 'url', !dynamicUrl);
    if (url !== null) {
      const p = urlProblem(url);
      if (p !== null) plan.error(n.label() + ': url: invalid url ' + jsonQuote(url) + ': ' + p!, n, 'url');
      n.url = url;
    }
    maxLength(plan, n, v, 'method', 32);
    const m = attrString(plan, n, v, 'method', false);
    if (m !== null) {
      let ok = m.length > 0;
      for (let i = 0; i < m.length; i++) {
        const c = m.charCodeAt(i);
        if (c < 65 || c > 90) ok = false;
      }
      if (!ok) plan.error(n.label() + ': method: invalid method ' + jsonQuote(m) + ' (uppercase letters only)', n, 'method');
      n.method = m;
    }
    // 3.10's timeout is in seconds
    if (plan.dialect == DIALECT_310) {
      const secs = attrInt(plan, n, v, 'timeout', -1, 0, 2147483);
      n.timeout = secs > 0 ? secs * 1000 : secs;
    } else n.timeout = attrInt(plan, n, v, 'timeout', -1, 0, 2147483646);
    n.sslVerify = attrBool(plan, n, v, 'ssl_verify', true);
    const sni = attrString(plan, n, v, 'ssl_server_name', false);
    if (sni !== null) n.sslServerName = sni;
  } else if (t == NodeType.JQ) {
    // 3.10's jq defaults to `.`
    attrString(plan, n, v, 'jq', plan.dialect != DIALECT_310);
  } else if (t == NodeType.HANDLEBARS) {
    // 3.10's template defaults to an empty one
    attrString(plan, n, v, 'template', plan.dialect != DIALECT_310);
    const ct = attrString(plan, n, v, 'content_type', false);
    n.contentType = ct !== null ? ct : 'text/plain';
  } else if (t == NodeType.EXIT) {
    n.status = attrInt(plan, n, v, 'status', 200, plan.dialect == DIALECT_310 ? 100 : 200, 599);
    // 3.10 warns by default when a response-body exit cannot set status or headers
    n.warnHeadersSent = attrBool(plan, n, v, 'warn_headers_sent', plan.dialect == DIALECT_310);
    const st = v.get('status');
    n.statusSet = st !== null && !st.isNull();
  } else if (t == NodeType.PROPERTY) {
    const p = attrString(plan, n, v, 'property', true);
    if (p !== null) {
      if (p.length == 0) plan.error(n.label() + ': property: must not be empty', n, 'property');
      n.property = p;
    }
    maxLength(plan, n, v, 'property', 255);
    const ct = attrString(plan, n, v, 'content_type', false);
    if (ct !== null && !PROPERTY_CONTENT_TYPES.includes(ct) && plan.dialect != DIALECT_310)
      plan.error(n.label() + ': content_type: expected one of: ' + PROPERTY_CONTENT_TYPES.join(', '), n, 'content_type');
    if (ct !== null) n.contentType = ct;
    n.nonNil = attrBool(plan, n, v, 'non_nil', false);
  } else if (t == NodeType.STATIC) {
    const vals = v.get('values');
    if (vals === null || vals.isNull()) {
      plan.error(n.label() + ': values: required field missing', n, 'values');
      n.broken = true;
    } else if (vals.typeKind() != Kind.OBJ) {
      plan.error(n.label() + ': values: expected an object', n, 'values');
      n.broken = true;
    } else {
      vals.resolve();
      n.staticValue = vals;
      for (let i = 0; i < vals.keys!.length; i++) {
        n.outPorts.push(new PortSpec(vals.keys![i], staticPortType(vals.vals![i])));
      }
    }
  } else if (t == NodeType.CACHE) {
    n.ttl = attrInt(plan, n, v, 'ttl', -1, 0, 2147483646);
    n.bypassOnError = attrBool(plan, n, v, 'bypass_on_error', false);
    if (plan.cacheJson.length == 0) plan.error(n.label() + ': a cache node needs resources.cache', n, 'resources.cache');
  } else if (t == NodeType.BRANCH) {
    for (let side = 0; side < 2; side++) {
      const key = side == 0 ? 'then' : 'else';
      const list = v.get(key);
      if (list === null || list.isNull()) continue;
      if (list.typeKind() != Kind.ARR) {
        plan.error(n.label() + ': ' + key + ': expected an array of node names', n, key);
        continue;
      }
      const items = list.resolve().items!;
      if (items.length > MAX_BRANCH_NODES) plan.error(n.label() + ': ' + key + ': length must be at most ' + MAX_BRANCH_NODES.toString(), n, key);
      for (let i = 0; i < items.length; i++) {
        if (items[i].typeKind() != Kind.STR) plan.error(n.label() + ': ' + key + ': expected an array of node names', n, key);
      }
    }
  }
}

/** The node's own attributes as a JSON object (for capability nodes). */
function optionsOf(n: PNode, v: Value): string {
  const allowed = allowedAttributes(n.type);
  const o = Value.obj();
  for (let i = 0; i < allowed.length; i++) {
    const a = v.get(allowed[i]);
    if (a !== null) o.set(allowed[i], a);
  }
  return o.toJsonString();
}

/** Asks the host to validate capability options; returns its messages. */
function hostValidate(kind: string, optionsJson: string): string[] {
  const op = '{"op":"validate","kind":' + jsonQuote(kind) + ',"options":' + optionsJson + '}';
  const b = String.UTF8.encode(op);
  const r = takeResult(host_call(changetype<usize>(b), b.byteLength, 0, -1));
  const out = new Array<string>();
  if (!r.ok) {
    out.push(r.text);
    return out;
  }
  const p = new JsonParser(r.data, 0, r.data.byteLength);
  const list = p.parseDocument();
  if (list === null || list.kind != Kind.ARR) return out;
  for (let i = 0; i < list.items!.length; i++) {
    const m = list.items![i];
    if (m.kind == Kind.STR) out.push(m.s);
  }
  return out;
}

function readLinks(plan: Plan, n: PNode, v: Value, links: RawLink[]): void {
  // field-level connections first: a node-wise `input` that overlaps them
  // is the one reported as conflicting
  readLinkList(plan, n, v.get('inputs'), 'inputs', true, links);
  readLinkList(plan, n, v.get('outputs'), 'outputs', false, links);
  const input = v.get('input');
  if (input !== null && !input.isNull()) {
    if (input.typeKind() != Kind.STR) plan.error(n.label() + ': input: expected a string', n, 'input');
    else {
      const s = input.resolve().s;
      const p = splitLabel(s);
      if (!labelTooLong(plan, n, s, 'input')) links.push(new RawLink(p[0], p.length > 1 ? p[1] : null, n.name, null, n, 'input'));
    }
  }
  const output = v.get('output');
  if (output !== null && !output.isNull()) {
    if (output.typeKind() != Kind.STR) plan.error(n.label() + ': output: expected a string', n, 'output');
    else {
      const s = output.resolve().s;
      const p = splitLabel(s);
      if (!labelTooLong(plan, n, s, 'output')) links.push(new RawLink(n.name, null, p[0], p.length > 1 ? p[1] : null, n, 'output'));
    }
  }

}

/** `inputs`/`outputs`: a map (3.11+) or a list of single-key maps or labels (3.10). */
function readLinkList(plan: Plan, n: PNode, v: Value | null, key: string, isInput: bool, links: RawLink[]): void {
  if (v === null || v.isNull()) return;
  const k = v.typeKind();
  if (k == Kind.OBJ) {
    v.resolve();
    for (let i = 0; i < v.keys!.length; i++) addNamedLink(plan, n, v.keys![i], v.vals![i], key, isInput, links, key + '.' + v.keys![i]);
    return;
  }
  if (k == Kind.ARR) {
    const items = v.resolve().items!;
    let bare = 0;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const ik = it.typeKind();
      if (ik == Kind.OBJ) {
        it.resolve();
        for (let j = 0; j < it.keys!.length; j++) addNamedLink(plan, n, it.keys![j], it.vals![j], key, isInput, links, key + '[' + i.toString() + '].' + it.keys![j]);
      } else if (ik == Kind.STR) {
        // a bare label: the port is named after it
        const label = it.resolve().s.trim();
        const field = key + '[' + i.toString() + ']';
        // 3.10: on a node with fixed ports, the k-th bare input fills its k-th port, a bare output reads its first
        const fixed = isInput ? !userDefinedInputs(n.type) : !userDefinedOutputs(n.type);
        if (plan.dialect == DIALECT_310 && fixed) {
          const p = splitLabel(label);
          if (!isInput) links.push(new RawLink(n.name, null, p[0], p.length > 1 ? p[1] : null, n, field));
          else if (bare >= n.inPorts.length) plan.error(n.label() + ': ' + key + ': too many inputs declared (node type supports ' + n.inPorts.length.toString() + ' inputs)', n, key);
          else links.push(new RawLink(p[0], p.length > 1 ? p[1] : null, n.name, n.inPorts[bare].name, n, field));
          bare++;
          continue;
        }
        addNamedLink(plan, n, label, Value.str(label), key, isInput, links, field);
      } else {
        plan.error(n.label() + ': ' + key + ': invalid list value', n, key);
        n.broken = true;
      }
    }
    return;
  }
  plan.error(n.label() + ': ' + key + ': expected a map of port names to connections', n, key);
  n.broken = true;
}

/** Kong's schema: a connection label is 1 to 255 characters. */
function labelTooLong(plan: Plan, n: PNode, label: string, field: string): bool {
  if (label.length <= MAX_LABEL) return false;
  plan.error(n.label() + ': ' + field + ': length must be at most ' + MAX_LABEL.toString(), n, field);
  return true;
}

function addNamedLink(plan: Plan, n: PNode, port: string, target: Value, key: string, isInput: bool, links: RawLink[], field: string): void {
  if (target.typeKind() != Kind.STR) {
    plan.error(n.label() + ': ' + key + '.' + port + ': expected a connection label string', n, key);
    n.broken = true;
    return;
  }
  const label = target.resolve().s;
  if (labelTooLong(plan, n, label, field)) return;
  const p = splitLabel(label);
  if (isInput) {
    if (userDefinedInputs(n.type) && n.inPortIndex(port) < 0) n.inPorts.push(new PortSpec(port, PortType.ANY));
    links.push(new RawLink(p[0], p.length > 1 ? p[1] : null, n.name, port, n, field));
  } else {
    if (userDefinedOutputs(n.type) && n.outPortIndex(port) < 0) n.outPorts.push(new PortSpec(port, PortType.ANY));
    links.push(new RawLink(n.name, port, p[0], p.length > 1 ? p[1] : null, n, field));
  }
}

// ------------------------------------------------------------- connections

function connErr(plan: Plan, l: RawLink, dst: PNode | null, msg: string): void {
  // attributed to the node whose config declares the connection
  plan.error('invalid connection (' + jsonQuote(l.fromLabel()) + ' -> ' + jsonQuote(l.toLabel()) + '): ' + msg, l.owner, l.field);
}

function connect(plan: Plan, l: RawLink, dst: PNode, port: i32, c: Conn): void {
  const existing = port == SELF ? dst.selfConn : dst.inConns[port];
  // the same link declared on both ends (B's `inputs` and A's `outputs`) is one connection
  if (existing !== null && existing.srcNode == c.srcNode && existing.srcPort == c.srcPort) return;
  let clash: Conn | null = existing;
  if (clash === null) {
    // node-wise any -> object/map input conflicts with field-level inputs
    if (port == SELF && dst.selfInType == PortType.OBJECT) {
      for (let i = 0; i < dst.inConns.length; i++) if (dst.inConns[i] !== null) { clash = dst.inConns[i]; break; }
    } else if (port != SELF && dst.selfConn !== null && dst.selfInType == PortType.OBJECT) {
      clash = dst.selfConn;
    } else if (port == SELF && dst.selfInType == PortType.ANY) {
      // jq/handlebars/property: `input` and `inputs` are exclusive
      for (let i = 0; i < dst.inConns.length; i++) if (dst.inConns[i] !== null) { clash = dst.inConns[i]; break; }
    } else if (port != SELF && dst.selfConn !== null) {
      clash = dst.selfConn;
    }
  }
  if (clash !== null) {
    connErr(plan, l, dst, 'conflicts with existing connection (' + clash!.label + ')');
    return;
  }
  if (port == SELF) dst.selfConn = c;
  else dst.inConns[port] = c;
}

function resolveLink(plan: Plan, l: RawLink): void {
  const si = plan.byName(l.fromNode);
  const di = plan.byName(l.toNode);
  if (si < 0) {
    // a node that could not be read already has its error
    if (!plan.lostNames.includes(l.fromNode)) connErr(plan, l, null, 'unknown node ' + jsonQuote(l.fromNode) + didYouMean(l.fromNode, nodeNames(plan)));
    return;
  }
  if (di < 0) {
    if (!plan.lostNames.includes(l.toNode)) connErr(plan, l, null, 'unknown node ' + jsonQuote(l.toNode) + didYouMean(l.toNode, nodeNames(plan)));
    return;
  }
  if (si == di) {
    connErr(plan, l, null, 'node cannot connect to itself');
    return;
  }
  const src = plan.nodes[si];
  const dst = plan.nodes[di];
  // its ports are unknown after an earlier error
  if (src.broken || dst.broken) return;
  if (plan.dialect == DIALECT_310) {
    // 3.10 names a node-wise input after the source as written (`input: CALL` is $CALL, though it reads CALL.body)
    if (l.toPort === null) dst.selfSource = l.fromLabel();
    portsAs310(l, src, dst);
  }
  if (dst.inConns.length != dst.inPorts.length) {
    while (dst.inConns.length < dst.inPorts.length) dst.inConns.push(null);
  }
  const label = jsonQuote(l.fromLabel()) + ' -> ' + jsonQuote(l.toLabel());
  // handlebars' one output port is called `output` (Kong's port table): it is the node-wise value
  if (src.type == NodeType.HANDLEBARS && l.fromPort !== null && l.fromPort! == 'output') l.fromPort = null;

  // source port
  let sp = SELF;
  let st = src.selfOutType;
  if (l.fromPort !== null) {
    sp = src.outPortIndex(l.fromPort!);
    if (sp < 0) {
      connErr(plan, l, dst, 'node ' + jsonQuote(src.name) + ' has no output ' + jsonQuote(l.fromPort!) + didYouMean(l.fromPort!, portNames(src.outPorts)));
      return;
    }
    st = src.outPorts[sp].type;
  } else if (st < 0) {
    connErr(plan, l, dst, 'node ' + jsonQuote(src.name) + ' has no outputs');
    return;
  }
  // destination port
  let dp = SELF;
  let dt = dst.selfInType;
  if (l.toPort !== null) {
    dp = dst.inPortIndex(l.toPort!);
    if (dp < 0) {
      connErr(plan, l, dst, 'node ' + jsonQuote(dst.name) + ' has no input ' + jsonQuote(l.toPort!) + didYouMean(l.toPort!, portNames(dst.inPorts)));
      return;
    }
    dt = dst.inPorts[dp].type;
  } else if (dt < 0) {
    connErr(plan, l, dst, 'node ' + jsonQuote(dst.name) + ' has no inputs');
    return;
  }

  // object -> object node-wise: connect every field the two have in common
  if (sp == SELF && dp == SELF && dt == PortType.OBJECT && (st == PortType.OBJECT || src.type == NodeType.STATIC)) {
    let common = 0;
    for (let i = 0; i < dst.inPorts.length; i++) {
      const j = src.outPortIndex(dst.inPorts[i].name);
      if (j < 0) continue;
      common++;
      const c = compat(src.outPorts[j].type, dst.inPorts[i].type);
      const fl = jsonQuote(src.name + '.' + dst.inPorts[i].name) + ' -> ' + jsonQuote(dst.name + '.' + dst.inPorts[i].name);
      if (c < 0) {
        connErr(
          plan,
          l,
          dst,
          'type mismatch: ' + portTypeName(src.outPorts[j].type) + ' -> ' + portTypeName(dst.inPorts[i].type) + ' (field ' + jsonQuote(dst.inPorts[i].name) + ')',
        );
        continue;
      }
      connect(plan, l, dst, i, new Conn(si, j, c == 1 ? dst.inPorts[i].type : -1, fl));
    }
    if (common == 0) connErr(plan, l, dst, 'no fields in common between ' + jsonQuote(src.name) + ' and ' + jsonQuote(dst.name));
    return;
  }
  const c = compat(st, dt);
  if (c < 0) {
    connErr(plan, l, dst, 'type mismatch: ' + portTypeName(st) + ' -> ' + portTypeName(dt));
    return;
  }
  connect(plan, l, dst, dp, new Conn(si, sp, c == 1 ? dt : -1, label));
}

/**
 * 3.10's port resolution: the property node's one port is called `value`,
 * and a node-wise end on a node with fixed ports is its first port (a jq
 * result into `call` or `exit` is the body; `input: CALL` reads its body).
 */
function portsAs310(l: RawLink, src: PNode, dst: PNode): void {
  if (src.type == NodeType.PROPERTY && l.fromPort == 'value') l.fromPort = null;
  if (dst.type == NodeType.PROPERTY && l.toPort == 'value') l.toPort = null;
  if (l.fromPort === null && src.selfOutType == PortType.OBJECT && src.outPorts.length > 0) l.fromPort = src.outPorts[0].name;
  if (l.toPort === null && dst.selfInType == PortType.OBJECT && dst.inPorts.length > 0) l.toPort = dst.inPorts[0].name;
}

/** Names a connection may have meant: every node's, those that could not be read included. */
function nodeNames(plan: Plan): string[] {
  const out = new Array<string>();
  for (let i = 0; i < plan.nodes.length; i++) out.push(plan.nodes[i].name);
  return out.concat(plan.lostNames);
}

function userNodeNames(plan: Plan): string[] {
  const out = new Array<string>();
  for (let i = N_IMPLICIT; i < plan.nodes.length; i++) out.push(plan.nodes[i].name);
  return out.concat(plan.lostNames);
}

function portNames(ports: PortSpec[]): string[] {
  const out = new Array<string>();
  for (let i = 0; i < ports.length; i++) out.push(ports[i].name);
  return out;
}

function resolveBranches(plan: Plan): void {
  for (let i = N_IMPLICIT; i < plan.nodes.length; i++) {
    const n = plan.nodes[i];
    if (n.type != NodeType.BRANCH) continue;
    for (let side = 0; side < 2; side++) {
      const key = side == 0 ? 'then' : 'else';
      const list = n.config.get(key);
      if (list === null || list.typeKind() != Kind.ARR) continue;
      const items = list.resolve().items!;
      for (let j = 0; j < items.length; j++) {
        if (items[j].typeKind() != Kind.STR) continue;
        const target = items[j].resolve().s;
        const ti = plan.byName(target);
        if (ti < N_IMPLICIT) {
          if (!plan.lostNames.includes(target)) {
            plan.error(n.label() + ': ' + key + ': unknown node ' + jsonQuote(target) + didYouMean(target, userNodeNames(plan)), n, key);
          }
          continue;
        }
        if (ti == i) {
          plan.error(n.label() + ': ' + key + ': a branch cannot list itself', n, key);
          continue;
        }
        if (n.branchThen.includes(ti) || n.branchElse.includes(ti)) {
          plan.error(n.label() + ': ' + key + ': node ' + jsonQuote(target) + ' is listed twice', n, key);
          continue;
        }
        if (side == 0) n.branchThen.push(ti);
        else n.branchElse.push(ti);
      }
    }
  }
}

// ------------------------------------------------------------ dependencies

/** Dependencies, cycles (every one reported) and the topological order; false when the graph has a cycle. */
function computeDependencies(plan: Plan): bool {
  const nodes = plan.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    while (n.inConns.length < n.inPorts.length) n.inConns.push(null);
    for (let j = 0; j < n.inConns.length; j++) {
      const c = n.inConns[j];
      if (c !== null) n.addDep(c.srcNode);
    }
    if (n.selfConn !== null) n.addDep(n.selfConn!.srcNode);
    // nodes a branch lists wait for its decision
    for (let j = 0; j < n.branchThen.length; j++) nodes[n.branchThen[j]].addDep(i);
    for (let j = 0; j < n.branchElse.length; j++) nodes[n.branchElse[j]].addDep(i);
  }
  // the upstream answers only after the service request was sent
  nodes[N_SERVICE_RESPONSE].addDep(N_SERVICE_REQUEST);
  nodes[N_RESPONSE].addDep(N_SERVICE_RESPONSE);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    for (let j = 0; j < n.deps.length; j++) nodes[n.deps[j]].dependants.push(i);
  }

  // cycle detection (DFS over "depends on" edges, user nodes first)
  const color = new Array<i32>(nodes.length).fill(0);
  const stack = new Array<i32>();
  let acyclic = true;
  for (let k = 0; k < nodes.length; k++) {
    const start = (k + N_IMPLICIT) % nodes.length;
    if (color[start] == 0 && !dfs(plan, start, color, stack)) acyclic = false;
  }
  if (!acyclic) return false;
  // topological order (dependencies first)
  const order = new Array<i32>();
  const done = new Array<bool>(nodes.length).fill(false);
  for (let k = 0; k < nodes.length; k++) topo(plan, (k + N_IMPLICIT) % nodes.length, done, order);
  plan.order = order;
  return true;
}

/** Depth-first search for cycles; reports each edge that closes one (once) and goes on. False when it found one. */
function dfs(plan: Plan, i: i32, color: i32[], stack: i32[]): bool {
  color[i] = 1;
  stack.push(i);
  const n = plan.nodes[i];
  let ok = true;
  for (let j = 0; j < n.deps.length; j++) {
    const d = n.deps[j];
    if (color[d] == 1) {
      // report the first edge of the cycle, starting at the revisited node
      const at = stack.indexOf(d);
      const next = at + 1 < stack.length ? stack[at + 1] : i;
      const a = plan.nodes[d];
      const b = plan.nodes[next];
      const msg = 'invalid dependency (' + a.label() + ' -> ' + b.label() + '): circular dependency';
      let seen = false;
      for (let e = 0; e < plan.errors.length; e++) if (plan.errors[e].message == msg) seen = true;
      if (!seen) plan.error(msg, a.userIndex > 0 ? a : b, null);
      ok = false;
      continue;
    }
    if (color[d] == 0 && !dfs(plan, d, color, stack)) ok = false;
  }
  stack.pop();
  color[i] = 2;
  return ok;
}

function topo(plan: Plan, i: i32, done: bool[], order: i32[]): void {
  if (done[i]) return;
  done[i] = true;
  const n = plan.nodes[i];
  for (let j = 0; j < n.deps.length; j++) topo(plan, n.deps[j], done, order);
  order.push(i);
}

function computePhases(plan: Plan): void {
  const nodes = plan.nodes;
  for (let k = 0; k < plan.order.length; k++) {
    const n = nodes[plan.order[k]];
    let phase = n.index == N_SERVICE_RESPONSE || n.index == N_RESPONSE ? 1 : 0;
    for (let j = 0; j < n.deps.length; j++) if (nodes[n.deps[j]].phase > phase) phase = nodes[n.deps[j]].phase;
    n.phase = phase;
  }
  // what the host must provide
  const req = nodes[N_REQUEST];
  for (let i = 0; i < req.dependants.length; i++) {
    const d = nodes[req.dependants[i]];
    if (readsPort(d, N_REQUEST, 0)) plan.needsRequestBody = true;
    if (readsPort(d, N_REQUEST, 1)) plan.needsRequestHeaders = true;
    if (readsPort(d, N_REQUEST, 2)) plan.needsRequestQuery = true;
  }
  // the body is decoded by its content-type; a debug plan looks for the trace header (and traces show both)
  if (plan.needsRequestBody || plan.debug) plan.needsRequestHeaders = true;
  // a 3.10 header map into service_request replaces the request's headers: their names are needed to remove them
  const sr = nodes[N_SERVICE_REQUEST];
  if (plan.dialect == DIALECT_310 && sr.inConns.length > 1 && sr.inConns[1] !== null) plan.needsRequestHeaders = true;
  if (plan.debug) plan.needsRequestQuery = true;
  const resp = nodes[N_SERVICE_RESPONSE];
  for (let i = 0; i < resp.dependants.length; i++) {
    const d = nodes[resp.dependants[i]];
    if (readsPort(d, N_SERVICE_RESPONSE, 0) || readsPort(d, N_SERVICE_RESPONSE, 3)) plan.responseBody = true;
  }
  let responseWork = false;
  for (let i = N_IMPLICIT; i < nodes.length; i++) if (nodes[i].phase == 1) responseWork = true;
  const r = nodes[N_RESPONSE];
  if (r.selfConn !== null) responseWork = true;
  for (let i = 0; i < r.inConns.length; i++) if (r.inConns[i] !== null) responseWork = true;
  plan.responsePhase = responseWork;
  // raw_body (output 3 of call and service_response) is built only when read
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (n.type != NodeType.CALL && n.type != NodeType.SERVICE_RESPONSE) continue;
    for (let j = 0; j < n.dependants.length; j++) if (readsPort(nodes[n.dependants[j]], i, 3)) n.rawBodyUsed = true;
    if (n.type != NodeType.CALL) continue;
    // a call's answer headers cross only when read: most flows read just the body
    if (plan.debug) n.headersUsed = true;
    for (let j = 0; j < n.dependants.length; j++) if (readsPort(nodes[n.dependants[j]], i, 1)) n.headersUsed = true;
  }
}

/** 3.10 ran a node in its response-body phase when it waited, through any path, for service_response.body. */
function markBodyPhase310(plan: Plan): void {
  for (let k = 0; k < plan.order.length; k++) {
    const n = plan.nodes[plan.order[k]];
    if (n.index < N_IMPLICIT) continue;
    let body = readsPort(n, N_SERVICE_RESPONSE, 0);
    for (let j = 0; j < n.deps.length && !body; j++) body = plan.nodes[n.deps[j]].bodyPhase310;
    n.bodyPhase310 = body;
  }
}

/** Does node `d` read output `port` of node `src` (directly or via $self)? */
function readsPort(d: PNode, src: i32, port: i32): bool {
  for (let i = 0; i < d.inConns.length; i++) {
    const c = d.inConns[i];
    if (c !== null && c.srcNode == src && (c.srcPort == port || c.srcPort == SELF)) return true;
  }
  const s = d.selfConn;
  return s !== null && s.srcNode == src && (s.srcPort == port || s.srcPort == SELF);
}

// ---------------------------------------------------------------- compile

/** Compiles every jq filter and template (orphans' too, then freed); the property checks need the phases (`phased`). */
function compileNodes(plan: Plan, phased: bool): void {
  for (let i = N_IMPLICIT; i < plan.nodes.length; i++) compileNode(plan, plan.nodes[i], phased);
  for (let i = 0; i < plan.orphans.length; i++) {
    const n = plan.orphans[i];
    compileNode(plan, n, false);
    if (n.jqHandle > 0) host_jq_free(n.jqHandle);
    if (n.tplHandle > 0) host_template_free(n.tplHandle);
    n.jqHandle = 0;
    n.tplHandle = 0;
  }
}

function compileNode(plan: Plan, n: PNode, phased: bool): void {
  if (n.type == NodeType.JQ) {
    const jqV = n.config.get('jq');
    const dialect310 = plan.dialect == DIALECT_310;
    if ((jqV === null || jqV.typeKind() != Kind.STR) && !(dialect310 && (jqV === null || jqV.isNull()))) return; // its error is reported already
    const filter = jqV === null || jqV.isNull() ? '.' : jqV.resolve().s;
    // named inputs are also bound as $variables (3.10 configs)
    const vars = new ByteWriter(64);
    vars.byte(0x5b);
    let count = 0;
    for (let j = 0; j < n.inPorts.length; j++) {
      // 3.10 binds every input, under its port's name made a variable name (the input object's keys follow)
      if (dialect310) n.inPorts[j].name = jqVariableName310(n.inPorts[j].name);
      const name = n.inPorts[j].name;
      if (!isIdentifier(name)) continue;
      if (count++ > 0) vars.byte(0x2c);
      writeJsonString(vars, name);
      n.jqVarNames.push(name);
    }
    vars.byte(0x5d);
    // 3.10: a node-wise input is also `$` + its source's label (`input: request.headers` -> $request_headers)
    const selfVar = dialect310 && n.selfConn !== null ? jqVariableName310(n.selfSource) : '';
    // (entries starting with `@` are requests to the host, never jq variable names: a host that does not know them binds a variable nobody reads)
    if (selfVar.length > 0) {
      vars.len--;
      if (count++ > 0) vars.byte(0x2c);
      writeJsonString(vars, '@input:' + selfVar);
      vars.byte(0x5d);
    }
    // 3.10's jq was jaq: its syntax is accepted too (host/jq: the `jaq` syntax)
    if (dialect310) {
      vars.len--;
      vars.str(count > 0 ? ',"@syntax:jaq"]' : '"@syntax:jaq"]');
    }
    const fb = String.UTF8.encode(filter);
    const r = host_jq_compile(changetype<usize>(fb), fb.byteLength, vars.ptr, vars.len);
    if (r > 0) {
      n.jqHandle = r;
      // the whole input is a variable too: no cutting it to what `.` reads
      n.jqPaths = selfVar.length > 0 ? null : inputPathTree(r);
      n.jqSimple = selfVar.length > 0 ? null : simpleProgram(r);
    } else {
      const msg = takeResult(r).text;
      // with its inputs unreadable, its $variables are unknown: an undefined one is no news
      if (!(n.broken && msg.includes(' is not defined'))) plan.error(n.label() + ': jq: ' + msg, n, 'jq');
    }
  } else if (n.type == NodeType.HANDLEBARS) {
    const tV = n.config.get('template');
    const absent310 = plan.dialect == DIALECT_310 && (tV === null || tV.isNull());
    if (!absent310 && (tV === null || tV.typeKind() != Kind.STR)) return;
    const tb = String.UTF8.encode(absent310 ? '' : tV!.resolve().s);
    const r = host_template_compile(changetype<usize>(tb), tb.byteLength);
    if (r > 0) n.tplHandle = r;
    else plan.error(n.label() + ': template: ' + takeResult(r).text, n, 'template');
  } else if (n.type == NodeType.PROPERTY) {
    const sets = n.selfConn !== null && n.property.length > 0;
    if (sets && !isWritableProperty(n.property)) {
      plan.error(n.label() + ': property: cannot set ' + jsonQuote(n.property) + ' (unknown or read-only property)', n, 'property');
    }
    if (sets && phased && n.phase == 1 && (n.property == 'kong.service.target' || n.property == 'kong.service.upstream' || n.property == 'kong.service.request.scheme')) {
      plan.error(n.label() + ': property: ' + jsonQuote(n.property) + ' can only be set before proxying', n, 'property');
    }
  }
}

/**
 * Object keys a jq filter looks up on its way to the values it uses (from
 * the host's analysis, `jq_input_paths`); a `whole` node's value is used
 * as it is. The jq node passes only these parts of its input.
 */
export class PathTree {
  whole: bool = false;
  keys: string[] = [];
  /** the keys as UTF-8, compared with raw JSON key bytes */
  keyBytes: ArrayBuffer[] = [];
  kids: PathTree[] = [];

  child(key: string): PathTree {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.kids[i];
    const t = new PathTree();
    this.keys.push(key);
    this.keyBytes.push(String.UTF8.encode(key));
    this.kids.push(t);
    return t;
  }

  /** the subtree for `key`, or null when the filter never looks it up */
  find(key: string): PathTree | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.kids[i];
    return null;
  }
}

/** The filter's input paths as a tree, or null when it may use its whole input (or the host does not say). */
function inputPathTree(handle: i32): PathTree | null {
  const r = takeResult(host_jq_input_paths(handle));
  if (!r.ok) return null;
  const v = parseJson(r.data);
  if (v === null || v.typeKind() != Kind.ARR) return null;
  const paths = v.resolve().items!;
  if (paths.length == 0) return null;
  const root = new PathTree();
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    if (p.typeKind() != Kind.ARR) return null;
    const keys = p.resolve().items!;
    if (keys.length == 0) return null;
    let t = root;
    for (let k = 0; k < keys.length; k++) {
      if (keys[k].typeKind() != Kind.STR) return null;
      t = t.child(keys[k].resolve().s);
    }
    t.whole = true;
  }
  return root;
}

/** The filter's simple form from the host, compiled; null when it has none. */
function simpleProgram(handle: i32): JqOp | null {
  const r = takeResult(host_jq_simple(handle));
  if (!r.ok) return null;
  const v = parseJson(r.data);
  return v === null ? null : compileSimple(v);
}

function isIdentifier(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95;
    const digit = c >= 48 && c <= 57;
    if (!(alpha || (digit && i > 0))) return false;
  }
  return true;
}

/** Precomputes the flat per-request tables (port offsets, dependency counts). */
function layoutOutputs(plan: Plan): void {
  const n = plan.nodes.length;
  plan.outBase = new StaticArray<i32>(n);
  plan.depCount = new StaticArray<i32>(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    plan.outBase[i] = at;
    at += plan.nodes[i].outPorts.length;
    plan.depCount[i] = plan.nodes[i].deps.length;
  }
  plan.outCount = at;
}
