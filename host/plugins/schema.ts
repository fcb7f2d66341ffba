/** JSON Schema validation of plugin configs (Ajv), errors in Kong's nested field shape. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldErrors, ValidationResult } from './types.js';


const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });

export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const { name: _n, ...rest } = schema;
  return ajv.compile(rest);
}

function put(errors: FieldErrors, path: string[], message: string): void {
  let cur: FieldErrors = errors;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    const next = cur[k];
    if (!next || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as FieldErrors;
  }
  const last = path[path.length - 1] ?? '@entity';
  const prev = cur[last];
  if (typeof prev === 'string') cur[last] = [prev, message];
  else if (Array.isArray(prev)) prev.push(message);
  else cur[last] = message;
}

export function ajvToFields(errs: ErrorObject[] | null | undefined): FieldErrors {
  const config: FieldErrors = {};
  for (const e of errs ?? []) {
    const path = e.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (e.keyword === 'additionalProperties') {
      put(config, [...path, String((e.params as { additionalProperty: string }).additionalProperty)], 'unknown field');
    } else if (e.keyword === 'required') {
      put(config, [...path, String((e.params as { missingProperty: string }).missingProperty)], 'required field missing');
    } else if (e.keyword === 'type') {
      const t = String((e.params as { type: string }).type);
      put(config, path, t === 'array' ? 'expected an array' : t === 'object' ? 'expected a record' : `expected a${/^[aeiou]/.test(t) ? 'n' : ''} ${t}`);
    } else if (e.keyword === 'enum') {
      put(config, path, `expected one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`);
    } else put(config, path, e.message ?? 'invalid value');
  }
  return { config };
}

/** Validates (and fills defaults into a copy of) a config. */
export function validateWith(validate: ValidateFunction, config: unknown): ValidationResult {
  const copy = config === null || config === undefined ? {} : structuredClone(config);
  if (typeof copy !== 'object' || Array.isArray(copy)) return { errors: { config: 'expected a record' } };
  if (!validate(copy)) return { errors: ajvToFields(validate.errors) };
  return { config: copy as Record<string, unknown> };
}
