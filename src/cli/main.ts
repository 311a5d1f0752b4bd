// `fcgi-pool serve | ctl | bench`: parses the command line and runs the command. Only this file
// exits the process.
import { createRequire } from 'node:module';
import type { ConfigFlags } from '../config/overrides.ts';
import { FcgiPoolError } from '../errors.ts';
import { parseCli } from './args.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

async function serve(configFile: string | undefined, flags: ConfigFlags) {
  // loaded here, not at the top: `ctl` starts fast without the whole service
  const [{ loadConfig }, { createLogger }, { startService }] = await Promise.all([
    import('../config/load.ts'),
    import('../logger.ts'),
    import('../service.ts'),
  ]);
  const config = loadConfig({ file: configFile, env: process.env, flags });
  const log = createLogger({ level: config.log.level });
  const service = await startService(config, log);
  log.info(
    {
      http: `${config.listen.http.host}:${config.listen.http.port}`,
      grpc: `${config.listen.grpc.host}:${config.listen.grpc.port}`,
      admin: `${config.listen.admin.host}:${config.listen.admin.port}`,
      threads: service.runtime.threads,
      backends: service.runtime.servers.map((s) => s?.name),
      fastPath: config.fastPath,
    },
    'fcgi-pool is serving',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    service.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const cmd = parseCli(argv, { version });
  switch (cmd.command) {
    case 'help':
      (cmd.exitCode === 0 ? process.stdout : process.stderr).write(cmd.text);
      process.exitCode = cmd.exitCode;
      return;
    case 'version':
      process.stdout.write(`${cmd.text}\n`);
      return;
    case 'serve':
      await serve(cmd.configFile, cmd.flags);
      return;
    case 'ctl': {
      const { runCtl } = await import('./ctl.ts');
      process.exitCode = await runCtl(cmd, {
        stdout: process.stdout,
        stderr: process.stderr,
        env: process.env,
        onInterrupt: (stop) => process.once('SIGINT', stop),
      });
      return;
    }
    case 'bench':
      process.stderr.write(`fcgi-pool ${cmd.command}: not available yet\n`);
      process.exitCode = 2;
      return;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof FcgiPoolError) {
    process.stderr.write(`fcgi-pool: ${err.message}\n`);
  } else {
    process.stderr.write(`fcgi-pool: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
