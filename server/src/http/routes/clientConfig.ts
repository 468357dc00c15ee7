import { PROTOCOL_VERSION, roomIdRules, type ClientConfig } from '../../../../shared/protocol/index.js';
import { signalingUrlOf, type AppContext } from '../context.js';
import { sendJson } from '../respond.js';
import { exact, type Route } from '../router.js';

/** What a desktop app needs to sign in and connect, published so only the server's URL is entered. */
export const clientConfigRoute = (ctx: AppContext): Route => ({
  name: 'client-config',
  method: 'GET',
  match: exact('/v1/client-config'),
  handle({ res }) {
    const { idp } = ctx.config;
    const body: ClientConfig = {
      issuer: idp.issuer,
      clientId: idp.clientId,
      scopes: idp.scopes,
      audience: idp.audience,
      signalingUrl: signalingUrlOf(ctx.baseUrl()),
      roomId: roomIdRules,
      protocolVersion: PROTOCOL_VERSION,
    };
    sendJson(res, 200, body, { 'cache-control': 'public, max-age=300' });
  },
});
