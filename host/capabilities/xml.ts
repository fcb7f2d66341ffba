/**
 * XML capability for the Datakit `xml_to_json` and `json_to_xml` nodes.
 *
 * Parsing uses fast-xml-parser (validator + ordered parser) with entity
 * processing switched OFF; this module then decodes only the five predefined
 * XML entities and numeric character references. DOCTYPE declarations are
 * rejected outright, so neither external entities (XXE) nor internal entity
 * expansion (billion laughs) can ever happen. Input size and nesting depth
 * are bounded (limits.xml_input_bytes, limits.xml_depth). The conversions
 * follow Kong 3.13+'s node reference, examples and plugin schema
 * (docs/compat.md#xml); docs/capabilities.md has the rules and the supported
 * XPath subset. Large inputs run this same code in a worker (xml-worker.ts).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DEFAULT_LIMITS, LimitExceeded, type Limits } from '../limits.js';

/** The limits a conversion checks (`limits.xml_input_bytes`, `limits.xml_depth`). */
export type XmlLimits = Pick<Limits, 'xml_input_bytes' | 'xml_depth'>;

export interface XmlToJsonOptions {
  text_block_name?: string | null /* default '#text' */;
  attributes_block_name?: string | null;
  attributes_name_prefix?: string | null;
  /** not in Kong's schema for this node; Kong's own example sets it: accepted, no effect */
  root_element_name?: string | null;
  recognize_type?: boolean | null /* default true, as Kong's schema */;
  text_as_property?: boolean | null /* default false */;
  xpath?: string | null;
}

export interface JsonToXmlOptions {
  text_block_name?: string | null;
  attributes_block_name?: string | null;
  attributes_name_prefix?: string | null;
  root_element_name?: string | null;
}

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

/** Default largest XML document (bytes): `limits.xml_input_bytes`. */
export const MAX_XML_SIZE = DEFAULT_LIMITS.xml_input_bytes;
/** Default deepest element nesting (and JSON nesting for json_to_xml): `limits.xml_depth`. */
export const MAX_XML_DEPTH = DEFAULT_LIMITS.xml_depth;

export const DEFAULT_TEXT_BLOCK_NAME = '#text';
/** for direct library callers only: a flow must set the block or the prefix */
export const DEFAULT_ATTRIBUTES_PREFIX = '@';
export const DEFAULT_ROOT_ELEMENT_NAME = 'root';
/** Element name used for the items of a top-level JSON array. */
export const ARRAY_ITEM_ELEMENT_NAME = 'item';

// ---------------------------------------------------------------------------
// configuration checks (run when a flow is loaded; messages name the field)

/** Field -> [type, min length, max length], as Kong's plugin schema (3.13+) declares them. */
const XML_TO_JSON_FIELDS: Record<string, [string, number, number]> = {
  text_block_name: ['string', 1, 32],
  attributes_block_name: ['string', 1, 32],
  attributes_name_prefix: ['string', 1, 32],
  root_element_name: ['string', 1, 64],
  recognize_type: ['boolean', 0, 0],
  text_as_property: ['boolean', 0, 0],
  xpath: ['string', 1, 256],
};
const JSON_TO_XML_FIELDS: Record<string, [string, number, number]> = {
  text_block_name: ['string', 1, 32],
  attributes_block_name: ['string', 1, 32],
  attributes_name_prefix: ['string', 1, 32],
  root_element_name: ['string', 1, 64],
};

/** Kong's wording (its schema and its flow editor). */
export const ATTRIBUTES_REQUIRED = 'At least one of attributes_block_name or attributes_name_prefix is required';

function checkFields(o: Record<string, unknown>, fields: Record<string, [string, number, number]>): string[] {
  const errors: string[] = [];
  for (const [name, [type, min, max]] of Object.entries(fields)) {
    const v = o[name];
    if (v === null || v === undefined) continue;
    if (typeof v !== type) {
      errors.push(`${name}: expected a ${type}`);
      continue;
    }
    if (type !== 'string') continue;
    const len = [...(v as string)].length;
    if (len < min) errors.push(`${name}: length must be at least ${min}`);
    else if (len > max) errors.push(`${name}: length must be at most ${max}`);
  }
  return errors;
}

function checkAttributeNaming(o: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (!o.attributes_block_name && !o.attributes_name_prefix) errors.push(ATTRIBUTES_REQUIRED);
  const text = typeof o.text_block_name === 'string' ? o.text_block_name : DEFAULT_TEXT_BLOCK_NAME;
  if (typeof o.attributes_block_name === 'string' && o.attributes_block_name === text)
    errors.push(`attributes_block_name: must differ from text_block_name ("${text}")`);
  return errors;
}

/** Config-time checks of an `xml_to_json` node's fields. */
export function validateXmlToJsonOptions(o: Record<string, unknown>): string[] {
  const errors = checkFields(o, XML_TO_JSON_FIELDS);
  if (errors.length > 0) return errors;
  errors.push(...checkAttributeNaming(o));
  if (typeof o.xpath === 'string') {
    try {
      compileXPath(o.xpath);
    } catch (e) {
      errors.push(`xpath: ${(e as Error).message}`);
    }
  }
  return errors;
}

/** Config-time checks of a `json_to_xml` node's fields. */
export function validateJsonToXmlOptions(o: Record<string, unknown>): string[] {
  const errors = checkFields(o, JSON_TO_XML_FIELDS);
  if (errors.length > 0) return errors;
  errors.push(...checkAttributeNaming(o));
  if (typeof o.root_element_name === 'string' && !isXmlName(o.root_element_name))
    errors.push(`root_element_name: "${o.root_element_name}" is not a valid XML element name`);
  return errors;
}

// ---------------------------------------------------------------------------
// internal tree

interface XElement {
  kind: 'element';
  name: string;
  attrs: [string, string][];
  children: XChild[];
  parent: XElement | XDocument;
  order: number;
}
interface XText {
  kind: 'text';
  value: string;
  parent: XElement;
  order: number;
}
interface XDocument {
  kind: 'document';
  children: XElement[];
  order: number;
}
interface XAttr {
  kind: 'attr';
  name: string;
  value: string;
  parent: XElement;
  order: number;
}
type XChild = XElement | XText;
type XNode = XElement | XText | XDocument | XAttr;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the predefined entities and numeric references; anything else is left as written. */
function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g, (m, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff || cp === 0 || (cp >= 0xd800 && cp <= 0xdfff)) return m;
      return String.fromCodePoint(cp);
    }
    return PREDEFINED[body] ?? m;
  });
}

const PARSER_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
} as const;

/** One parser per depth limit in use (the parser's own nesting check is a backstop behind quickDepth). */
const parsers = new Map<number, XMLParser>();
function parserFor(depth: number): XMLParser {
  let p = parsers.get(depth);
  if (!p) {
    p = new XMLParser({ ...PARSER_OPTIONS, maxNestedTags: depth });
    parsers.set(depth, p);
  }
  return p;
}

function tooDeep(what: 'XML' | 'JSON', depth: number): LimitExceeded {
  return new LimitExceeded('xml_depth', `${what} nesting too deep: more than ${depth} levels (limits.xml_depth)`);
}

function checkInputSize(bytes: number, limit: number): void {
  if (bytes > limit) {
    throw new LimitExceeded('xml_input_bytes', `XML document too large: ${bytes} bytes (limit ${limit}, limits.xml_input_bytes)`);
  }
}

function parseDocument(xml: unknown, limits: XmlLimits, knownBytes?: number): XDocument {
  if (typeof xml !== 'string') {
    if (xml instanceof Uint8Array) {
      checkInputSize(xml.byteLength, limits.xml_input_bytes);
      knownBytes = xml.byteLength;
      xml = new TextDecoder().decode(xml);
    } else throw new XmlError(`xml_to_json expects a string, got ${xml === null ? 'null' : typeof xml}`);
  }
  const text = xml as string;
  checkInputSize(knownBytes ?? Buffer.byteLength(text, 'utf8'), limits.xml_input_bytes);
  const maxDepth = limits.xml_depth;
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlError('DOCTYPE and ENTITY declarations are not allowed (entity expansion is disabled)');
  }
  if (text.trim() === '') throw new XmlError('invalid XML: empty document');
  if (quickDepth(text, maxDepth) > maxDepth) throw tooDeep('XML', maxDepth);

  const v = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (v !== true) {
    const e = v.err;
    throw new XmlError(`invalid XML: ${e.msg} (line ${e.line}, column ${e.col})`);
  }
  let ordered: unknown[];
  try {
    ordered = parserFor(maxDepth).parse(text) as unknown[];
  } catch (e) {
    const msg = (e as Error).message;
    if (/nested tags/i.test(msg)) throw tooDeep('XML', maxDepth);
    throw new XmlError(`invalid XML: ${msg}`);
  }
  let order = 0;
  const doc: XDocument = { kind: 'document', children: [], order: order++ };

  const build = (items: unknown[], parent: XElement | XDocument): XChild[] => {
    const out: XChild[] = [];
    for (const item of items) {
      const rec = item as Record<string, unknown>;
      for (const key of Object.keys(rec)) {
        if (key === ':@') continue;
        if (key === '#text') {
          if (parent.kind === 'document') continue; // whitespace around the root
          const value = decodeEntities(String(rec[key]));
          const last = out[out.length - 1];
          if (last && last.kind === 'text') last.value += value; // coalesce text + CDATA
          else out.push({ kind: 'text', value, parent, order: order++ });
          continue;
        }
        const el: XElement = { kind: 'element', name: key, attrs: [], children: [], parent, order: order++ };
        const attrs = rec[':@'] as Record<string, unknown> | undefined;
        if (attrs) for (const [an, av] of Object.entries(attrs)) el.attrs.push([an, decodeEntities(String(av))]);
        el.children = build(rec[key] as unknown[], el);
        out.push(el);
      }
    }
    // drop whitespace-only text nodes (indentation)
    return out.filter((c) => c.kind === 'element' || c.value.trim() !== '');
  };
  const top = build(ordered, doc).filter((c): c is XElement => c.kind === 'element');
  if (top.length === 0) throw new XmlError('invalid XML: no root element');
  if (top.length > 1) throw new XmlError('invalid XML: multiple root elements');
  doc.children = top;
  return doc;
}

/**
 * Cheap upper bound of the element nesting depth, computed before any
 * recursive processing so a hostile document cannot exhaust the stack.
 */
function quickDepth(s: string, stopAbove: number): number {
  let depth = 0;
  let max = 0;
  let i = s.indexOf('<');
  while (i !== -1 && i < s.length) {
    const c = s.charCodeAt(i + 1);
    if (c === 33 /* ! */) {
      if (s.startsWith('<!--', i)) {
        const e = s.indexOf('-->', i + 4);
        i = e === -1 ? -1 : s.indexOf('<', e + 3);
        continue;
      }
      if (s.startsWith('<![CDATA[', i)) {
        const e = s.indexOf(']]>', i + 9);
        i = e === -1 ? -1 : s.indexOf('<', e + 3);
        continue;
      }
    } else if (c === 47 /* / */) {
      depth--;
    } else if (c !== 63 /* ? */) {
      const gt = s.indexOf('>', i);
      if (gt === -1) break;
      if (s.charCodeAt(gt - 1) !== 47) {
        depth++;
        if (depth > max) max = depth;
        if (max > stopAbove) return max;
      }
      i = s.indexOf('<', gt);
      continue;
    }
    i = s.indexOf('<', i + 1);
  }
  return max;
}

// ---------------------------------------------------------------------------
// XML -> JSON

interface ToJsonCtx {
  text: string;
  block: string | null;
  prefix: string;
  recognize: boolean;
  textAsProperty: boolean;
}

// JSON's number grammar: "007", "+5", "0x10", ".5" and "1." stay strings
const NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** recognize_type: numbers, booleans and null (Kong's example: 30, false, null). */
function typed(s: string, ctx: ToJsonCtx): unknown {
  if (!ctx.recognize) return s;
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === 'null') return null;
  if (NUMBER_RE.test(s)) {
    const n = Number(s);
    if (!Number.isFinite(n)) return s;
    if (/^-?[0-9]+$/.test(s) && !Number.isSafeInteger(n)) return s; // keep big integers exact
    return n;
  }
  return s;
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Converts the element's attributes and children into a JSON value. */
function elementValue(el: XElement, ctx: ToJsonCtx): unknown {
  const elements = el.children.filter((c): c is XElement => c.kind === 'element');
  const text = el.children
    .filter((c): c is XText => c.kind === 'text')
    .map((t) => t.value)
    .join('')
    .trim();
  if (el.attrs.length === 0 && elements.length === 0) {
    // Kong: "Empty XML tags or elements are converted into empty JSON objects"
    if (text === '') return {};
    if (!ctx.textAsProperty) return typed(text, ctx);
  }

  const obj: Record<string, unknown> = {};
  if (el.attrs.length > 0) {
    if (ctx.block !== null) {
      const attrs: Record<string, unknown> = {};
      for (const [n, v] of el.attrs) setKey(attrs, n, typed(v, ctx));
      setKey(obj, ctx.block, attrs);
    } else {
      for (const [n, v] of el.attrs) setKey(obj, ctx.prefix + n, typed(v, ctx));
    }
  }
  groupElements(elements, ctx, obj);
  if (text !== '') setKey(obj, ctx.text, typed(text, ctx));
  return obj;
}

/** Repeated names become arrays, in document order. */
function groupElements(elements: XElement[], ctx: ToJsonCtx, into: Record<string, unknown>): Record<string, unknown> {
  const counts = new Map<string, number>();
  for (const e of elements) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
  for (const e of elements) {
    const v = elementValue(e, ctx);
    if ((counts.get(e.name) ?? 0) > 1) {
      const existing = Object.prototype.hasOwnProperty.call(into, e.name) ? into[e.name] : undefined;
      if (Array.isArray(existing)) existing.push(v);
      else setKey(into, e.name, [v]);
    } else {
      setKey(into, e.name, v);
    }
  }
  return into;
}

export function xmlToJson(xml: string | Uint8Array, options: XmlToJsonOptions = {}, limits: XmlLimits = DEFAULT_LIMITS): unknown {
  return xmlToJsonParsed(parseDocument(xml, limits), options);
}

function xmlToJsonParsed(doc: XDocument, options: XmlToJsonOptions): unknown {
  const ctx: ToJsonCtx = {
    text: options.text_block_name || DEFAULT_TEXT_BLOCK_NAME,
    block: options.attributes_block_name ? options.attributes_block_name : null,
    // a flow must set the block or the prefix (checked at load); '@' serves direct callers
    prefix: options.attributes_name_prefix ?? DEFAULT_ATTRIBUTES_PREFIX,
    recognize: options.recognize_type !== false,
    textAsProperty: options.text_as_property === true,
  };
  const root = doc.children[0];

  if (options.xpath !== undefined && options.xpath !== null && options.xpath !== '') {
    const nodes = evaluateXPath(compileXPath(options.xpath), doc);
    return xpathResult(nodes, ctx);
  }
  // the root element is always kept: {"root": {...}}, as in Kong's example
  return groupElements([root], ctx, {});
}

function xpathResult(nodes: XNode[], ctx: ToJsonCtx): unknown {
  if (nodes.length === 0) return null;
  const scalar = (n: XNode): unknown => {
    switch (n.kind) {
      case 'attr':
        return typed(n.value, ctx);
      case 'text':
        return typed(n.value.trim(), ctx);
      case 'element':
        return groupElements([n], ctx, {});
      case 'document':
        return groupElements(n.children, ctx, {});
    }
  };
  if (nodes.every((n) => n.kind === 'element')) {
    // selected elements behave like the children of a virtual parent
    return groupElements(nodes as XElement[], ctx, {});
  }
  if (nodes.length === 1) return scalar(nodes[0]);
  return nodes.map(scalar);
}

// ---------------------------------------------------------------------------
// XPath subset
//
//   path      := '/' | ('/' | '//')? step (('/' | '//') step)*
//   step      := '.' | '..' | nametest predicate* | '@' (name | '*') | 'text()' predicate* | 'node()' predicate*
//   nametest  := '*' | QName
//   predicate := '[' ( integer | 'last()' | '@' name ( '=' literal )? | name ( '=' literal )? | 'text()' '=' literal ) ']'
//
// The context node of a relative path is the document node (as in XPath 1.0).

type Test =
  | { type: 'name'; name: string }
  | { type: 'any' }
  | { type: 'text' }
  | { type: 'node' }
  | { type: 'self' }
  | { type: 'parent' }
  | { type: 'attr'; name: string };
type Pred =
  | { type: 'pos'; n: number }
  | { type: 'last' }
  | { type: 'attr'; name: string; value?: string }
  | { type: 'child'; name: string; value?: string }
  | { type: 'text'; value: string };
interface Step {
  descendant: boolean;
  test: Test;
  preds: Pred[];
}

const QNAME = /^[A-Za-z_][\w.\-]*(:[A-Za-z_][\w.\-]*)?/;

export function compileXPath(expr: string): Step[] {
  const bad = (why: string) => new XmlError(`invalid xpath "${expr}": ${why}`);
  let s = expr.trim();
  if (s === '') throw bad('empty expression');
  const steps: Step[] = [];
  if (s === '/') return steps;
  let descendant = false;
  if (s.startsWith('//')) {
    descendant = true;
    s = s.slice(2);
  } else if (s.startsWith('/')) {
    s = s.slice(1);
  }
  for (;;) {
    let test: Test;
    let m: RegExpMatchArray | null;
    if (s.startsWith('..')) {
      test = { type: 'parent' };
      s = s.slice(2);
    } else if (s.startsWith('.')) {
      test = { type: 'self' };
      s = s.slice(1);
    } else if (s.startsWith('text()')) {
      test = { type: 'text' };
      s = s.slice(6);
    } else if (s.startsWith('node()')) {
      test = { type: 'node' };
      s = s.slice(6);
    } else if (s.startsWith('@*')) {
      test = { type: 'attr', name: '*' };
      s = s.slice(2);
    } else if (s.startsWith('@') && (m = s.slice(1).match(QNAME))) {
      test = { type: 'attr', name: m[0] };
      s = s.slice(1 + m[0].length);
    } else if (s.startsWith('*')) {
      test = { type: 'any' };
      s = s.slice(1);
    } else if ((m = s.match(QNAME))) {
      test = { type: 'name', name: m[0] };
      s = s.slice(m[0].length);
    } else {
      throw bad(s === '' ? 'missing step' : `unsupported syntax at "${s}"`);
    }
    const preds: Pred[] = [];
    while (s.startsWith('[')) {
      const end = s.indexOf(']');
      if (end === -1) throw bad('unterminated predicate');
      preds.push(parsePredicate(s.slice(1, end).trim(), bad));
      s = s.slice(end + 1);
    }
    steps.push({ descendant, test, preds });
    if (s === '') break;
    if (s.startsWith('//')) {
      descendant = true;
      s = s.slice(2);
    } else if (s.startsWith('/')) {
      descendant = false;
      s = s.slice(1);
    } else {
      throw bad(`unsupported syntax at "${s}"`);
    }
  }
  return steps;
}

function parsePredicate(p: string, bad: (why: string) => XmlError): Pred {
  if (/^[0-9]+$/.test(p)) {
    const n = parseInt(p, 10);
    if (n < 1) throw bad('positions start at 1');
    return { type: 'pos', n };
  }
  if (p === 'last()') return { type: 'last' };
  const m = p.match(/^(@?)(text\(\)|[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'))?$/);
  if (!m) throw bad(`unsupported predicate [${p}]`);
  const value = m[3] ?? m[4];
  if (m[2] === 'text()') {
    if (m[1] || value === undefined) throw bad(`unsupported predicate [${p}]`);
    return { type: 'text', value };
  }
  return m[1] ? { type: 'attr', name: m[2], value } : { type: 'child', name: m[2], value };
}

function childrenOf(n: XNode): XChild[] {
  if (n.kind === 'element') return n.children;
  if (n.kind === 'document') return n.children;
  return [];
}

function descendantsOrSelf(n: XNode, out: XNode[]): void {
  out.push(n);
  for (const c of childrenOf(n)) descendantsOrSelf(c, out);
}

function textOf(n: XNode): string {
  if (n.kind === 'text' || n.kind === 'attr') return n.value;
  return childrenOf(n)
    .map((c) => textOf(c))
    .join('');
}

function matchPred(n: XNode, p: Pred): boolean {
  switch (p.type) {
    case 'attr': {
      if (n.kind !== 'element') return false;
      const a = n.attrs.find(([k]) => k === p.name);
      return a !== undefined && (p.value === undefined || a[1] === p.value);
    }
    case 'child':
      return childrenOf(n).some(
        (c) => c.kind === 'element' && c.name === p.name && (p.value === undefined || textOf(c).trim() === p.value),
      );
    case 'text':
      return textOf(n).trim() === p.value;
    default:
      return true;
  }
}

function applyStep(ctxNodes: XNode[], step: Step): XNode[] {
  let contexts = ctxNodes;
  if (step.descendant) {
    const all: XNode[] = [];
    for (const c of ctxNodes) descendantsOrSelf(c, all);
    contexts = all;
  }
  const result: XNode[] = [];
  for (const ctx of contexts) {
    let cands: XNode[];
    const t = step.test;
    switch (t.type) {
      case 'self':
        cands = [ctx];
        break;
      case 'parent':
        cands = ctx.kind === 'document' ? [] : [ctx.parent];
        break;
      case 'attr':
        cands =
          ctx.kind === 'element'
            ? ctx.attrs
                .map(([name, value], i): XAttr => ({ kind: 'attr', name, value, parent: ctx, order: ctx.order + (i + 1) / (ctx.attrs.length + 1) }))
                .filter((a) => t.name === '*' || a.name === t.name)
            : [];
        break;
      case 'text':
        cands = childrenOf(ctx).filter((c) => c.kind === 'text');
        break;
      case 'node':
        cands = childrenOf(ctx);
        break;
      case 'any':
        cands = childrenOf(ctx).filter((c) => c.kind === 'element');
        break;
      case 'name':
        cands = childrenOf(ctx).filter((c) => c.kind === 'element' && c.name === t.name);
        break;
    }
    for (const p of step.preds) {
      if (p.type === 'pos') cands = cands.length >= p.n ? [cands[p.n - 1]] : [];
      else if (p.type === 'last') cands = cands.length > 0 ? [cands[cands.length - 1]] : [];
      else cands = cands.filter((c) => matchPred(c, p));
    }
    result.push(...cands);
  }
  // union in document order without duplicates
  const seen = new Set<XNode | string>();
  const unique: XNode[] = [];
  for (const n of result) {
    const id = n.kind === 'attr' ? `${n.parent.order}@${n.name}` : n;
    if (seen.has(id)) continue;
    seen.add(id);
    unique.push(n);
  }
  return unique.sort((a, b) => a.order - b.order);
}

function evaluateXPath(steps: Step[], doc: XDocument): XNode[] {
  let nodes: XNode[] = [doc];
  for (const step of steps) nodes = applyStep(nodes, step);
  return nodes;
}

// ---------------------------------------------------------------------------
// JSON -> XML

// XML 1.0 names (letters of any script), with at most one namespace prefix
const NAME_PART = String.raw`[\p{L}_][\p{L}\p{N}\p{M}_.\-\u00B7]*`;
const XML_NAME = new RegExp(`^${NAME_PART}(:${NAME_PART})?$`, 'u');
// characters not allowed in XML 1.0 documents
// eslint-disable-next-line no-control-regex
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function isXmlName(name: string): boolean {
  return XML_NAME.test(name);
}

function escapeText(s: string): string {
  if (INVALID_XML_CHARS.test(s)) throw new XmlError('value contains a character that is not allowed in XML');
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

interface ToXmlCtx {
  text: string;
  block: string | null;
  prefix: string;
  maxDepth: number;
}

function checkName(name: string): string {
  if (!XML_NAME.test(name)) throw new XmlError(`invalid XML element name "${name}"`);
  return name;
}

/** A scalar as XML text; null is written as "null", as in Kong's example (xml_to_json reads it back as null). */
function scalarText(v: unknown, what: string): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new XmlError(`${what}: number ${v} cannot be represented in XML`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return v.toString();
  throw new XmlError(`${what}: unsupported value of type ${typeof v}`);
}

function emitElement(name: string, value: unknown, ctx: ToXmlCtx, depth: number, out: string[]): void {
  if (depth > ctx.maxDepth) throw tooDeep('JSON', ctx.maxDepth);
  if (Array.isArray(value)) {
    // repeated elements; nested arrays are flattened; [] is an empty element (Kong)
    if (value.length === 0) out.push(`<${checkName(name)}/>`);
    for (const item of value) emitElement(name, item, ctx, depth + 1, out);
    return;
  }
  checkName(name);
  if (value === null || value === undefined || typeof value !== 'object') {
    const t = scalarText(value, `element <${name}>`);
    out.push(t === '' ? `<${name}/>` : `<${name}>${escapeText(t)}</${name}>`);
    return;
  }
  const attrs: string[] = [];
  const children: string[] = [];
  let text = '';
  const addAttr = (an: string, av: unknown) => {
    if (!XML_NAME.test(an)) throw new XmlError(`invalid XML attribute name "${an}"`);
    if (av !== null && typeof av === 'object') throw new XmlError(`attribute "${an}" of <${name}> must be a string, number or boolean`);
    attrs.push(` ${an}="${escapeAttr(scalarText(av, `attribute "${an}"`))}"`);
  };
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (ctx.block !== null && k === ctx.block) {
      if (v === null || v === undefined) continue;
      if (typeof v !== 'object' || Array.isArray(v))
        throw new XmlError(`attributes block "${k}" of <${name}> must be an object`);
      for (const [an, av] of Object.entries(v as Record<string, unknown>)) addAttr(an, av);
    } else if (k === ctx.text) {
      if (v !== null && typeof v === 'object') throw new XmlError(`text "${k}" of <${name}> must be a string, number or boolean`);
      text += escapeText(scalarText(v, `text of <${name}>`));
    } else if (ctx.block === null && ctx.prefix !== '' && k.startsWith(ctx.prefix) && k.length > ctx.prefix.length) {
      addAttr(k.slice(ctx.prefix.length), v);
    } else {
      emitElement(k, v, ctx, depth + 1, children);
    }
  }
  const body = text + children.join('');
  out.push(body === '' ? `<${name}${attrs.join('')}/>` : `<${name}${attrs.join('')}>${body}</${name}>`);
}

export function jsonToXml(value: unknown, options: JsonToXmlOptions = {}, limits: Pick<Limits, 'xml_depth'> = DEFAULT_LIMITS): string {
  const ctx: ToXmlCtx = {
    maxDepth: limits.xml_depth,
    text: options.text_block_name || DEFAULT_TEXT_BLOCK_NAME,
    block: options.attributes_block_name ? options.attributes_block_name : null,
    // a flow must set the block or the prefix (checked at load); '@' serves direct callers
    prefix: options.attributes_name_prefix ?? DEFAULT_ATTRIBUTES_PREFIX,
  };
  if (typeof value === 'string') {
    // a raw JSON body (not decoded upstream) is accepted as JSON text
    const t = value.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        value = JSON.parse(t);
      } catch {
        /* plain text */
      }
    }
  }
  const out: string[] = [];
  const root = options.root_element_name || null;
  if (root !== null) checkName(root);
  const isSpecial = (k: string) =>
    k === ctx.text || (ctx.block !== null && k === ctx.block) || (ctx.block === null && ctx.prefix !== '' && k.startsWith(ctx.prefix));
  // {"k": {...}}: its one ordinary key, when its value can be a single element
  const soleKey = (v: unknown): string | undefined => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const keys = Object.keys(v);
    if (keys.length !== 1 || isSpecial(keys[0])) return undefined;
    return Array.isArray((v as Record<string, unknown>)[keys[0]]) ? undefined : keys[0];
  };

  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value) emitElement(ARRAY_ITEM_ELEMENT_NAME, item, ctx, 1, items);
    const name = root ?? DEFAULT_ROOT_ELEMENT_NAME;
    out.push(items.length ? `<${name}>${items.join('')}</${name}>` : `<${name}/>`);
  } else if (root !== null) {
    // Kong's example: {"root": {...}} with root_element_name "root" gives one <root>, not two
    const only = soleKey(value);
    if (only === root) emitElement(root, (value as Record<string, unknown>)[root], ctx, 0, out);
    else emitElement(root, value, ctx, 0, out);
  } else {
    const only = soleKey(value);
    // {"a": {...}} -> <a>...</a>: the single key is the document element
    if (only !== undefined) emitElement(only, (value as Record<string, unknown>)[only], ctx, 0, out);
    else emitElement(DEFAULT_ROOT_ELEMENT_NAME, value, ctx, 0, out);
  }
  return out.join('');
}

// ---------------------------------------------------------------------------
// the conversions as the engine asks for them: bytes in, bytes out

export type XmlOperation = 'xml_to_json' | 'json_to_xml';

export function isXmlOperation(op: string): op is XmlOperation {
  return op === 'xml_to_json' || op === 'json_to_xml';
}

/** The checks that need no parsing (the document's size), so a worker is not handed a document it would refuse. */
export function checkXmlInput(op: XmlOperation, data: Uint8Array, limits: XmlLimits): void {
  if (op === 'xml_to_json') checkInputSize(data.byteLength, limits.xml_input_bytes);
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * One conversion on the bytes the engine sends: the XML text or the JSON
 * value, answering JSON text or XML text. The inline path and the worker
 * thread both run this, so their answers are the same bytes.
 */
export function runXmlOperation(op: XmlOperation, data: Uint8Array | undefined, options: Record<string, unknown>, limits: XmlLimits): Uint8Array {
  const input = data ?? new Uint8Array(0);
  checkXmlInput(op, input, limits);
  if (op === 'xml_to_json') {
    const text = fromUtf8.decode(input);
    const doc = xmlToJsonText(text, options as XmlToJsonOptions, limits, input.byteLength);
    return utf8.encode(doc);
  }
  return utf8.encode(jsonToXml(JSON.parse(fromUtf8.decode(input)), options as JsonToXmlOptions, limits));
}

function xmlToJsonText(text: string, options: XmlToJsonOptions, limits: XmlLimits, bytes: number): string {
  return JSON.stringify(xmlToJsonParsed(parseDocument(text, limits, bytes), options) ?? null);
}
