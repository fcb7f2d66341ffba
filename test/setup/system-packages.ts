/**
 * vitest global setup: the suite runs real servers (redis-server, PostgreSQL), so a fresh
 * machine must have them. As root with apt-get, missing Debian packages are
 * installed once; otherwise the run stops with the exact command to type.
 */
import { spawnSync } from 'node:child_process';

/** program the tests start -> the Debian package that ships it */
const NEEDED: Record<string, string> = {
  'redis-server': 'redis-server',
  initdb: 'postgresql',
  psql: 'postgresql',
};

/** Debian keeps PostgreSQL's server programs off PATH, in /usr/lib/postgresql/<version>/bin */
const PROGRAM_DIRS = '/usr/lib/postgresql/*/bin';

function has(program: string): boolean {
  const script = `command -v ${program} || ls ${PROGRAM_DIRS}/${program}`;
  return spawnSync('sh', ['-c', script], { stdio: 'ignore' }).status === 0;
}

export default function setup(): void {
  const missing = Object.keys(NEEDED).filter((p) => !has(p));
  if (!missing.length) return;
  const packages = [...new Set(missing.map((p) => NEEDED[p]))];
  const command = `apt-get install -y ${packages.join(' ')}`;
  const canInstall = process.getuid?.() === 0 && has('apt-get');
  if (!canInstall) throw new Error(`the test suite needs ${missing.join(', ')}: run \`sudo apt-get update && sudo ${command}\``);
  process.stderr.write(`installing ${packages.join(', ')} for the test suite (${command})\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env }) : update;
  const still = missing.filter((p) => !has(p));
  if (install.status !== 0 || still.length) throw new Error(`could not install ${packages.join(', ')}: run \`apt-get update && ${command}\` by hand`);
}
