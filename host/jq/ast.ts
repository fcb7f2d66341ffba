// AST of the jq language (jq 1.7.1 grammar).

export type Pattern =
  | { kind: 'pvar'; name: string }
  | { kind: 'parray'; elems: Pattern[] }
  | { kind: 'pobject'; entries: PatternEntry[] };

export interface PatternEntry {
  // key: either a variable ($name, binds too), a constant string, or an expression
  keyVar?: string;
  key?: Node;
  value?: Pattern;
}

export interface FuncDef {
  name: string;
  params: { name: string; isVar: boolean }[];
  body: Node;
}

export interface ObjEntry {
  key: Node;
  value: Node;
  // `{"\(k)"}`, `{@fmt "..."}`: the value is `.[key]` of each key the string yields (not all of them)
  shorthand?: boolean;
}

export type Node =
  | { kind: 'identity' }
  | { kind: 'recurseAll' }
  | { kind: 'literal'; value: unknown }
  // opt: the step is followed by `?` (jq's INDEX_OPT / EACH_OPT): this step's own error
  // yields no output; errors of the target, of the key and from later steps propagate
  | { kind: 'index'; target: Node; key: Node; opt?: boolean }
  | { kind: 'slice'; target: Node; from: Node | null; to: Node | null; opt?: boolean }
  | { kind: 'iterate'; target: Node; opt?: boolean }
  | { kind: 'pipe'; left: Node; right: Node }
  | { kind: 'comma'; left: Node; right: Node }
  | { kind: 'neg'; operand: Node }
  | { kind: 'binop'; op: string; left: Node; right: Node }
  | { kind: 'and'; left: Node; right: Node }
  | { kind: 'or'; left: Node; right: Node }
  | { kind: 'alt'; left: Node; right: Node }
  | { kind: 'assign'; op: string; left: Node; right: Node }
  | { kind: 'if'; cond: Node; then: Node; else: Node | null }
  | { kind: 'try'; body: Node; handler: Node | null }
  // alternatives: the patterns after `?//` (jq's Patterns), tried in turn after pattern
  | { kind: 'reduce'; source: Node; pattern: Pattern; alternatives: Pattern[]; init: Node; update: Node }
  | { kind: 'foreach'; source: Node; pattern: Pattern; alternatives: Pattern[]; init: Node; update: Node; extract: Node | null }
  | { kind: 'defs'; defs: FuncDef[]; body: Node }
  | { kind: 'call'; name: string; args: Node[]; pos: number }
  | { kind: 'var'; name: string; pos: number }
  | { kind: 'bind'; source: Node; patterns: Pattern[]; body: Node }
  | { kind: 'label'; name: string; body: Node }
  | { kind: 'break'; name: string; pos: number }
  | { kind: 'object'; entries: ObjEntry[] }
  | { kind: 'array'; body: Node | null }
  | { kind: 'string'; parts: (string | Node)[]; format: string | null }
  | { kind: 'format'; name: string }
  | { kind: 'loc'; line: number };
