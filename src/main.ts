/**
 * The command line: `originate serve [--config FILE] [--data DIR]`. The only module with side effects: it reads
 * the arguments, loads the config, builds the app, listens, prints generated passwords once, and drains on
 * SIGTERM / SIGINT.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildApp, type App } from './app.ts';
import type { GeneratedSecret } from './config/credentials.ts';
import { ConfigError, loadConfig } from './config/load-config.ts';
import { logLevel } from './config/log-level.ts';

const USAGE = 'usage: originate serve [--config FILE] [--data DIR]\n';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string', default: 'config/demo.yaml' }, data: { type: 'string', default: './data' }, help: { type: 'boolean' } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.positionals.length !== 1 || args.positionals[0] !== 'serve') {
    process.stderr.write(USAGE);
    return 2;
  }
  let config;
  let level;
  try {
    config = loadConfig(args.values.config);
    level = logLevel();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RangeError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const logger = pino({ level });
  const printSecrets = (secrets: readonly GeneratedSecret[]): void => {
    process.stdout.write(
      'Generated and kept in the data folder (shown only this once):\n' + secrets.map((s) => `  ${s.label}: ${s.value}\n`).join(''),
    );
  };
  let app: App | undefined;
  let addresses;
  try {
    // SIP binds while the app is built, the API when it listens: a taken port shows up in either.
    app = await buildApp(config, { dataDir: args.values.data, logger, configPath: args.values.config, onGeneratedSecrets: printSecrets });
    if (app.generatedSecrets.length > 0) printSecrets(app.generatedSecrets);
    addresses = await app.listen();
  } catch (err) {
    // A taken or forbidden port is an operator's problem to fix, not a crash to debug.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw err;
    process.stderr.write(`cannot listen: ${(err as Error).message}\n`);
    await app?.close();
    return 1;
  }
  logger.info(
    { https: addresses.https, http: addresses.http, sip: app.sip?.transport.listeners, config: args.values.config, data: args.values.data },
    'originate listening',
  );

  return await new Promise<number>((resolve) => {
    let draining = false;
    const stop = (signal: string) => {
      if (draining) return;
      draining = true;
      logger.info({ signal }, 'draining');
      app.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'error while closing');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

process.exitCode = await main(process.argv.slice(2));
