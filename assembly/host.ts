// Host imports (module "datakit"): every capability outside the engine.
// Data crosses as UTF-8 bytes in linear memory; see docs/host-abi.md.
//
// Imports that produce data return an i32:
//   r >= 0  success; r bytes wait in the host's result buffer
//   r <  0  failure; an error message of (-r - 1) bytes waits there
// The module then calls result_read(dst) to copy the buffer in.

import { ByteWriter } from './bytes';

// @ts-ignore: decorator
@external('datakit', 'log')
export declare function host_log(level: i32, ptr: usize, len: i32): void;
// @ts-ignore: decorator
@external('datakit', 'clock_ms')
export declare function host_clock_ms(kind: i32): f64;
// @ts-ignore: decorator
@external('datakit', 'result_read')
declare function host_result_read(dst: usize): void;
// @ts-ignore: decorator
@external('datakit', 'return_data')
export declare function host_return_data(ptr: usize, len: i32): void;
// @ts-ignore: decorator
@external('datakit', 'jq_compile')
export declare function host_jq_compile(ptr: usize, len: i32, vars: usize, varsLen: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'jq_run')
export declare function host_jq_run(handle: i32, ptr: usize, len: i32): i32;
// @ts-ignore: decorator
/** The constant input paths a compiled filter reads: a JSON array of key lists, or `null` (it may use its whole input). */
@external('datakit', 'jq_input_paths')
export declare function host_jq_input_paths(handle: i32): i32;

// @ts-ignore: decorator
/** The filter as a small tree the module may evaluate itself (host/jq/simple.ts), or `null`. */
@external('datakit', 'jq_simple')
export declare function host_jq_simple(handle: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'jq_free')
export declare function host_jq_free(handle: i32): void;
// @ts-ignore: decorator
@external('datakit', 'template_compile')
export declare function host_template_compile(ptr: usize, len: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'template_render')
export declare function host_template_render(handle: i32, ptr: usize, len: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'template_free')
export declare function host_template_free(handle: i32): void;
// @ts-ignore: decorator
@external('datakit', 'property_get')
export declare function host_property_get(ctx: i32, ptr: usize, len: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'property_set')
export declare function host_property_set(ctx: i32, ptr: usize, len: i32, vptr: usize, vlen: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'secret_get')
export declare function host_secret_get(ctx: i32, ptr: usize, len: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'http_dispatch')
export declare function host_http_dispatch(ctx: i32, ptr: usize, len: i32, bptr: usize, blen: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'async_cancel')
export declare function host_async_cancel(ctx: i32, token: i32): void;
// @ts-ignore: decorator
@external('datakit', 'host_call')
export declare function host_call(ptr: usize, len: i32, dptr: usize, dlen: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'async_dispatch')
export declare function host_async_dispatch(ctx: i32, ptr: usize, len: i32, dptr: usize, dlen: i32): i32;
// @ts-ignore: decorator
@external('datakit', 'phase_result')
export declare function host_phase_result(ctx: i32, ptr: usize, len: i32, bptr: usize, blen: i32): void;

/** Per-node durations for the next phase result: `count` [index, state, ms] f64 triples at `ptr`. */
@external('datakit', 'phase_timings')
export declare function host_phase_timings(ctx: i32, ptr: usize, count: i32): void;

export const LOG_DEBUG: i32 = 1;
export const LOG_INFO: i32 = 2;
export const LOG_WARN: i32 = 3;
export const LOG_ERROR: i32 = 4;

export function log(level: i32, msg: string): void {
  const b = String.UTF8.encode(msg);
  host_log(level, changetype<usize>(b), b.byteLength);
}

/** Outcome of an import that returns data. */
export class HostResult {
  ok: bool = true;
  data: ArrayBuffer = new ArrayBuffer(0);
  get text(): string {
    return String.UTF8.decode(this.data);
  }
}

/** Copies the host's result buffer after an import returned `r`. */
export function takeResult(r: i32): HostResult {
  const res = new HostResult();
  let n = r;
  if (r < 0) {
    res.ok = false;
    n = -r - 1;
  }
  const buf = new ArrayBuffer(n);
  if (n > 0) host_result_read(changetype<usize>(buf));
  res.data = buf;
  return res;
}

export function returnData(w: ByteWriter): void {
  host_return_data(w.ptr, w.len);
}

export function nowMs(): f64 {
  return host_clock_ms(0);
}

export function monoMs(): f64 {
  return host_clock_ms(1);
}

/** Replaces the default abort (env.abort with UTF-16 strings): report the
 * message through the log import, then trap. */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let m = 'engine abort: ' + (message !== null ? message! : '');
  if (fileName !== null) m += ' at ' + fileName! + ':' + line.toString() + ':' + column.toString();
  log(LOG_ERROR, m);
  unreachable();
}
