// The `vantage` command line: parses subcommands and flags, loads the configuration,
// and exits non-zero with a readable message on any fatal error.
import { runSatelliteCommand, type SatelliteFlags, withSatelliteOptions } from "@vantage/satellite";
import { Command, Option } from "commander";
import { type ConfigFlags, loadConfig } from "./config.ts";
import { registerReplayCommand } from "./automations/index.ts";
import { processIo, registerConfigCommands } from "./config/index.ts";
import { isVantageError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { runMigrate, runServer, runUserCreate } from "./main.ts";

function withServerOptions(command: Command): Command {
  return (
    command
      .addOption(new Option("--host <host>", "address to listen on (default 127.0.0.1)").env("VANTAGE_HOST"))
      .addOption(new Option("--port <port>", "HTTP port (default 8080)").env("VANTAGE_PORT"))
      .addOption(new Option("--database-url <url>", "PostgreSQL URL; without it an embedded PostgreSQL is started").env("DATABASE_URL"))
      .addOption(new Option("--data-dir <dir>", "directory for the embedded PostgreSQL and local state (default ./.vantage)").env("VANTAGE_DATA_DIR"))
      .addOption(new Option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent (default info)").env("VANTAGE_LOG_LEVEL"))
      .addOption(new Option("--log-format <format>", "json|pretty (default: pretty on a terminal)").env("VANTAGE_LOG_FORMAT"))
      .addOption(
        new Option("--trusted-proxies <cidrs>", "comma-separated proxy addresses/CIDRs whose X-Forwarded-For/Forwarded name the client (default none)").env(
          "VANTAGE_TRUSTED_PROXIES",
        ),
      )
      // Without .env(): commander would read any value of a switch's variable, "false" too, as true; loadConfig reads it.
      .addOption(
        new Option(
          "--allow-private-targets",
          "let checks that run on the core probe link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, metadata.google.internal, …); env VANTAGE_ALLOW_PRIVATE_TARGETS=true|false (default false)",
        ),
      )
  );
}

async function run(action: (flags: ConfigFlags) => Promise<void>, flags: ConfigFlags): Promise<void> {
  try {
    await action(flags);
  } catch (error) {
    const message = isVantageError(error) ? error.message : ((error as Error).stack ?? String(error));
    process.stderr.write(`vantage: ${message}\n`);
    process.exitCode = 1;
  }
}

function setup(flags: ConfigFlags) {
  // Flags already fold in their environment variables (commander's .env()); loadConfig
  // supplies the defaults and validates.
  const config = loadConfig(process.env, flags, { isTTY: process.stdout.isTTY });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  return { config, logger };
}

const program = new Command()
  .name("vantage")
  .description("Vantage: self-hosted monitoring with satellites and automations. See README.md.")
  .showHelpAfterError();

withServerOptions(program.command("server"))
  .description("run a core process: HTTP API, satellite gateway, schedulers and workers")
  .action((flags: ConfigFlags) =>
    run(async () => {
      const { config, logger } = setup(flags);
      await runServer(config, logger);
    }, flags),
  );

withServerOptions(program.command("migrate"))
  .description("apply pending database migrations and exit")
  .action((flags: ConfigFlags) =>
    run(async () => {
      const { config, logger } = setup(flags);
      await runMigrate(config, logger);
    }, flags),
  );

/** All of stdin, without the trailing newline a shell's echo or a file adds. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

type UserCreateFlags = ConfigFlags & { email: string; role: string; passwordStdin?: boolean };

withServerOptions(program.command("user").description("manage users").command("create"))
  .description("create a user; prints a generated password once, or reads one from stdin with --password-stdin")
  .requiredOption("--email <email>", "the user's e-mail address (the login name)")
  .addOption(new Option("--role <role>", "admin, editor or viewer").choices(["admin", "editor", "viewer"]).makeOptionMandatory())
  .option("--password-stdin", "read the password from stdin instead of generating one")
  .action((flags: UserCreateFlags) =>
    run(async () => {
      const { config, logger } = setup(flags);
      const password = flags.passwordStdin ? await readStdin() : undefined;
      await runUserCreate(config, logger, { email: flags.email, role: flags.role, password }, (line) => process.stdout.write(`${line}\n`));
    }, flags),
  );
// Config as code: clients of a core's /api/v1/config.
registerConfigCommands(program, processIo());

// Automation replay: a client of a core's /api/v1/automations/replay.
registerReplayCommand(program, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: process.stderr.isTTY,
  now: Date.now,
});

// The agent lives in @vantage/satellite; `vantage satellite` is the same program as `vantage-satellite`.
withSatelliteOptions(program.command("satellite"))
  .description("run a satellite agent: connects out to a core, runs its assigned checks and streams the results back")
  .action((flags: SatelliteFlags) => runSatelliteCommand(flags));

await program.parseAsync(process.argv);
