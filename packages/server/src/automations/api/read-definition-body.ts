// Reads an automation definition from a request: JSON, or YAML when the content type says so
// (`application/yaml`, `text/yaml`), bounded like every body; compileAutomation checks the rest.
import type { Context } from "hono";
import { z } from "zod";
import { readJsonOrYamlBody } from "../../http/index.ts";

export const readDefinitionBody = (c: Context): Promise<unknown> => readJsonOrYamlBody(c, z.unknown());
