/**
 * The machine's ceiling for a join with two connections: the same HTTP join and socket handshake as
 * ZeroRange (`http` + `ws`), with no token checks, rooms, limits, logs or metrics. Not a server to
 * run; a yardstick for how close ZeroRange's join comes to what Node can do here.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
let n = 0;
const server = http.createServer((req, res) => {
  req.resume();
  const body = `{"roomToken":"t${n++}"}`;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
server.on('upgrade', (req, socket, head) =>
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.once('message', () => ws.send(`{"type":"welcome","self":{"peerId":"p${n++}"}}`));
    ws.on('message', (data) => ws.send(data, { binary: false }));
  }),
);
server.listen(port, '127.0.0.1', () => process.send?.('ready'));
