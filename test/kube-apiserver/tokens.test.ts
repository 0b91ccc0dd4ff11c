import assert from 'node:assert/strict';
import { createVerify } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.ts';
import { call } from '../support/kube-apiserver/raw-client.ts';

let s: KubeApiServer;
const admin = (method: string, path: string, body?: unknown) => call(s.url, method, path, body, { token: s.token });
const TOKEN_PATH = '/api/v1/namespaces/default/serviceaccounts/default/token';
const decode = (jwt: string) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
const request = (spec: Record<string, unknown>) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });

before(async () => {
  s = await startKubeApiServer({ tokens: { 'node-tok': { user: 'system:node:n1', groups: ['system:nodes'] } } });
  await admin('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
  await admin('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'tp' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } });
  await admin('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'elsewhere' }, spec: { nodeName: 'n9', containers: [{ name: 'c', image: 'i:1' }] } });
});
after(() => s.stop());

test('TokenRequest returns a signed JWT bound to the pod, with audiences and expiry', async () => {
  const pod = (await admin('GET', '/api/v1/namespaces/default/pods/tp')).body;
  const sa = (await admin('GET', '/api/v1/namespaces/default/serviceaccounts/default')).body;
  const node = (await admin('GET', '/api/v1/nodes/n1')).body;
  const res = await admin('POST', TOKEN_PATH, request({ audiences: ['vault'], expirationSeconds: 900, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'tp', uid: pod.metadata.uid } }));
  assert.equal(res.status, 201);
  assert.equal(res.body.kind, 'TokenRequest');
  const token: string = res.body.status.token;
  const [header, claims] = decode(token);
  assert.equal(header.alg, 'RS256');
  assert.ok(header.kid);
  assert.deepEqual(claims.aud, ['vault']);
  assert.equal(claims.exp - claims.iat, 900);
  assert.equal(Date.parse(res.body.status.expirationTimestamp) / 1000, claims.exp);
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  assert.deepEqual(claims['kubernetes.io'], {
    namespace: 'default', serviceaccount: { name: 'default', uid: sa.metadata.uid }, pod: { name: 'tp', uid: pod.metadata.uid }, node: { name: 'n1', uid: node.metadata.uid },
  });
  const [h, p, sig] = token.split('.');
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${h}.${p}`);
  assert.equal(verifier.verify(s.issuer.publicKey, Buffer.from(sig, 'base64url')), true, 'signature verifies with the server key');
});

test('TokenRequest validation: expiry under 10 minutes is 422, wrong pod uid 409, missing pod 404', async () => {
  const short = await admin('POST', TOKEN_PATH, request({ expirationSeconds: 60 }));
  assert.equal(short.status, 422);
  assert.match(short.body.message, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
  const wrongUid = await admin('POST', TOKEN_PATH, request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'tp', uid: 'nope' } }));
  assert.equal(wrongUid.status, 409);
  const missing = await admin('POST', TOKEN_PATH, request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'ghost' } }));
  assert.equal(missing.status, 404);
  const noSa = await admin('POST', '/api/v1/namespaces/default/serviceaccounts/ghost/token', request({}));
  assert.equal(noSa.status, 404);
});

test('a default-audience token authenticates to the server until its pod is deleted; TokenReview agrees', async () => {
  const res = await admin('POST', TOKEN_PATH, request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'tp' } }));
  const token: string = res.body.status.token;
  assert.deepEqual(decode(token)[1].aud, s.issuer.apiAudiences);
  const asSa = await call(s.url, 'GET', '/api/v1/namespaces/default/pods', undefined, { token });
  assert.equal(asSa.status, 403, 'authenticated (not 401) but without rights');
  assert.match(asSa.body.message, /User "system:serviceaccount:default:default" cannot list/);
  const review = await admin('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token } });
  assert.equal(review.body.status.authenticated, true);
  assert.equal(review.body.status.user.username, 'system:serviceaccount:default:default');
  assert.deepEqual(review.body.status.user.extra['authentication.kubernetes.io/pod-name'], ['tp']);
  const other = await admin('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token, audiences: ['vault'] } });
  assert.equal(other.body.status.authenticated, undefined, 'audience mismatch');
  await admin('DELETE', '/api/v1/namespaces/default/pods/tp?gracePeriodSeconds=0');
  assert.equal((await call(s.url, 'GET', '/api/v1/namespaces/default/pods', undefined, { token })).status, 401);
  assert.equal((await admin('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token } })).body.status.authenticated, undefined);
});

test('a node may request tokens only bound to pods on itself', async () => {
  const asNode = (body: unknown) => call(s.url, 'POST', TOKEN_PATH, body, { token: 'node-tok' });
  await admin('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'tp2' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } });
  const uid = (await admin('GET', '/api/v1/namespaces/default/pods/tp2')).body.metadata.uid;
  const ok = await asNode(request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'tp2', uid } }));
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  const unbound = await asNode(request({}));
  assert.equal(unbound.status, 403);
  assert.match(unbound.body.message, /node requested token not bound to a pod/);
  const euid = (await admin('GET', '/api/v1/namespaces/default/pods/elsewhere')).body.metadata.uid;
  const foreign = await asNode(request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'elsewhere', uid: euid } }));
  assert.equal(foreign.status, 403);
});

test('a pod-bound 3607 s token for the API audience is extended to a year with warnafter', async () => {
  await admin('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'tp3' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } });
  const res = await admin('POST', TOKEN_PATH, request({ expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'tp3' } }));
  const claims = decode(res.body.status.token)[1];
  assert.equal(claims.exp - claims.iat, 365 * 24 * 3600);
  assert.equal(claims['kubernetes.io'].warnafter - claims.iat, 3607);
  assert.equal(Date.parse(res.body.status.expirationTimestamp) / 1000 - claims.iat, 3607, 'status reports the requested lifetime');
  const custom = await admin('POST', TOKEN_PATH, request({ expirationSeconds: 3607, audiences: ['vault'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'tp3' } }));
  const c = decode(custom.body.status.token)[1];
  assert.equal(c.exp - c.iat, 3607, 'other audiences are not extended');
  assert.equal(c['kubernetes.io'].warnafter, undefined);
});
