import { Datakit, type DatakitOptions } from '../../host/index.js';
import type { Logger, LogLevel } from '../../host/types.js';

export interface LogLine {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

/** A logger that keeps lines for assertions. */
export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    log(level, message, fields) {
      lines.push({ level, message, fields });
    },
  };
}

export async function engine(options: DatakitOptions = {}): Promise<Datakit> {
  return Datakit.create({ logger: memoryLogger(), ...options });
}

export function text(b: Uint8Array | undefined): string {
  return b ? Buffer.from(b).toString('utf8') : '';
}

export function bodyJson(b: Uint8Array | undefined): unknown {
  return JSON.parse(text(b));
}
