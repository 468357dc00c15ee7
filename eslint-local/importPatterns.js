// A per-layer allowlist of imports, checked on every form a module can be reached by: static and
// type-only imports, re-exports, import(), require(), `import x = require()`, type-level import('x')
// and triple-slash references. What a layer may import is written in eslint.config.js, not here.
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE_BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')));

/** `*` matches within one path segment, `**` across segments, `{a,b}` either. */
export function globToRegExp(glob) {
  let source = '';
  let inBraces = false;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '{') {
      source += '(?:';
      inBraces = true;
    } else if (c === '}' && inBraces) {
      source += ')';
      inBraces = false;
    } else if (c === ',' && inBraces) source += '|';
    else source += c.replace(/[.+?^$()|[\]\\{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function isNodeBuiltin(specifier) {
  if (specifier.startsWith('node:')) return true;
  return NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0]);
}

/**
 * What a specifier names, for matching: `{ kind: 'path', name }` for a file of this repository
 * (relative to its root), `{ kind: 'builtin' }`, or `{ kind: 'package', name }` for the full bare specifier.
 */
export function classify(specifier, filename) {
  const bare = specifier.replace(/\?.*$/, '');
  if (bare.startsWith('.') || bare.startsWith('/')) {
    const absolute = path.resolve(path.dirname(filename), bare);
    const relative = path.relative(REPO_ROOT, absolute).split(path.sep).join('/');
    if (relative.startsWith('..') || path.isAbsolute(relative)) return { kind: 'outside', name: absolute };
    return { kind: 'path', name: relative };
  }
  if (isNodeBuiltin(bare)) return { kind: 'builtin', name: bare };
  return { kind: 'package', name: bare };
}

/**
 * One allowlist entry: `~/` and a glob for files of this repository (`~/shared/**`), a package glob
 * (`react`, `zustand/*`), `#node` for every Node builtin, or `{ module, names }` to allow a module
 * but only some of its named exports.
 */
function compileAllow(entry) {
  if (typeof entry === 'object') return { ...compileAllow(entry.module), names: new Set(entry.names) };
  if (entry === '#node') return { test: (target) => target.kind === 'builtin' };
  if (entry.startsWith('~/')) {
    const regex = globToRegExp(entry.slice(2));
    return { test: (target) => target.kind === 'path' && regex.test(target.name) };
  }
  // `react` allows `react` alone; `react/*` or `react/**` allow its subpaths.
  const regex = globToRegExp(entry);
  return { test: (target) => target.kind === 'package' && regex.test(target.name) };
}

/** The named bindings a static import or re-export takes, or null when it takes the whole module. */
function takenNames(node) {
  if (node.type === 'ImportDeclaration') {
    if (node.specifiers.length === 0) return null; // side-effect import: the whole module runs
    const names = [];
    for (const s of node.specifiers) {
      if (s.type !== 'ImportSpecifier') return null; // default or namespace
      names.push(s.imported.type === 'Identifier' ? s.imported.name : s.imported.value);
    }
    return names;
  }
  if (node.type === 'ExportNamedDeclaration') {
    return node.specifiers.map((s) => (s.local.type === 'Identifier' ? s.local.name : s.local.value));
  }
  return null;
}

function literalValue(node) {
  if (!node) return null;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
  return null;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Each layer imports only what its allowlist names, in every import form' },
    schema: [
      {
        type: 'object',
        properties: {
          layer: { type: 'string' },
          allow: {
            type: 'array',
            items: {
              anyOf: [
                { type: 'string' },
                {
                  type: 'object',
                  properties: { module: { type: 'string' }, names: { type: 'array', items: { type: 'string' } } },
                  required: ['module', 'names'],
                  additionalProperties: false,
                },
              ],
            },
          },
        },
        required: ['layer', 'allow'],
        additionalProperties: false,
      },
    ],
    messages: {
      refused: "{{layer}} may not import '{{specifier}}'{{detail}}",
      refusedNames: "{{layer}} may import only {{names}} from '{{specifier}}', not {{taken}}",
      nonLiteral: '{{layer}} may not load a module whose name is computed at run time: write the specifier as a string literal',
      reference: '{{layer}} may not use a triple-slash reference (it adds types the layer does not have): {{text}}',
    },
  },
  create(context) {
    const { layer, allow } = context.options[0];
    const entries = allow.map(compileAllow);
    const filename = context.filename;

    function check(node, specifier, names) {
      const target = classify(specifier, filename);
      const entry = entries.find((e) => e.test(target));
      if (!entry) {
        const detail = target.kind === 'builtin' ? ' (a Node builtin)' : target.kind === 'path' ? ` (${target.name})` : '';
        context.report({ node, messageId: 'refused', data: { layer, specifier, detail } });
        return;
      }
      if (!entry.names) return;
      const refused = names === null ? ['the whole module'] : names.filter((n) => !entry.names.has(n));
      if (refused.length > 0) {
        context.report({
          node,
          messageId: 'refusedNames',
          data: { layer, specifier, names: [...entry.names].join(', '), taken: refused.join(', ') },
        });
      }
    }

    function checkDynamic(node, argument) {
      const value = literalValue(argument);
      if (value === null) context.report({ node, messageId: 'nonLiteral', data: { layer } });
      else check(node, value, null);
    }

    const isRequire = (callee) =>
      (callee.type === 'Identifier' && callee.name === 'require') ||
      (callee.type === 'MemberExpression' &&
        !callee.computed &&
        callee.property.type === 'Identifier' &&
        ((callee.object.type === 'Identifier' && callee.object.name === 'module' && callee.property.name === 'require') ||
          (callee.object.type === 'Identifier' && callee.object.name === 'require' && callee.property.name === 'resolve')));

    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          if (comment.type === 'Line' && /^\/\s*<reference\s/.test(comment.value)) {
            context.report({ loc: comment.loc, messageId: 'reference', data: { layer, text: `//${comment.value}`.trim() } });
          }
        }
      },
      ImportDeclaration(node) {
        check(node, node.source.value, takenNames(node));
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node, node.source.value, takenNames(node));
      },
      ExportAllDeclaration(node) {
        check(node, node.source.value, null);
      },
      ImportExpression(node) {
        checkDynamic(node, node.source);
      },
      CallExpression(node) {
        if (isRequire(node.callee)) checkDynamic(node, node.arguments[0]);
      },
      TSImportEqualsDeclaration(node) {
        if (node.moduleReference.type === 'TSExternalModuleReference') checkDynamic(node, node.moduleReference.expression);
      },
      TSImportType(node) {
        const source = node.source ?? node.argument?.literal;
        checkDynamic(node, source);
      },
    };
  },
};

export default { meta: { name: 'zerorange-local' }, rules: { 'import-patterns': rule } };
