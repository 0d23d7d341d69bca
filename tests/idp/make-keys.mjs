// Writes keys.json: the test provider's signing keys, generated once and committed, so that
// starting a provider generates nothing (an RSA key costs tens to hundreds of milliseconds of
// CPU, and the tests start the provider about twenty times). Three generations per algorithm:
// /__admin/rotate moves to the next. Test keys only: they sign nothing outside the tests.
//
//   node make-keys.mjs > keys.json
import crypto from 'node:crypto';

const ALGORITHMS = { RS256: ['rsa', { modulusLength: 2048 }], PS256: ['rsa', { modulusLength: 2048 }], ES256: ['ec', { namedCurve: 'P-256' }], EdDSA: ['ed25519', {}] };
const GENERATIONS = 3;

const keys = {};
for (const [alg, [type, options]] of Object.entries(ALGORITHMS)) {
  keys[alg] = [];
  for (let generation = 0; generation < GENERATIONS; generation += 1) {
    const pair = crypto.generateKeyPairSync(type, options);
    const meta = { kid: `${alg.toLowerCase()}-${generation}`, alg, use: 'sig' };
    keys[alg].push({ privateJwk: { ...pair.privateKey.export({ format: 'jwk' }), ...meta }, publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), ...meta } });
  }
}
process.stdout.write(`${JSON.stringify(keys, null, 1)}\n`);
