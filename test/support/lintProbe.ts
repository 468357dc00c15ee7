import { ESLint } from 'eslint';

// One ESLint for the import-rule probes: a probe that does not parse is an error, never "allowed".
const eslint = new ESLint();

/**
 * Loads ESLint's configuration (typescript-eslint, the local rules) once. That first lint takes
 * seconds on a loaded machine; call it from beforeAll with a long timeout so no single probe pays it.
 */
export async function warmUpLint(): Promise<void> {
  await eslint.lintText('export {};\n', { filePath: 'shared/warm-up.ts' });
}

/** Timeout for warmUpLint's beforeAll: nothing here is timed, it only must finish. */
export const LINT_WARM_UP_MS = 120_000;

/** What the import allowlist rule says about `code` as if it were the file at `filePath`. */
export async function importRefusals(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = result!.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`probe does not parse: ${fatal[0]!.message}`);
  return result!.messages.filter((m) => m.ruleId === 'local/import-patterns').map((m) => m.message);
}
