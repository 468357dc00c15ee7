import type { IncomingMessage } from 'node:http';
import { AuthError, type Identity } from '../identity.js';
import type { AppContext } from './context.js';
import { HttpError } from './respond.js';

/** Verifies the bearer access token (the IdP's), or throws the 401/503 to answer with. */
export async function authenticate(
  ctx: AppContext,
  req: IncomingMessage,
  ip: string,
  onRejected: (reason: string) => void,
): Promise<Identity> {
  const header = req.headers.authorization ?? '';
  const bearer = /^Bearer +([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header)?.[1];
  try {
    return await ctx.verifier.verify(bearer);
  } catch (err) {
    const reason = err instanceof AuthError ? err.reason : 'malformed-token';
    ctx.audit('access-token.rejected', { ip, reason });
    onRejected(reason);
    if (reason === 'idp-unavailable') {
      throw new HttpError(503, 'internal', 'the identity provider cannot be reached; try again shortly', { 'retry-after': '5' });
    }
    throw new HttpError(401, 'unauthorized', err instanceof AuthError ? err.message : 'invalid token', {
      'www-authenticate': `Bearer realm="zerorange", error="invalid_token"`,
    });
  }
}
