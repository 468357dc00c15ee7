// Preloaded into a server process by a test: SIGUSR2 makes it throw outside any handler, as a bug would.
process.on('SIGUSR2', () => {
  setImmediate(() => {
    throw new Error('a bug outside every request handler');
  });
});
