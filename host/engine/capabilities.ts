import { createCacheBackend, validateCacheResource, type CacheBackend, type CacheResourceConfig } from '../capabilities/cache.js';
import { checkXmlInput, isXmlOperation, runXmlOperation, validateJsonToXmlOptions, validateXmlToJsonOptions } from '../capabilities/xml.js';
import { XmlWorkerPool, type ConversionCancel, type XmlWorkerPoolOptions } from '../capabilities/xml-worker.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import {
  jwtDecode,
  jwtSign,
  jwtVerify,
  validateJwtSignOptions,
  validateJwtVerifyOptions,
  type JwtSignOptions,
  type JwtVerifyOptions,
} from '../capabilities/jwt.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An operation the engine asks for through host_call / async_dispatch. */
export interface CapabilityOp {
  op: string;
  kind?: string;
  options?: Record<string, unknown>;
  cache?: CacheResourceConfig;
  key?: string;
  ttl?: number;
}

/** Config-time checks of capability options; messages name the field. */
export function validateOptions(kind: string, options: unknown): string[] {
  const o = (options ?? {}) as Record<string, unknown>;
  switch (kind) {
    case 'cache':
      return validateCacheResource(options);
    case 'jwt_sign':
      return validateJwtSignOptions(o);
    case 'jwt_verify':
      return validateJwtVerifyOptions(o);
    case 'xml_to_json':
      return validateXmlToJsonOptions(o);
    case 'json_to_xml':
      return validateJsonToXmlOptions(o);
    default:
      return [`unknown capability ${kind}`];
  }
}

/**
 * The capabilities behind cache, XML and JWT nodes: node semantics live in
 * the engine; this only runs the library work and shapes results as JSON.
 */
export class Capabilities {
  private readonly caches = new Map<string, CacheBackend>();
  private xmlPool?: XmlWorkerPool;

  constructor(private readonly options: { xmlWorkers?: XmlWorkerPoolOptions } = {}) {}

  /** XML conversion worker threads running now (started on the first large conversion). */
  get xmlWorkers(): number {
    return this.xmlPool?.workers ?? 0;
  }

  /**
   * host_call: synchronous operations. Returns the result bytes; throws with
   * the message. `limits` are the running request's (the flow's own).
   */
  sync(op: CapabilityOp, data: Uint8Array | undefined, limits: Limits = DEFAULT_LIMITS): Uint8Array {
    const options = (op.options ?? {}) as Record<string, unknown>;
    switch (op.op) {
      case 'validate':
        return encoder.encode(JSON.stringify(validateOptions(op.kind ?? '', op.options)));
      case 'xml_to_json':
      case 'json_to_xml':
        // small inputs: inline costs less than a worker round trip
        return runXmlOperation(op.op, data, options, limits);
      case 'jwt_decode':
        return encoder.encode(JSON.stringify(jwtDecode(decoder.decode(data))));
      default:
        throw new Error(`unknown operation ${op.op}`);
    }
  }

  private cache(config: CacheResourceConfig): CacheBackend {
    const key = JSON.stringify(config);
    let c = this.caches.get(key);
    if (!c) {
      c = createCacheBackend(config);
      this.caches.set(key, c);
    }
    return c;
  }

  /** async_dispatch: operations that wait (cache backends, JWT crypto, large XML conversions). */
  async async(op: CapabilityOp, data: Uint8Array | undefined, limits: Limits = DEFAULT_LIMITS, cancel?: ConversionCancel): Promise<Uint8Array> {
    if (isXmlOperation(op.op)) {
      const input = data ?? new Uint8Array(0);
      // refused before the copy to the worker
      checkXmlInput(op.op, input, limits);
      this.xmlPool ??= new XmlWorkerPool(this.options.xmlWorkers);
      return this.xmlPool.convert(op.op, input, (op.options ?? {}) as Record<string, unknown>, limits, cancel);
    }
    switch (op.op) {
      case 'cache_get': {
        const r = await this.cache(op.cache!).get(op.key!);
        return encoder.encode(
          JSON.stringify(r.hit ? { hit: true, miss: false, stored: false, data: r.value } : { hit: false, miss: true, stored: false, data: null }),
        );
      }
      case 'cache_set': {
        const value = JSON.parse(decoder.decode(data));
        await this.cache(op.cache!).set(op.key!, value, op.ttl);
        return encoder.encode(JSON.stringify({ hit: false, miss: false, stored: true, data: value }));
      }
      case 'jwt_sign': {
        const { claims, key } = JSON.parse(decoder.decode(data)) as { claims: Record<string, unknown> | null; key: unknown };
        if (claims !== null && (typeof claims !== 'object' || Array.isArray(claims))) throw new Error('claims must be an object');
        return encoder.encode(JSON.stringify(await jwtSign(claims, key, (op.options ?? {}) as JwtSignOptions)));
      }
      case 'jwt_verify': {
        const { token, key } = JSON.parse(decoder.decode(data)) as { token: string; key: unknown };
        return encoder.encode(JSON.stringify(await jwtVerify(token, key, (op.options ?? {}) as JwtVerifyOptions)));
      }
      default:
        throw new Error(`unknown operation ${op.op}`);
    }
  }

  async close(): Promise<void> {
    const all = [...this.caches.values()];
    this.caches.clear();
    const pool = this.xmlPool;
    this.xmlPool = undefined;
    await Promise.all([...all.map((c) => c.close().catch(() => undefined)), pool?.close()]);
  }
}
