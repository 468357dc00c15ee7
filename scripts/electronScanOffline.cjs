// Preloaded into the Electronegativity process by scripts/electronScan.ts.
// At start the tool fetches updated translations from GitHub (dist/locales/i18n.js, through `got`,
// with a 1 s timeout) and falls back to its bundled English when that fails. The build machines
// have no internet, and on Node 24 got's retry after that timeout throws an uncaught error from
// p-cancelable that kills the scan. The scan needs no translations: the fetch fails at once here,
// and the tool takes its own offline path.
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a --require preload is CommonJS
const Module = require('node:module');

const load = Module._load;
Module._load = function loadWithoutTranslationFetch(request, parent, isMain) {
  if (request === 'got' && parent && /electronegativity[\\/]dist[\\/]locales[\\/]i18n\.js$/.test(parent.filename)) {
    return () => Promise.reject(new Error('translations are not fetched: the scan runs offline'));
  }
  return load.call(this, request, parent, isMain);
};
