/** PeerJS server (npm `peer`) as users run it, with its connection cap lifted for the hold phase. */
import { PeerServer } from 'peer';

const port = Number(process.argv[2]);
PeerServer({ port, host: '127.0.0.1', path: '/', concurrent_limit: 1_000_000 }, () => process.send?.('ready'));
