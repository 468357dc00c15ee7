import { ESLint } from 'eslint';

// One ESLint for the import-rule probes: a probe that does not parse is an error, never "allowed".
const eslint = new ESLint();

/** What the import allowlist rule says about `code` as if it were the file at `filePath`. */
export async function importRefusals(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = result!.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`probe does not parse: ${fatal[0]!.message}`);
  return result!.messages.filter((m) => m.ruleId === 'local/import-patterns').map((m) => m.message);
}
