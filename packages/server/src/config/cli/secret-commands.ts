// `vantage secret set | list | delete`: the values bundles reference as `${secret:NAME}`, stored
// by the core sealed at rest. A value is read from stdin or an environment variable — never a
// command-line argument (shell history, `ps`) — and never printed.
import { SECRET_NAME } from "@vantage/protocol";
import type { Command } from "commander";
import { type ClientFlags, clientOf, type ConfigIo, Reported, type run as runCommand } from "./config-commands.ts";

interface SecretView {
  name: string;
  updatedBy: { type: string; id: string; name?: string };
  updatedAt: string;
}

/** Where `set` reads the value: a variable named by --from-env, else stdin (one trailing newline dropped). */
export interface SecretSource {
  fromEnv?: string;
}

async function readValue(flags: SecretSource, io: ConfigIo): Promise<string> {
  if (flags.fromEnv !== undefined) {
    const value = io.env[flags.fromEnv];
    if (value === undefined) {
      io.err(`vantage: environment variable ${flags.fromEnv} is not set\n`);
      throw new Reported("missing variable");
    }
    return value;
  }
  if (!io.stdin) {
    io.err('vantage: give the value on stdin (e.g. `printf %s "$VALUE" | vantage secret set NAME`) or with --from-env VAR\n');
    throw new Reported("no value");
  }
  return (await io.stdin()).replace(/\r?\n$/, "");
}

function checkName(name: string, io: ConfigIo): void {
  if (SECRET_NAME.test(name)) return;
  io.err(`vantage: ${JSON.stringify(name)} is not a secret name: letters, digits and _, not starting with a digit\n`);
  throw new Reported("bad name");
}

export async function secretSetCommand(name: string, flags: ClientFlags & SecretSource, io: ConfigIo): Promise<number> {
  checkName(name, io);
  const value = await readValue(flags, io);
  await clientOf(flags).put(`/config/secrets/${name}`, { value });
  io.out(`Secret ${name} stored; reference it as \${secret:${name}}.\n`);
  return 0;
}

export async function secretListCommand(flags: ClientFlags, io: ConfigIo): Promise<number> {
  const { secrets } = await clientOf(flags).get<{ secrets: SecretView[] }>("/config/secrets");
  if (secrets.length === 0) io.out("No secrets stored.\n");
  for (const secret of secrets) io.out(`${secret.name}\tset ${secret.updatedAt} by ${secret.updatedBy.name ?? secret.updatedBy.id}\n`);
  return 0;
}

export async function secretDeleteCommand(name: string, flags: ClientFlags, io: ConfigIo): Promise<number> {
  checkName(name, io);
  await clientOf(flags).delete(`/config/secrets/${name}`);
  io.out(`Secret ${name} deleted.\n`);
  return 0;
}

export function registerSecretCommands(program: Command, io: ConfigIo, withClientOptions: (command: Command) => Command, run: typeof runCommand): void {
  const secret = program.command("secret").description("the secrets bundles reference as ${secret:NAME} (values are never shown)");
  withClientOptions(secret.command("set <name>"))
    .description("store a secret's value, read from stdin or --from-env")
    .option("--from-env <variable>", "read the value from this environment variable instead of stdin")
    .action((name: string, flags: ClientFlags & SecretSource) => run(io, () => secretSetCommand(name, flags, io)));
  withClientOptions(secret.command("list"))
    .description("list the stored secrets' names")
    .action((flags: ClientFlags) => run(io, () => secretListCommand(flags, io)));
  withClientOptions(secret.command("delete <name>"))
    .description("delete a stored secret")
    .action((name: string, flags: ClientFlags) => run(io, () => secretDeleteCommand(name, flags, io)));
}
