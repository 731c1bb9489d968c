// The agent's command line, shared by `vantage-satellite` and `vantage satellite`: flags
// with their environment variables, config errors as readable lines, and the exit code.
import { Command, Option } from "commander";
import { CONFIG_SOURCES, DEFAULT_BUFFER_SIZE, type SatelliteFlags, loadSatelliteConfig } from "./config.ts";
import { SatelliteError } from "./errors.ts";
import { run } from "./main.ts";

const FLAGS: Array<{ key: keyof typeof CONFIG_SOURCES; value: string; help: string }> = [
  { key: "url", value: "<url>", help: "the core, e.g. ws://vantage.example:8080 (http(s):// works too; an empty path means /ws/satellite)" },
  { key: "satelliteId", value: "<uuid>", help: "this satellite's id, as the core showed it" },
  { key: "token", value: "<token>", help: "this satellite's token (vsat_…); never logged" },
  { key: "caFile", value: "<path>", help: "PEM file of CA certificates to trust for a wss:// core besides the system's (a private CA or a self-signed core)" },
  { key: "logLevel", value: "<level>", help: "fatal|error|warn|info|debug|trace|silent (default info)" },
  { key: "logFormat", value: "<format>", help: "json|pretty (default: pretty on a terminal)" },
  { key: "bufferSize", value: "<n>", help: `results kept while the core is unreachable (default ${DEFAULT_BUFFER_SIZE}); the oldest are dropped beyond it` },
];

/** Adds the agent's flags (each with its environment variable) to a command. */
export function withSatelliteOptions(command: Command): Command {
  for (const { key, value, help } of FLAGS) {
    const source = CONFIG_SOURCES[key];
    command.addOption(new Option(`${source.flag} ${value}`, help).env(source.env));
  }
  return command;
}

/** Runs the agent from parsed flags and sets the process exit code: 0 stopped, 1 crashed, 2 fix the config or credentials. */
export async function runSatelliteCommand(flags: SatelliteFlags): Promise<void> {
  try {
    const config = loadSatelliteConfig(process.env, flags, { isTTY: process.stdout.isTTY });
    const outcome = await run(config);
    process.exitCode = outcome.exitCode;
  } catch (error) {
    const known = error instanceof SatelliteError;
    process.stderr.write(`vantage-satellite: ${known ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exitCode = known ? error.exitCode : 1;
  }
}

/** The standalone `vantage-satellite` command. */
export function satelliteProgram(): Command {
  return withSatelliteOptions(new Command())
    .name("vantage-satellite")
    .description("Vantage satellite agent: connects out to a core, runs its assigned checks and streams the results back. See README.md.")
    .showHelpAfterError()
    .action((flags: SatelliteFlags) => runSatelliteCommand(flags));
}
