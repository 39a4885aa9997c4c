// GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Make or verify a keyed sigstore bundle (DSSE envelope around an in-toto Statement naming an image digest)
// with sigstore-js, an implementation that is not ours. A developer tool, not run by CI.
//
//   npm install --prefix DIR @sigstore/sign@4.1.1 @sigstore/verify@3.1.1 @sigstore/bundle@4.0.0 @sigstore/core@3.2.1
//   NODE_PATH=DIR/node_modules node tests/utils/sigstore_js_bundle.js sign --key PKCS8.pem [--hint HINT] \
//       [--hash sha256] --digest sha256:HEX > bundle.json
//   NODE_PATH=DIR/node_modules node tests/utils/sigstore_js_bundle.js verify --key PUBLIC.pem \
//       --bundle bundle.json [--digest sha256:HEX] [--trusted-root trusted_root.json]
//
// sign: the Statement cosign's `sign --new-bundle-format` makes (cmd/cosign/cli/sign/sign.go
// signDigestBundle): {"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":HEX}}],
// "predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}, written compactly, wrapped by
// @sigstore/sign's DSSEBundleBuilder (payloadType application/vnd.in-toto+json, bundle v0.3, publicKey.hint)
// and signed with the unencrypted PKCS#8 PEM key by node's crypto (ECDSA: DER, SHA-256 for P-256, SHA-384
// for P-384, SHA-512 for P-521, cosign's choices, unless --hash names another; Ed25519; RSA PKCS#1 v1.5
// SHA-256). No transparency log, no timestamp.
//
// verify: @sigstore/verify's Verifier with the key for whatever hint the bundle names. Without
// --trusted-root, the bundle's tlog entries and timestamps are dropped first and no threshold applies: only
// the DSSE signature over PAE is checked. With --trusted-root (e.g. sigstore-go's
// examples/trusted-root-public-good.json) its Rekor entries are verified too (one required). Then, with
// --digest, the Statement's subjects must include that digest. Prints {"result": "ok"|"rejected", ...} and
// exits 0 or 1 (2 on usage errors).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { DSSEBundleBuilder } = require('@sigstore/sign');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON, bundleToJSON } = require('@sigstore/bundle');

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      throw new Error(`bad argument ${argv[i]}`);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

function hashFor(key) {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec') {
    return { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' }[key.asymmetricKeyDetails.namedCurve] ||
      { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' }[key.asymmetricKeyDetails.namedCurve];
  }
  return 'sha256';
}

async function sign(opts) {
  const [algorithm, hex] = opts.digest.split(':');
  const privateKey = crypto.createPrivateKey(fs.readFileSync(opts.key));
  const publicPem = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' });
  const signer = {
    sign: async (data) => ({
      signature: crypto.sign(opts.hash || hashFor(privateKey), data, privateKey),
      key: { $case: 'publicKey', publicKey: publicPem, hint: opts.hint || '' },
    }),
  };
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { [algorithm]: hex } }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  };
  const builder = new DSSEBundleBuilder({ signer, witnesses: [] });
  const bundle = await builder.create({
    data: Buffer.from(JSON.stringify(statement)),
    type: 'application/vnd.in-toto+json',
  });
  process.stdout.write(JSON.stringify(bundleToJSON(bundle)) + '\n');
  return 0;
}

function verify(opts) {
  const json = JSON.parse(fs.readFileSync(opts.bundle, 'utf8'));
  const full = Boolean(opts['trusted-root']);
  if (!full) {
    json.verificationMaterial.tlogEntries = [];
    json.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
  }
  const root = full ? JSON.parse(fs.readFileSync(opts['trusted-root'], 'utf8'))
    : { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
  const { TrustedRoot } = require('@sigstore/protobuf-specs');
  const publicKey = crypto.createPublicKey(fs.readFileSync(opts.key));
  const trust = toTrustMaterial(TrustedRoot.fromJSON(root), () => ({ publicKey, validFor: () => true }));
  const thresholds = full ? { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 }
    : { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
  const result = { bundle: opts.bundle, key: opts.key, tlog: full };
  try {
    const bundle = bundleFromJSON(json);
    new Verifier(trust, thresholds).verify(toSignedEntity(bundle));
    if (opts.digest) {
      const [algorithm, hex] = opts.digest.split(':');
      const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
      if (!statement.subject.some((s) => s.digest && s.digest[algorithm] === hex)) {
        throw new Error(`the statement's subjects do not include ${opts.digest}`);
      }
    }
    result.result = 'ok';
  } catch (error) {
    result.result = 'rejected';
    result.message = `${error.code ? error.code + ': ' : ''}${error.message}`;
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  return result.result === 'ok' ? 0 : 1;
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  let opts;
  try {
    opts = args(rest);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (command === 'sign' && opts.key && opts.digest) return sign(opts);
  if (command === 'verify' && opts.key && opts.bundle) return verify(opts);
  process.stderr.write('usage: sigstore_js_bundle.js sign --key PKCS8.pem [--hint H] --digest sha256:HEX\n' +
    '       sigstore_js_bundle.js verify --key PUBLIC.pem --bundle B.json [--digest sha256:HEX] [--trusted-root R]\n');
  return 2;
}

main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
