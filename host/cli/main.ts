/** `datakit <command>`: dispatches to each command's module. */
import { readFileSync } from 'node:fs';

const USAGE = `usage: datakit <command> [options]      (datakit <command> --help for its options)

commands:
  validate FILE                       check a plugin config or a declarative file; exit 1 with every error
  run FLOW --request REQ.json [--trace]
                                      run a flow once against a request described in JSON
  jq [-c] [-r] [-n] [--arg name value] FILTER [FILE]
                                      run a jq filter with the built-in engine
  serve (--config FILE | --database DIR) [--proxy-listen ADDR] [--admin-listen ADDR] [--workers N] [--plugins-dir DIR]
                                      start the gateway: DB-less on a file, or on an embedded database
  migrations bootstrap|up|status --database DIR
                                      the embedded database's schema, as kong migrations
  config db_import FILE | db_export [FILE] --database DIR
                                      declarative file <-> database
  bench FLOW [--request REQ.json] [-n N] [-c C] [--mock-calls FILE]
                                      measure a flow through the library API
  graph FLOW [--format mermaid|dot|svg|json] [-o FILE] [--at PATH]
                                      draw a flow: nodes, ports, connections, branches, phases
  studio [FLOW] [--listen HOST:PORT]  serve the flow studio page (see, edit and run flows in a browser)
  --version                           print the version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number | void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'validate':
      return (await import('./validate.js')).validateCli(rest);
    case 'run':
      return (await import('./run.js')).runCli(rest);
    case 'jq':
      return (await import('./jq.js')).jqCli(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    case 'serve':
      return (await import('../gateway/cli.js')).serveCli(rest);
    case 'migrations':
      return (await import('../db/cli.js')).migrationsCli(rest);
    case 'config':
      return (await import('../db/cli.js')).configCli(rest);
    case 'bench':
      return (await import('./bench.js')).benchCli(rest);
    case 'graph':
      return (await import('./graph.js')).graphCli(rest);
    case 'studio':
      return (await import('./studio.js')).studioCli(rest);
    case '--version':
    case '-V':
      process.stdout.write(`datakit ${version()}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`datakit: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}
