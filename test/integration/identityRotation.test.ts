import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../server/src/identity.js';

const ISSUER = 'https://id.example.test';
const AUDIENCE = 'urn:zerorange:signaling';

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } as JWK };
}

const token = (key: Awaited<ReturnType<typeof keyPair>>) =>
  new SignJWT({ name: 'Alice' })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(key.privateKey);

describe('IdP key rotation', () => {
  let server: Server;
  let published: JWK[] = [];
  let fetches = 0;
  let jwksUri: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('follows the IdP to a new signing key, fetching its keys only when an unknown kid appears', async () => {
    const old = await keyPair('k1');
    const next = await keyPair('k2');
    published = [old.jwk];
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], clockToleranceSeconds: 0, jwksUri, jwksCooldownMs: 0 });
    expect((await verifier.verify(await token(old))).sub).toBe('alice');
    expect((await verifier.verify(await token(old))).sub).toBe('alice');
    expect(fetches).toBe(1); // cached

    // The IdP rotates: the new key is published and starts signing.
    published = [old.jwk, next.jwk];
    expect((await verifier.verify(await token(next))).sub).toBe('alice');
    expect(fetches).toBe(2);

    // A key that was never published is refused, after one more look.
    const stranger = await keyPair('k3');
    await expect(verifier.verify(await token(stranger))).rejects.toMatchObject({ reason: 'unknown-key' });
  });

  it('reports only a failed key fetch as an identity provider outage', async () => {
    const key = await keyPair('k9');
    // Nothing listens on port 1: the fetch fails, which is the IdP's problem, not the token's.
    const unreachable = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], clockToleranceSeconds: 0, jwksUri: 'http://127.0.0.1:1/jwks' });
    await expect(unreachable.verify(await token(key))).rejects.toMatchObject({ reason: 'idp-unavailable' });

    // A token naming a critical extension is refused before any key is looked at: invalid, not an outage.
    const [, payload, signature] = (await token(key)).split('.');
    const crit = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'k9', crit: ['urn:x'], 'urn:x': 1 })).toString('base64url');
    await expect(unreachable.verify(`${crit}.${payload}.${signature}`)).rejects.toMatchObject({ reason: 'unsupported-token' });
  });
});
