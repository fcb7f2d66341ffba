// Hand-written lexer + precedence-climbing parser for the jq 1.7.1 language.
import type { Node, Pattern, PatternEntry, FuncDef, ObjEntry } from './ast.js';
import { describe, setKey } from './values.js';
import { numberFromLiteral } from './numbers.js';
import { binop } from './runtime.js';
import { usedDefs } from './unused-defs.js';

export class JqSyntaxError extends Error {
  position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

/**
 * A compile error as a flow configuration shows it: jq's message without
 * its command-line hint "(Unix shell quoting issues?)", completed with the
 * line of the filter it points at (which jq prints below the message), so
 * it reads on one line: `... at <top-level>, line 1: .a |`.
 */
export function configErrorText(message: string, filter: string): string {
  const m = message.replace(' (Unix shell quoting issues?)', '');
  const at = /, line (\d+):$/.exec(m);
  if (!at) return m;
  const head = m.slice(0, -1);
  const lines = filter.split('\n');
  const short = (t: string) => (t.length > 200 ? `${t.slice(0, 200)}...` : t);
  const line = Number(at[1]) - 1;
  const text = (lines[line] ?? '').trim();
  if (text) return `${head}: ${short(text)}`;
  // a blank line (the end of a YAML block scalar): show the last text before it
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) if (lines[i].trim()) return `${head}, after: ${short(lines[i].trim())}`;
  return head;
}

type TokKind =
  | 'ident' // identifiers and keywords (value holds the text)
  | 'field' // .foo  (value: foo)
  | 'var' // $foo (value: foo)
  | 'num'
  | 'str' // opening quote; the parser scans the body
  | 'format' // @name
  | 'op' // punctuation/operators (value holds text)
  | 'eof'
  | 'invalid';

interface Token {
  kind: TokKind;
  value: string;
  /** a number token's value: a double, or the literal jq 1.7.1 keeps (numbers.ts) */
  num?: unknown;
  start: number;
  end: number;
  /** the `)` that ends a string interpolation (jq's QQSTRING_INTERP_END) */
  interpEnd?: boolean;
}

/** on the bracket stack: an open `\(` of a string interpolation */
const INTERP = '\\(';

const KEYWORDS = new Set([
  'def', 'if', 'then', 'elif', 'else', 'end', 'as', 'reduce', 'foreach', 'try', 'catch',
  'label', 'import', 'include', 'and', 'or', 'module',
]);
// 'not' and 'break' are handled specially.

const OPS3 = ['?//', '//='];
const OPS2 = ['!=', '==', '//', '|=', '+=', '-=', '*=', '/=', '%=', '<=', '>=', '..', '?/'];
const OPS1 = '.[]{}()|,:;=<>+-*/%$?';
// tokens that may follow a Term somewhere in jq's grammar: after a bare `.` bison reduces it to a
// Term on these and reports the error later (with that state's list); any other token is an
// error in the state right after `.`, which has too many choices for a list
const FOLLOW_TERM_OPS = new Set(['|', ',', ')', ']', '}', ';', ':', '?', '[', '.', '+', '-', '*', '/', '%', '=', '==', '!=', '<', '<=', '>', '>=', '//', '|=', '+=', '-=', '*=', '/=', '%=', '//=']);
const FOLLOW_TERM_KEYWORDS = new Set(['then', 'elif', 'else', 'end', 'as', 'catch', 'and', 'or']);
// keywords that start an Exp of jq 1.7.1's grammar that is no Term
const NON_TERM_EXP_KEYWORDS = new Set(['if', 'reduce', 'foreach', 'try', 'label', 'def']);
const OPENER: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
const NO_PROGRAM = 'Top-level program not given (try ".")';

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// binary operator precedence (higher binds tighter); jq's %left/%right/%nonassoc table
const BINOPS: Record<string, { prec: number; assoc: 'left' | 'right' | 'none' }> = {
  '|': { prec: 1, assoc: 'right' },
  ',': { prec: 2, assoc: 'left' },
  '//': { prec: 3, assoc: 'right' },
  '=': { prec: 4, assoc: 'none' },
  '|=': { prec: 4, assoc: 'none' },
  '+=': { prec: 4, assoc: 'none' },
  '-=': { prec: 4, assoc: 'none' },
  '*=': { prec: 4, assoc: 'none' },
  '/=': { prec: 4, assoc: 'none' },
  '%=': { prec: 4, assoc: 'none' },
  '//=': { prec: 4, assoc: 'none' },
  or: { prec: 5, assoc: 'left' },
  and: { prec: 6, assoc: 'left' },
  '==': { prec: 7, assoc: 'none' },
  '!=': { prec: 7, assoc: 'none' },
  '<': { prec: 7, assoc: 'none' },
  '<=': { prec: 7, assoc: 'none' },
  '>': { prec: 7, assoc: 'none' },
  '>=': { prec: 7, assoc: 'none' },
  '+': { prec: 8, assoc: 'left' },
  '-': { prec: 8, assoc: 'left' },
  '*': { prec: 9, assoc: 'left' },
  '/': { prec: 9, assoc: 'left' },
  '%': { prec: 9, assoc: 'left' },
};

/** `jaq`: object values as jaq 1.x (Kong 3.10's jq) reads them: any filter without a top-level comma (`{"k": $x // "d"}`) */
export type JqSyntax = 'jq' | 'jaq';

export class Parser {
  private src: string;
  private pos = 0;
  private tok!: Token;
  private jaqObjectValues = false;
  // open brackets, as jq's lexer tracks them: a closer that matches none is INVALID_CHARACTER
  private brackets: string[] = [];
  private prevTok: Token | null = null;
  // the next parsePipe reads the whole program
  private programStart = false;
  // open `if ... end` and `def ...;` (brackets count the rest), for the `expecting` texts
  private keywordNesting = 0;
  // [open brackets, keyword nesting] inside each call's argument list being read
  private callParens: [number, number][] = [];
  // the last `.` read as a whole Term (identity)
  private bareDot: Token | null = null;

  constructor(src: string) {
    this.src = src;
    this.advance();
  }

  static parse(src: string, syntax: JqSyntax = 'jq'): Node {
    const p = new Parser(src);
    p.jaqObjectValues = syntax === 'jaq';
    p.skipModuleDirectives();
    // an empty program is valid jq (bison reduces it by default), so a token that cannot
    // start one, or anything after a complete one, is reported as expecting the end
    // jq's own check before its parser: nothing but blanks and comments
    if (p.tok.kind === 'eof') throw new JqSyntaxError(NO_PROGRAM, 0);
    if (!p.canStartExp()) p.unexpected('end of file');
    p.programStart = true;
    const node = p.parsePipe();
    if ((p.tok as Token).kind !== 'eof') p.unexpected('end of file');
    return node;
  }

  // ---------- lexer ----------
  private skipWs(): void {
    const s = this.src;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) {
        this.pos++;
      } else if (c === 35) {
        // comment: to end of line; a backslash before newline continues it (jq 1.7)
        while (this.pos < s.length && s.charCodeAt(this.pos) !== 10) {
          if (s.charCodeAt(this.pos) === 92 && this.pos + 1 < s.length) this.pos++;
          this.pos++;
        }
      } else break;
    }
  }

  private lex(): Token {
    this.skipWs();
    const s = this.src;
    const start = this.pos;
    if (start >= s.length) return { kind: 'eof', value: '', start, end: start };
    const c = s.charCodeAt(start);
    if (c === 34) {
      this.pos++;
      return { kind: 'str', value: '"', start, end: this.pos };
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(start + 1)))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(s.slice(start))!;
      this.pos += m[0].length;
      return { kind: 'num', value: m[0], num: numberFromLiteral(m[0]), start, end: this.pos };
    }
    if (isIdentStart(c)) {
      let p = start + 1;
      for (;;) {
        while (p < s.length && isIdentChar(s.charCodeAt(p))) p++;
        if (s.charCodeAt(p) === 58 && s.charCodeAt(p + 1) === 58 && isIdentStart(s.charCodeAt(p + 2))) {
          p += 3;
          continue;
        }
        break;
      }
      this.pos = p;
      return { kind: 'ident', value: s.slice(start, p), start, end: p };
    }
    if (c === 46 && isIdentStart(s.charCodeAt(start + 1))) {
      let p = start + 2;
      while (p < s.length && isIdentChar(s.charCodeAt(p))) p++;
      this.pos = p;
      return { kind: 'field', value: s.slice(start + 1, p), start, end: p };
    }
    if (c === 36) {
      // $name or $__loc__
      let p = start + 1;
      if (isIdentStart(s.charCodeAt(p))) {
        p++;
        for (;;) {
          while (p < s.length && isIdentChar(s.charCodeAt(p))) p++;
          if (s.charCodeAt(p) === 58 && s.charCodeAt(p + 1) === 58 && isIdentStart(s.charCodeAt(p + 2))) {
            p += 3;
            continue;
          }
          break;
        }
        this.pos = p;
        return { kind: 'var', value: s.slice(start + 1, p), start, end: p };
      }
    }
    if (c === 64) {
      let p = start + 1;
      while (p < s.length && isIdentChar(s.charCodeAt(p))) p++;
      if (p > start + 1) {
        this.pos = p;
        return { kind: 'format', value: s.slice(start + 1, p), start, end: p };
      }
    }
    for (const op of OPS3) {
      if (s.startsWith(op, start)) {
        this.pos += 3;
        return { kind: 'op', value: op, start, end: this.pos };
      }
    }
    for (const op of OPS2) {
      if (op === '?/') continue;
      if (s.startsWith(op, start)) {
        this.pos += 2;
        return { kind: 'op', value: op, start, end: this.pos };
      }
    }
    if (OPS1.includes(s[start])) {
      this.pos++;
      const ch = s[start];
      if (ch === '(' || ch === '[' || ch === '{') this.brackets.push(ch);
      else if (ch === ')' || ch === ']' || ch === '}') {
        const top = this.brackets[this.brackets.length - 1];
        if (ch === ')' && top === INTERP) {
          this.brackets.pop();
          return { kind: 'op', value: ch, start, end: this.pos, interpEnd: true };
        }
        if (top !== OPENER[ch]) return { kind: 'invalid', value: ch, start, end: this.pos };
        this.brackets.pop();
      }
      return { kind: 'op', value: ch, start, end: this.pos };
    }
    this.pos++;
    return { kind: 'invalid', value: s[start], start, end: this.pos };
  }

  private advance(): void {
    this.prevTok = this.tok;
    this.tok = this.lex();
  }

  private lineOf(pos: number): number {
    let line = 1;
    for (let i = 0; i < pos && i < this.src.length; i++) if (this.src.charCodeAt(i) === 10) line++;
    return line;
  }

  private tokName(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'end of file';
      case 'invalid':
        return 'INVALID_CHARACTER';
      case 'num':
        return 'LITERAL';
      case 'str':
        return 'QQSTRING_START';
      case 'field':
        return 'FIELD';
      case 'var':
        return t.value === '__loc__' ? '$__loc__' : 'BINDING';
      case 'format':
        return 'FORMAT';
      case 'ident':
        return KEYWORDS.has(t.value) || t.value === 'break' ? t.value : 'IDENT';
      case 'op':
        if (t.interpEnd) return 'QQSTRING_INTERP_END';
        if (t.value.length === 1) return `'${t.value}'`;
        return (
          // bison prints a token's alias ("==" for EQ) without its quotes
          {} as Record<string, string>
        )[t.value] ?? t.value;
    }
  }

  fail(msg: string, pos: number): never {
    throw new JqSyntaxError(`${msg} at <top-level>, line ${this.lineOf(pos)}:`, pos);
  }

  private unexpected(expecting?: string): never {
    const t = this.tok;
    if (this.prevTok !== null && this.prevTok === this.bareDot && !this.followsTerm(t)) expecting = undefined;
    this.fail(
      `syntax error, unexpected ${this.tokName(t)}${expecting ? `, expecting ${expecting}` : ''} (Unix shell quoting issues?)`,
      t.start,
    );
  }

  private followsTerm(t: Token): boolean {
    if (t.kind === 'op') return FOLLOW_TERM_OPS.has(t.value);
    if (t.kind === 'ident') return FOLLOW_TERM_KEYWORDS.has(t.value);
    return t.kind === 'field' || t.kind === 'eof';
  }

  /** bison's list after a complete expression at the top (no bracket open): the end only */
  private atTop(): string | undefined {
    // (the current token, already lexed, may itself be an opener)
    const t = this.tok;
    const own = t.kind === 'op' && (t.value === '(' || t.value === '[' || t.value === '{') ? 1 : 0;
    const open = this.brackets.length - own;
    if (open === 0 && this.keywordNesting === 0) return 'end of file';
    const call = this.callParens[this.callParens.length - 1];
    if (call !== undefined && call[0] === open && call[1] === this.keywordNesting) return "';' or ')'";
    return undefined;
  }

  private canStartExp(): boolean {
    const t = this.tok;
    if (t.kind === 'op') return ['.', '[', '{', '(', '-', '$', '..'].includes(t.value);
    if (t.kind === 'ident') return !['then', 'elif', 'else', 'end', 'as', 'catch', 'and', 'or'].includes(t.value);
    return t.kind !== 'invalid' && t.kind !== 'eof';
  }

  /** jq's BINDING token: `$name`, not `$__loc__` (a token of its own) */
  private isBinding(): boolean {
    return this.tok.kind === 'var' && this.tok.value !== '__loc__';
  }

  private isOp(v: string): boolean {
    return this.tok.kind === 'op' && this.tok.value === v;
  }
  private isKw(v: string): boolean {
    return this.tok.kind === 'ident' && this.tok.value === v;
  }
  private expectOp(v: string, expecting?: string): void {
    if (!this.isOp(v)) this.unexpected(expecting);
    this.advance();
  }
  private expectKw(v: string): void {
    if (!this.isKw(v)) this.unexpected();
    this.advance();
  }

  private skipModuleDirectives(): void {
    // `module {...};` and import/include are not supported (no module system)
    if (this.isKw('module')) {
      const at = this.tok.start;
      this.advance();
      const meta = this.parsePostfix();
      if (!isConst(meta)) this.fail('Module metadata must be constant', at);
      if (meta.kind !== 'object') this.fail('Module metadata must be an object', at);
      this.expectOp(';');
    }
    while (this.isKw('import') || this.isKw('include')) {
      const at = this.tok.start;
      const isInclude = this.tok.value === 'include';
      this.advance();
      if (this.tok.kind !== 'str') this.unexpected('FORMAT or QQSTRING_START');
      const pathNode = this.parseString(null);
      if (pathNode.kind !== 'literal') this.fail('Import path must be constant', at);
      if (!isInclude) {
        this.expectKw('as');
        if ((this.tok as Token).kind !== 'ident' && (this.tok as Token).kind !== 'var') this.unexpected();
        this.advance();
      }
      if (!this.isOp(';')) {
        const meta = this.parsePostfix();
        if (meta.kind === 'object' && isConstObject(meta)) {
          // ok
        } else if (meta.kind === 'literal' || meta.kind === 'array') {
          if (meta.kind === 'array' && meta.body !== null && !isConst(meta)) this.fail('Module metadata must be constant', at);
          this.fail('Module metadata must be an object', at);
        } else this.fail('Module metadata must be constant', at);
      }
      this.expectOp(';');
      this.fail('jq modules (import/include) are not supported', at);
    }
  }

  // ---------- grammar ----------
  parsePipe(): Node {
    const programStart = this.programStart;
    this.programStart = false;
    if (this.isKw('def')) {
      const defs: FuncDef[] = [];
      while (this.isKw('def')) defs.push(this.parseFuncDef());
      // only definitions: jq has no program to run
      if (programStart && this.tok.kind === 'eof') throw new JqSyntaxError(NO_PROGRAM, this.tok.start);
      // at the top, definitions alone are a program (bison reduces them by default): what
      // cannot start the expression after them is expected to be the end
      if (programStart && !this.canStartExp()) this.unexpected('end of file');
      const body = this.parsePipe();
      return { kind: 'defs', defs, body };
    }
    return this.parseBinary(1);
  }

  private parseFuncDef(): FuncDef {
    this.expectKw('def');
    if (this.tok.kind !== 'ident') this.unexpected('IDENT');
    const name = this.tok.value;
    this.advance();
    const params: { name: string; isVar: boolean }[] = [];
    if (this.isOp('(')) {
      this.advance();
      for (;;) {
        if (this.isBinding()) params.push({ name: this.tok.value, isVar: true });
        else if (this.tok.kind === 'ident' && !KEYWORDS.has(this.tok.value)) params.push({ name: this.tok.value, isVar: false });
        else this.unexpected('IDENT or BINDING');
        this.advance();
        if (this.isOp(';')) {
          this.advance();
          continue;
        }
        this.expectOp(')', "';' or ')'");
        break;
      }
      this.expectOp(':', "':'");
    } else this.expectOp(':', "'(' or ':'");
    this.keywordNesting++;
    const body = this.parsePipe();
    this.keywordNesting--;
    this.expectOp(';');
    return { name, params, body };
  }

  private binopAt(): string | null {
    const t = this.tok;
    if (t.kind === 'op' && BINOPS[t.value] !== undefined) return t.value;
    if (t.kind === 'ident' && (t.value === 'and' || t.value === 'or')) return t.value;
    return null;
  }

  private parseBinary(minPrec: number): Node {
    let left = this.parseUnary();
    for (;;) {
      const op = this.binopAt();
      if (op === null) break;
      const info = BINOPS[op];
      if (info.prec < minPrec) break;
      if (op === ',' || op === '|') {
        left = this.parseSequence(op, left);
        continue;
      }
      this.advance();
      const right = this.parseBinaryWithDefs(info.assoc === 'right' ? info.prec : info.prec + 1);
      left = makeBinary(op, left, right);
      if (info.assoc === 'none') {
        const op2 = this.binopAt();
        if (op2 !== null && BINOPS[op2].prec === info.prec) this.unexpected();
      }
    }
    return left;
  }

  /**
   * `a, b, c, ...` or `a | b | c | ...` read in a loop, not by recursion, so
   * a 400,000-element literal uses no parser stack. Both operators are
   * associative; long runs become balanced trees (depth log n for the
   * compiler and the evaluator), short ones keep jq's own shape.
   */
  private parseSequence(op: ',' | '|', first: Node): Node {
    const items = [first];
    while (this.binopAt() === op) {
      this.advance();
      if (op === ',') items.push(this.parseBinaryWithDefs(BINOPS[','].prec + 1));
      else if (this.isKw('def')) {
        // `a | def f: ...; rest`: the definitions scope over the rest of the pipe
        items.push(this.parsePipe());
        break;
      } else items.push(this.parseBinary(BINOPS['|'].prec + 1));
    }
    const kind = op === ',' ? 'comma' : 'pipe';
    if (items.length > SHORT_SEQUENCE) return balanced(kind, items, 0, items.length);
    // jq's associativity: `,` to the left, `|` to the right
    if (kind === 'comma') return items.reduce((l, r) => ({ kind: 'comma', left: l, right: r }));
    return items.reduceRight((r, l) => ({ kind: 'pipe', left: l, right: r }));
  }

  private parseBinaryWithDefs(minPrec: number): Node {
    if (this.isKw('def')) return this.parsePipe();
    return this.parseBinary(minPrec);
  }

  private parseUnary(): Node {
    if (this.isOp('-')) {
      // jq's `'-' Exp` has the precedence of binary `-`: it takes a `*`, `/`, `%` chain
      // (`-a % b` is `-(a % b)`), and `+`, `-` and everything looser apply to its result
      this.advance();
      const operand = this.parseBinary(BINOPS['*'].prec);
      return { kind: 'neg', operand };
    }
    return this.parsePostfixWithAs();
  }

  /** termOnly: a jq Term/PostTerm is required (try bodies): an `Exp '?'` is left to the caller */
  private parsePostfixWithAs(termOnly = false): Node {
    // keyword-led expressions that extend to the right
    if (this.isKw('label')) {
      this.advance();
      if (!this.isBinding()) this.unexpected('BINDING');
      const name = this.tok.value;
      this.advance();
      this.expectOp('|', "'|'");
      const body = this.parsePipe();
      return { kind: 'label', name, body };
    }
    if (this.isKw('try')) {
      this.advance();
      const body = this.parsePostTry();
      let handler: Node | null = null;
      if (this.isKw('catch')) {
        // a body ending in `Exp '?'` (`try try 1? catch 2`) takes no catch in jq's grammar
        if (body === this.lastOptional) this.unexpected(this.atTop());
        this.advance();
        handler = this.parsePostTry();
      }
      // `try .?` is `(try .)?`: the `?` belongs to the try expression (jq: Exp '?')
      let node: Node = { kind: 'try', body, handler };
      while (this.isOp('?')) {
        this.advance();
        node = { kind: 'try', body: node, handler: null };
        this.expOptional = true;
        this.lastOptional = node;
      }
      return node;
    }
    if (this.isKw('def')) {
      return this.parsePipe();
    }
    const term = this.parsePostfix(termOnly);
    if (this.isKw('as')) {
      if (this.expOptional) this.unexpected(this.atTop());
      this.advance();
      const patterns: Pattern[] = [this.parsePattern()];
      while (this.isOp('?//')) {
        this.advance();
        patterns.push(this.parsePattern());
      }
      this.expectOp('|', "'|'");
      const body = this.parsePipe();
      return { kind: 'bind', source: term, patterns, body };
    }
    return term;
  }

  // body of try / catch: a postfix term (try binds tighter than any binary operator)
  private parsePostTry(): Node {
    if (this.isOp('-')) {
      this.advance();
      return { kind: 'neg', operand: this.parsePostTry() };
    }
    return this.parsePostfixWithAs(true);
  }

  private parsePattern(): Pattern {
    if (this.isBinding()) {
      const name = this.tok.value;
      this.advance();
      return { kind: 'pvar', name };
    }
    if (this.isOp('[')) {
      this.advance();
      const elems: Pattern[] = [];
      if (this.isOp(']')) this.unexpected("BINDING or '[' or '{'");
      for (;;) {
        elems.push(this.parsePattern());
        if (this.isOp(',')) {
          this.advance();
          continue;
        }
        this.expectOp(']', "',' or ']'");
        break;
      }
      return { kind: 'parray', elems };
    }
    if (this.isOp('{')) {
      this.advance();
      const entries: PatternEntry[] = [];
      if (this.isOp('}')) this.unexpected();
      for (;;) {
        entries.push(this.parsePatternEntry());
        if (this.isOp(',')) {
          this.advance();
          continue;
        }
        this.expectOp('}', "',' or '}'");
        break;
      }
      return { kind: 'pobject', entries };
    }
    this.unexpected("BINDING or '[' or '{'");
  }

  private parsePatternEntry(): PatternEntry {
    const t = this.tok;
    if (this.isBinding()) {
      this.advance();
      if (this.isOp(':')) {
        this.advance();
        return { keyVar: t.value, value: this.parsePattern() };
      }
      return { keyVar: t.value };
    }
    let key: Node;
    if (t.kind === 'ident') {
      this.advance();
      key = { kind: 'literal', value: t.value };
    } else if (t.kind === 'str') {
      key = this.parseString(null);
    } else if (t.kind === 'format' ) {
      this.advance();
      if (this.tok.kind !== 'str') this.unexpected('QQSTRING_START');
      key = this.parseString(t.value);
    } else if (this.isOp('(')) {
      this.advance();
      key = this.parsePipe();
      this.expectOp(')');
    } else this.unexpected();
    this.expectOp(':', "':'");
    return { key, value: this.parsePattern() };
  }

  /** set when the last parsed postfix term ended in `?` applied to a non-suffix term (jq: Exp '?') */
  private expOptional = false;
  /** the last `(try X)?` made (jq: Exp '?'), which takes no catch */
  private lastOptional: Node | null = null;

  /** termOnly: stop before a `?` that would make an `Exp '?'` (not allowed where jq wants a Term) */
  private parsePostfix(termOnly = false): Node {
    const kwExp = this.isKw('if') || this.isKw('reduce') || this.isKw('foreach');
    const paren = this.isOp('(');
    let term = this.parsePrimary();
    let lastWasSuffix = !paren && (term.kind === 'index' || term.kind === 'iterate' || term.kind === 'slice');
    // jq 1.7.1: if/reduce/foreach are expressions, not terms (no postfix, no `as` after them)
    this.expOptional = kwExp;
    for (;;) {
      const t = this.tok;
      if (this.expOptional && (t.kind === 'field' || (t.kind === 'op' && (t.value === '.' || t.value === '[')))) this.unexpected(this.atTop());
      if (t.kind === 'op' && t.value === '?') {
        const step = lastWasSuffix && (term.kind === 'index' || term.kind === 'slice' || term.kind === 'iterate');
        if (!step && termOnly) break;
        this.advance();
        if (step) {
          // jq: Term FIELD '?', Term '[' Exp ']' '?', Term '[' ']' '?' ...: only this indexing
          // step is optional (INDEX_OPT / EACH_OPT); the term before it, the key and later steps raise
          term = { ...(term as Extract<Node, { kind: 'index' | 'slice' | 'iterate' }>), opt: true };
        } else {
          // jq: Exp '?' (try Exp): no postfix or `as` after it
          this.expOptional = true;
          term = { kind: 'try', body: term, handler: null };
        }
        lastWasSuffix = false;
        continue;
      }
      lastWasSuffix = true;
      if (t.kind === 'field') {
        this.advance();
        term = { kind: 'index', target: term, key: { kind: 'literal', value: t.value } };
      } else if (t.kind === 'op' && t.value === '.') {
        // Term '.' String  or Term '.' '[' ...
        this.advance();
        if (this.tok.kind === 'str') {
          const key = this.parseString(null);
          term = { kind: 'index', target: term, key };
        } else if (this.tok.kind === 'format') {
          const format = this.tok.value;
          this.advance();
          if ((this.tok as Token).kind !== 'str') this.unexpected('QQSTRING_START');
          term = { kind: 'index', target: term, key: this.parseString(format) };
        } else if (this.isOp('[')) {
          term = this.parseBracketSuffix(term, false);
        } else this.unexpected("FORMAT or QQSTRING_START or '['");
      } else if (t.kind === 'op' && t.value === '[') {
        term = this.parseBracketSuffix(term);
      } else break;
      // an `Exp '?'` inside the brackets or the string does not make this Term one
      this.expOptional = false;
    }
    return term;
  }

  /** slices: false after `Term .` (jq 1.7.1 has `Term '.' '[' Exp ']'` and `Term '.' '[' ']'` only) */
  private parseBracketSuffix(target: Node, slices = true): Node {
    this.expectOp('[');
    if (this.isOp(']')) {
      this.advance();
      return { kind: 'iterate', target };
    }
    if (!slices) {
      if (this.isOp(':')) this.unexpected();
      const key = this.parsePipe();
      if (this.isOp(':')) this.unexpected();
      this.expectOp(']');
      return { kind: 'index', target, key };
    }
    if (this.isOp(':')) {
      this.advance();
      const to = this.parsePipe();
      this.expectOp(']');
      return { kind: 'slice', target, from: null, to };
    }
    const e = this.parsePipe();
    if (this.isOp(':')) {
      this.advance();
      if (this.isOp(']')) {
        this.advance();
        return { kind: 'slice', target, from: e, to: null };
      }
      const to = this.parsePipe();
      this.expectOp(']');
      return { kind: 'slice', target, from: e, to };
    }
    this.expectOp(']');
    return { kind: 'index', target, key: e };
  }

  private parsePrimary(): Node {
    const t = this.tok;
    switch (t.kind) {
      case 'num':
        this.advance();
        return { kind: 'literal', value: t.num };
      case 'str':
        return this.parseString(null);
      case 'format': {
        this.advance();
        if (this.tok.kind === 'str') return this.parseString(t.value);
        return { kind: 'format', name: t.value };
      }
      case 'field':
        this.advance();
        return { kind: 'index', target: { kind: 'identity' }, key: { kind: 'literal', value: t.value } };
      case 'var':
        this.advance();
        if (t.value === '__loc__') return { kind: 'loc', line: this.lineOf(t.start) };
        return { kind: 'var', name: t.value, pos: t.start };
      case 'ident':
        return this.parseIdentTerm();
      case 'op':
        break;
      default:
        this.unexpected();
    }
    switch (t.value) {
      case '$':
        // a `$` without a name: jq's grammar reads `$$$$name` here, so it wants another `$`
        this.advance();
        this.unexpected("'$'");
      // falls through (unexpected throws)
      case '.': {
        this.advance();
        if (this.tok.kind === 'str') {
          const key = this.parseString(null);
          return { kind: 'index', target: { kind: 'identity' }, key };
        }
        if (this.isOp('[') ) return this.parseBracketSuffix({ kind: 'identity' });
        if (this.tok.kind === 'format') {
          // '.' String, the String being FORMAT QQSTRING_START
          const format = this.tok.value;
          this.advance();
          if ((this.tok as Token).kind !== 'str') this.unexpected('QQSTRING_START');
          return { kind: 'index', target: { kind: 'identity' }, key: this.parseString(format) };
        }
        // (`break` is a keyword token in jq's lexer: no recovery, it is unexpected at once)
        if (this.tok.kind === 'ident' && !KEYWORDS.has(this.tok.value) && this.tok.value !== 'break') {
          // `. name`: jq's grammar recovers (`try .["field"] instead of .field`) and reports
          // the token after the name first
          this.advance();
          this.unexpected();
        }
        this.bareDot = t;
        return { kind: 'identity' };
      }
      case '..':
        this.advance();
        return { kind: 'recurseAll' };
      case '(': {
        this.advance();
        const e = this.parsePipe();
        this.expectOp(')');
        // a parenthesized `(try X)?` is a Term: it takes a catch
        this.lastOptional = null;
        return e;
      }
      case '[': {
        this.advance();
        if (this.isOp(']')) {
          this.advance();
          return { kind: 'array', body: null };
        }
        const e = this.parsePipe();
        this.expectOp(']');
        return { kind: 'array', body: e };
      }
      case '{':
        return this.parseObject();
      case '-': {
        this.advance();
        return { kind: 'neg', operand: this.parsePostfix() };
      }
    }
    this.unexpected();
  }

  private startsNonTermExp(): boolean {
    return this.tok.kind === 'ident' && NON_TERM_EXP_KEYWORDS.has(this.tok.value);
  }

  /** the `?// pattern` alternatives after a reduce/foreach pattern (jq's grammar has Patterns there too) */
  private parseAlternativePatterns(): Pattern[] {
    const alternatives: Pattern[] = [];
    while (this.isOp('?//')) {
      this.advance();
      alternatives.push(this.parsePattern());
    }
    return alternatives;
  }

  private parseIdentTerm(): Node {
    const t = this.tok;
    const v = t.value;
    switch (v) {
      case 'if':
        return this.parseIf();
      case 'reduce': {
        this.advance();
        // jq's grammar wants a Term here, and `'-' Exp` is no Term: bison stops at the `-`
        // (and at a keyword starting an Exp that is no Term: if, reduce, foreach, try, label, def)
        if (this.isOp('-') || this.startsNonTermExp()) this.unexpected();
        const source = this.parsePostfix(true);
        if (!this.isKw('as')) this.unexpected("FIELD or as or '.' or '['");
        this.advance();
        const pattern = this.parsePattern();
        const alternatives = this.parseAlternativePatterns();
        this.expectOp('(', "'('");
        const init = this.parsePipe();
        this.expectOp(';');
        const update = this.parsePipe();
        this.expectOp(')');
        return { kind: 'reduce', source, pattern, alternatives, init, update };
      }
      case 'foreach': {
        this.advance();
        // jq's grammar wants a Term here, and `'-' Exp` is no Term: bison stops at the `-`
        // (and at a keyword starting an Exp that is no Term: if, reduce, foreach, try, label, def)
        if (this.isOp('-') || this.startsNonTermExp()) this.unexpected();
        const source = this.parsePostfix(true);
        if (!this.isKw('as')) this.unexpected("FIELD or as or '.' or '['");
        this.advance();
        const pattern = this.parsePattern();
        const alternatives = this.parseAlternativePatterns();
        this.expectOp('(', "'('");
        const init = this.parsePipe();
        this.expectOp(';');
        const update = this.parsePipe();
        let extract: Node | null = null;
        if (this.isOp(';')) {
          this.advance();
          extract = this.parsePipe();
        }
        this.expectOp(')');
        return { kind: 'foreach', source, pattern, alternatives, init, update, extract };
      }
      case 'try':
      case 'label':
      case 'def':
        return this.parsePostfixWithAs();
      case 'break': {
        this.advance();
        if (!this.isBinding()) this.unexpected('BINDING');
        const name = this.tok.value;
        const pos = this.tok.start;
        this.advance();
        return { kind: 'break', name, pos };
      }
    }
    if (KEYWORDS.has(v)) this.unexpected();
    this.advance();
    if ((v === 'null' || v === 'true' || v === 'false') && !this.isOp('(')) {
      return { kind: 'literal', value: v === 'null' ? null : v === 'true' };
    }
    const args: Node[] = [];
    if (this.isOp('(')) {
      this.advance();
      this.callParens.push([this.brackets.length - (this.isOp('(') || this.isOp('[') || this.isOp('{') ? 1 : 0), this.keywordNesting]);
      for (;;) {
        args.push(this.parsePipe());
        if (this.isOp(';')) {
          this.advance();
          continue;
        }
        this.callParens.pop();
        this.expectOp(')', "';' or ')'");
        break;
      }
    }
    return { kind: 'call', name: v, args, pos: t.start };
  }

  private parseIf(): Node {
    this.keywordNesting++;
    try {
      return this.parseIfBody();
    } finally {
      this.keywordNesting--;
    }
  }

  private parseIfBody(): Node {
    this.expectKw('if');
    const cond = this.parsePipe();
    this.expectKw('then');
    const then = this.parsePipe();
    let els: Node | null = null;
    if (this.isKw('elif')) {
      this.tok = { ...this.tok, value: 'if' };
      els = this.parseIf();
      return { kind: 'if', cond, then, else: els };
    }
    if (this.isKw('else')) {
      this.advance();
      els = this.parsePipe();
    }
    this.expectKw('end');
    return { kind: 'if', cond, then, else: els };
  }

  private parseObject(): Node {
    this.expectOp('{');
    const entries: ObjEntry[] = [];
    if (this.isOp('}')) {
      this.advance();
      return { kind: 'object', entries };
    }
    for (;;) {
      entries.push(this.parseObjEntry());
      if (this.isOp(',')) {
        this.advance();
        if (this.isOp('}')) {
          // jq 1.7 allows a trailing comma
          this.advance();
          break;
        }
        continue;
      }
      this.expectOp('}', "'}'");
      break;
    }
    return { kind: 'object', entries };
  }

  private parseObjEntry(): ObjEntry {
    const t = this.tok;
    let key: Node;
    if (t.kind === 'var') {
      this.advance();
      if (t.value === '__loc__') {
        const loc: Node = { kind: 'loc', line: this.lineOf(t.start) };
        return { key: { kind: 'literal', value: '__loc__' }, value: loc };
      }
      const val: Node = { kind: 'var', name: t.value, pos: t.start };
      if (this.isOp(':')) {
        // {$x: value} -- key is the variable's value
        this.advance();
        return { key: val, value: this.parseObjVal() };
      }
      return { key: { kind: 'literal', value: t.value }, value: val };
    }
    if (t.kind === 'ident') {
      this.advance();
      key = { kind: 'literal', value: t.value };
      if (!this.isOp(':')) {
        return { key, value: { kind: 'index', target: { kind: 'identity' }, key } };
      }
    } else if (t.kind === 'num') {
      // jq's grammar has no number keys (jaq reports them at compile time)
      if (!this.jaqObjectValues) this.unexpected();
      this.advance();
      key = { kind: 'literal', value: t.num };
      if (!this.isOp(':')) this.unexpected();
    } else if (t.kind === 'str') {
      key = this.parseString(null);
      if (!this.isOp(':')) return { key, value: { kind: 'index', target: { kind: 'identity' }, key }, shorthand: true };
    } else if (t.kind === 'format') {
      this.advance();
      if (this.tok.kind === 'str') key = this.parseString(t.value);
      // jq's key is a String, FORMAT QQSTRING_START: a bare format only in jaq's grammar
      else if (this.jaqObjectValues) key = { kind: 'format', name: t.value };
      else this.unexpected('QQSTRING_START');
      if (!this.isOp(':')) return { key, value: { kind: 'index', target: { kind: 'identity' }, key }, shorthand: true };
    } else if (this.isOp('(')) {
      this.advance();
      const at = this.tok.start;
      key = this.parsePipe();
      this.expectOp(')');
      if (!this.isOp(':')) this.unexpected("':'");
      // as jq, a constant key that is not a string fails when the pair is reduced: after its
      // value is read (a syntax error inside the value comes first; bison's default reduction
      // reduces the pair before it looks at the token after the value)
      const constant = constantKey(key);
      if (constant !== undefined && typeof constant !== 'string') {
        this.advance();
        if (!this.canStartExp()) this.unexpected();
        this.parseObjVal();
        this.fail(`Cannot use ${describe(constant)} as object key`, at);
      }
    } else this.unexpected();
    this.expectOp(':');
    return { key, value: this.parseObjVal() };
  }

  // ExpD: ExpD '|' ExpD | '-' ExpD | Term
  private parseObjVal(): Node {
    if (this.jaqObjectValues) return this.parseObjValJaq();
    let left: Node;
    for (const kw of ['if', 'reduce', 'foreach', 'try', 'label', 'def']) if (this.isKw(kw)) this.unexpected();
    // ExpD '|' ExpD is looser than '-' ExpD: `{x: -. | abs}` is `{x: (-.) | abs}`
    left = this.parseObjValUnary();
    if (this.isOp('|')) {
      this.advance();
      const right = this.parseObjVal();
      return { kind: 'pipe', left, right };
    }
    return left;
  }

  private parseObjValUnary(): Node {
    for (const kw of ['if', 'reduce', 'foreach', 'try', 'label', 'def']) if (this.isKw(kw)) this.unexpected();
    if (this.isOp('-')) {
      this.advance();
      return { kind: 'neg', operand: this.parseObjValUnary() };
    }
    return this.parsePostfix(true);
  }

  // jaq: any operators but `,` (then `|` and another such value)
  private parseObjValJaq(): Node {
    const left = this.parseBinaryWithDefs(BINOPS[','].prec + 1);
    if (!this.isOp('|')) return left;
    this.advance();
    return { kind: 'pipe', left, right: this.parseObjValJaq() };
  }

  // Parses a string literal starting at the current 'str' token; handles \( ) interpolation.
  parseString(format: string | null): Node {
    if (this.tok.kind !== 'str') this.unexpected();
    const s = this.src;
    let p = this.tok.end;
    const parts: (string | Node)[] = [];
    let buf = '';
    const strStart = this.tok.start;
    for (;;) {
      if (p >= s.length) {
        this.pos = p;
        this.tok = { kind: 'eof', value: '', start: p, end: p };
        this.unexpected('QQSTRING_TEXT or QQSTRING_INTERP_START or QQSTRING_END');
      }
      const c = s.charCodeAt(p);
      if (c === 34) {
        p++;
        break;
      }
      if (c === 92) {
        if (s[p + 1] === '(') {
          if (buf) parts.push(buf);
          buf = '';
          this.pos = p + 2;
          this.brackets.push(INTERP);
          this.advance();
          const e2 = this.parsePipe();
          if (!this.isOp(')')) this.unexpected();
          p = this.tok.end;
          parts.push(e2);
          continue;
        }
        // as jq's lexer: a run of escapes is one JSON string to unescape (errors name the run)
        let q = p;
        // jq's lexer takes one byte after a backslash: a non-ASCII character is cut after its
        // lead byte, which jq's string builder turns into U+FFFD (3 bytes) in the quoted run
        let cutChar = false;
        while (s.charCodeAt(q) === 92 && s[q + 1] !== '(') {
          if (s.charCodeAt(q + 1) >= 0x80) {
            cutChar = true;
            q++;
            break;
          }
          if (s[q + 1] === 'u') {
            q += 2;
            for (let n = 0; n < 4 && /[a-zA-Z0-9]/.test(s[q] ?? ''); n++) q++;
          } else q += Math.min(2, s.length - q);
        }
        const run = s.slice(p, q);
        // jq writes the run between quotes and repairs its bad UTF-8: a lead byte of 3 or 4 bytes
        // wants more bytes than are left, so its U+FFFD takes the closing quote with it
        if (cutChar && s.charCodeAt(q) >= 0x800) {
          this.fail(`Unfinished string at EOF at line 1, column ${run.length + 4} (while parsing '"${run}\uFFFD')`, p);
        }
        // the three U+FFFD stand for its three bytes, so \u's length check sees jq's byte count
        const r = unescapeRun(cutChar ? run + '\uFFFD\uFFFD\uFFFD' : run);
        const quoted = cutChar ? run + '\uFFFD' : run;
        if (typeof r !== 'string') this.fail(`${r.error} at line 1, column ${run.length + (cutChar ? 3 : 0) + 2} (while parsing '"${quoted}"')`, p);
        buf += r;
        p = q;
        continue;
      }
      buf += s[p];
      p++;
    }
    if (buf || parts.length === 0) parts.push(buf);
    this.pos = p;
    this.advance();
    // fix lone surrogates produced by \u escapes are kept as-is (JS strings)
    if (parts.length === 1 && typeof parts[0] === 'string') {
      if (format === null) return { kind: 'literal', value: parts[0] };
    }
    return { kind: 'string', parts, format };
  }
}

function isConst(n: Node): boolean {
  switch (n.kind) {
    case 'literal':
      return true;
    case 'array':
      return n.body === null || isConst(n.body);
    case 'comma':
      return isConst(n.left) && isConst(n.right);
    case 'object':
      return isConstObject(n);
    case 'string':
      return n.parts.every((p) => typeof p === 'string');
    default:
      return false;
  }
}
// the operators jq's parser folds when both sides are constants (parser.y constant_fold)
const FOLDED = new Set(['+', '-', '*', '/', '%', '==', '!=', '<', '>', '<=', '>=']);

/**
 * The value of a constant jq folds at compile time (literals, arrays and objects of them,
 * `$__loc__`, an operator between two of them, defs nothing calls around one), else undefined.
 */
function constantKey(n: Node): unknown {
  switch (n.kind) {
    case 'binop': {
      if (!FOLDED.has(n.op)) return undefined;
      const a = constantKey(n.left);
      const b = a === undefined ? undefined : constantKey(n.right);
      if (b === undefined) return undefined;
      try {
        return binop(n.op)(a, b);
      } catch {
        // jq folds a failing operation into a run-time error
        return undefined;
      }
    }
    case 'defs':
      return usedDefs(n).length === 0 ? constantKey(n.body) : undefined;
    case 'pipe':
      // `.` compiles to no code at all: `2 | .` and `. | 2` are the constant
      if (n.left.kind === 'identity') return constantKey(n.right);
      if (n.right.kind === 'identity') return constantKey(n.left);
      return undefined;
    case 'literal':
      return n.value;
    case 'loc':
      return { file: '<top-level>', line: n.line };
    case 'string':
      return n.format === null && n.parts.every((p) => typeof p === 'string') ? n.parts.join('') : undefined;
    case 'array': {
      if (n.body === null) return [];
      const items: unknown[] = [];
      const stack: Node[] = [n.body];
      while (stack.length) {
        const x = stack.pop()!;
        if (x.kind === 'comma') {
          stack.push(x.right, x.left);
          continue;
        }
        const v = constantKey(x);
        if (v === undefined) return undefined;
        items.push(v);
      }
      return items;
    }
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const e of n.entries) {
        if (e.key.kind !== 'literal' || typeof e.key.value !== 'string') return undefined;
        const v = constantKey(e.value);
        if (v === undefined) return undefined;
        setKey(o, e.key.value, v);
      }
      return o;
    }
  }
  return undefined;
}

function isConstObject(n: Node): boolean {
  return n.kind === 'object' && n.entries.every((e) => e.key.kind === 'literal' && isConst(e.value));
}

/** Sequences up to this length keep the nesting jq's grammar gives them. */
const SHORT_SEQUENCE = 64;

function balanced(kind: 'comma' | 'pipe', items: Node[], from: number, to: number): Node {
  if (to - from === 1) return items[from];
  const mid = (from + to) >>> 1;
  return { kind, left: balanced(kind, items, from, mid), right: balanced(kind, items, mid, to) };
}

function makeBinary(op: string, left: Node, right: Node): Node {
  switch (op) {
    case '|':
      return { kind: 'pipe', left, right };
    case ',':
      return { kind: 'comma', left, right };
    case '//':
      return { kind: 'alt', left, right };
    case 'and':
      return { kind: 'and', left, right };
    case 'or':
      return { kind: 'or', left, right };
    case '=':
    case '|=':
    case '+=':
    case '-=':
    case '*=':
    case '/=':
    case '%=':
    case '//=':
      return { kind: 'assign', op, left, right };
    default:
      return { kind: 'binop', op, left, right };
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function hex4(s: string, i: number): number {
  const h = s.slice(i, i + 4);
  return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : -1;
}

/** A run of backslash escapes as jq's JSON parser unescapes it, or its error. */
function unescapeRun(run: string): string | { error: string } {
  let out = '';
  let i = 0;
  while (i < run.length) {
    const e = run[i + 1];
    if (e !== 'u') {
      const c = e === undefined ? undefined : SIMPLE_ESCAPES[e];
      if (c === undefined) return { error: 'Invalid escape' };
      out += c;
      i += 2;
      continue;
    }
    i += 2;
    if (i + 4 > run.length) return { error: 'Invalid \\uXXXX escape' };
    let cp = hex4(run, i);
    if (cp < 0) return { error: 'Invalid characters in \\uXXXX escape' };
    i += 4;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      const low = run[i] === '\\' && run[i + 1] === 'u' && i + 6 <= run.length ? hex4(run, i + 2) : -1;
      if (!(low >= 0xdc00 && low <= 0xdfff)) return { error: 'Invalid \\uXXXX\\uXXXX surrogate pair escape' };
      i += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) cp = 0xfffd;
    out += String.fromCodePoint(cp);
  }
  return out;
}
