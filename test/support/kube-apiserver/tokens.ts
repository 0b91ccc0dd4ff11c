// Service-account JWTs: issued by TokenRequest (serviceaccounts/{name}/token), verified for
// bearer authentication and TokenReview. RS256 with a per-server key, claims as the
// apiserver's bound tokens carry them.
import { createHash, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/** The private `kubernetes.io` claim of a bound token. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  /** Set when the expiry was extended: clients should refresh after this (seconds since epoch). */
  warnafter?: number;
}

export interface TokenClaims {
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  jti: string;
  sub: string;
  'kubernetes.io': KubernetesClaim;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Signs and verifies service-account tokens for one server; keys live only in memory. */
export class TokenIssuer {
  readonly issuer: string;
  /** Audiences the server itself accepts (--api-audiences; defaults to the issuer). */
  readonly apiAudiences: string[];
  readonly publicKey: KeyObject;
  private readonly privateKey: KeyObject;
  private readonly kid: string;

  constructor(issuer = 'https://kubernetes.default.svc.cluster.local', apiAudiences?: string[]) {
    this.issuer = issuer;
    this.apiAudiences = apiAudiences ?? [issuer];
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKey = publicKey;
    this.privateKey = privateKey;
    // The apiserver's key id: unpadded base64url of the SHA-256 of the DER public key.
    this.kid = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
  }

  /**
   * Issues a token valid from now for `expirationSeconds`; with `warnAfterSeconds` the JWT
   * carries kubernetes.io.warnafter = now + warnAfterSeconds (the extended-expiry case).
   */
  issue(claim: KubernetesClaim, audiences: string[], expirationSeconds: number, warnAfterSeconds?: number): { token: string; claims: TokenClaims } {
    const now = Math.floor(Date.now() / 1000);
    const k = warnAfterSeconds === undefined ? claim : { ...claim, warnafter: now + warnAfterSeconds };
    const claims: TokenClaims = {
      aud: audiences, exp: now + expirationSeconds, iat: now, nbf: now, iss: this.issuer, jti: randomUUID(),
      sub: `system:serviceaccount:${claim.namespace}:${claim.serviceaccount.name}`, 'kubernetes.io': k,
    };
    const header = b64url(JSON.stringify({ alg: 'RS256', kid: this.kid }));
    const body = b64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${body}`), this.privateKey).toString('base64url');
    return { token: `${header}.${body}.${signature}`, claims };
  }

  /**
   * The claims of a token this issuer signed that is valid at `atSeconds` (default now), else
   * undefined. Tests pass the time they read a token to check it without racing its expiry.
   */
  verify(token: string, atSeconds = Math.floor(Date.now() / 1000)): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'));
    if (!ok) return undefined;
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    const now = atSeconds;
    if (claims.iss !== this.issuer || claims.exp <= now || claims.nbf > now + 60) return undefined;
    return claims;
  }
}

/** Username and groups a service-account token authenticates as. */
export function serviceAccountUser(claims: TokenClaims): { user: string; uid: string; groups: string[]; extra: Record<string, string[]> } {
  const k = claims['kubernetes.io'];
  const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.node) {
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  return {
    user: claims.sub,
    uid: k.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
    extra,
  };
}
