// The agent's entry point, for `bin/vantage-satellite.js` (through tsx, in a checkout) and for
// the standalone bundle (`npm run build:satellite`): parse the command line and run.
import { satelliteProgram } from "./cli.ts";

await satelliteProgram().parseAsync(process.argv);
