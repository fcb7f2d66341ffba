import Handlebars from 'handlebars';
import type { Limits } from '../limits.js';

/** Handlebars templates, compiled once per node. A private environment so
 * helpers registered elsewhere do not leak in. Output is not HTML-escaped:
 * flows render API payloads (JSON, XML, text) far more than HTML. */
const env = Handlebars.create();

export type RenderFn = (context: unknown) => string;

export function compileTemplate(source: string, _limits?: Limits): RenderFn {
  // precompile parses eagerly, so syntax errors surface at configure time
  env.precompile(source);
  const fn = env.compile(source, { noEscape: true, strict: false });
  return (context) => fn(context);
}
