// Not a module on purpose. renderer/tsconfig.json maps packages that bring Node's types (Electron,
// the server's and main's dependencies) here, so importing one from the renderer fails to compile
// ("is not a module") instead of resolving and adding Node's globals to the page's code.
