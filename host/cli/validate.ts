import { readFile } from 'node:fs/promises';
import { Datakit } from '../flow.js';
import { findDatakitConfigs, parseConfigText } from '../config.js';

/** `datakit validate FILE`: every error of every datakit config in FILE. */
export async function validateCli(args: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const file = args[0];
  if (!file || args.length > 1) {
    err.write('usage: datakit validate FILE\n');
    return 2;
  }
  let doc: unknown;
  try {
    doc = parseConfigText(await readFile(file, 'utf8'));
  } catch (e) {
    err.write(`${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const found = findDatakitConfigs(doc);
  if (found.length === 0) {
    err.write(`${file}: no datakit plugin configuration found (expected "nodes", a datakit plugin entry, or a declarative file with datakit plugins)\n`);
    return 1;
  }
  const dk = await Datakit.create();
  let failed = 0;
  for (const f of found) {
    const errors = dk.validate(f.config as object);
    const where = f.path ? `${file}: ${f.path}` : file;
    if (errors.length === 0) {
      out.write(`${where}: ok\n`);
      continue;
    }
    failed++;
    err.write(`${where}: ${errors.length} error${errors.length > 1 ? 's' : ''}\n`);
    for (const e of errors) err.write(`  ${e.message}\n`);
  }
  await dk.close();
  return failed > 0 ? 1 : 0;
}
