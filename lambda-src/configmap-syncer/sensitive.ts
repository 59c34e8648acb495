/**
 * The sensitivity heuristic of the ConfigMap syncer: a key is refused when its name or its value
 * looks like a credential. A ConfigMap is readable by anyone who may `get` ConfigMaps in its
 * namespace, so the heuristic leans towards refusing; a refused key is logged by name and counted,
 * never synced, and its value is never logged.
 *
 * Names are split into words (on `_`, `.`, `-`, `/`, spaces, camelCase and letter/digit
 * boundaries) and refused when a word is a credential word (`password`, `token`, `key`, ...), or
 * when the name contains an unambiguous one (`password`, `secret`, `apikey`, ...) anywhere.
 * `keyspace`, `tokenizer`, `max_tokens` and `session_timeout` pass: no word of them is a credential
 * word.
 *
 * Values are refused when they hold a PEM block, an AWS access key id, a JWT, a URL with a
 * password, a scheme-less `user:password@host[:port]`, a well-known token prefix, an HTTP Basic
 * credential (`Basic ` and base64 of `user:password`, with or without an `Authorization:` name), a
 * `.netrc` line with a password, an embedded `password=...`-style assignment, a `Bearer` token, a
 * run of 32 or more hex digits, or a long random-looking token (see {@link looksRandom}). UUIDs,
 * URLs without credentials, `host:port`, e-mail addresses, host names, paths, ARNs, ISO dates,
 * JSON snippets and `sha256:`-labelled digests (also after an image tag) pass.
 */

// The name rules live beside the ConfigMapSyncer construct, which refuses includeKeys naming a key
// they would always refuse.
import { isSensitiveName } from '../../src/configmap-syncer/sensitive-names';

export { isSensitiveName, nameWords } from '../../src/configmap-syncer/sensitive-names';

/** Why a key was refused; value-free, so it may be logged with the key's name. */
export type SensitiveReason =
  | 'name'
  | 'private-key'
  | 'aws-access-key-id'
  | 'jwt'
  | 'url-credentials'
  | 'userinfo-credentials'
  | 'basic-credentials'
  | 'netrc-credentials'
  | 'token-prefix'
  | 'embedded-credential'
  | 'bearer-token'
  | 'hex-string'
  | 'high-entropy';

/** PEM blocks: private keys, certificates, anything armoured. */
const PEM = /-----BEGIN [A-Z0-9 ]+-----/;
/** AWS access key ids: long-term (AKIA) and temporary (ASIA). */
const AWS_ACCESS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/;
/** A JWT: base64url header and payload (the header always starts `{"`, so `eyJ`), signature may be empty. */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;
/** `scheme://user:password@`: credentials in a URL's userinfo. */
const URL_CREDENTIALS = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:]*:[^\s/?#@]+@/;
/**
 * A scheme-less `user:password@host[:port]` (as in `DATABASE=orders:hunter2@db.internal:5432`):
 * user info that ends in `@` and a host name. A `name:tag@sha256:...` image reference (the "host"
 * is a digest algorithm) and `mailto:`/`sip:` addresses (the "user" is a scheme) are not.
 */
const USERINFO_CREDENTIALS = new RegExp(
  '(?<![A-Za-z0-9._%+~-])(?!(?:mailto|sips?|xmpp|im|pres|tel):)[A-Za-z0-9._%+~-]*:[^\\s@/:?#]+@'
  + '(?!(?:sha1|sha224|sha256|sha384|sha512|md5)(?![A-Za-z0-9.-]))[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\\d{1,5})?(?![A-Za-z0-9-])',
  'i',
);
/** `Basic <token68>`: an HTTP Basic credential when the token decodes to `user:password`. */
const BASIC = /(?<![A-Za-z0-9])Basic\s+([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])/gi;
/** A `.netrc` entry with a password: `machine <host> [login <user>] password <password>` or `default ...`. */
const NETRC = /(?<![A-Za-z0-9])(?:machine\s+\S+|default)(?:\s+(?:login|account)\s+\S+)*\s+password\s+\S+/i;
/** Prefixes of well-known tokens (GitHub, GitLab, Slack, Stripe, Google API keys, npm). */
const TOKEN_PREFIX = /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[A-Za-z0-9_-]{35}|npm_[A-Za-z0-9]{36})/;
/** `Authorization: Bearer <token>` and the like. */
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/-]{16,}/i;
/**
 * `name=value` or `"name": "value"` inside a value (connection strings, query strings, JSON); the
 * name is checked with {@link isSensitiveName}, and the value must be more than a number or a
 * boolean (`"token_ttl": 30` passes).
 */
const ASSIGNMENT = /(?<![A-Za-z0-9_.-])([A-Za-z][A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?([^\s"',;&{}[\]]+)/g;
/** Canonical UUIDs: identifiers, removed before the hex and randomness checks. */
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
/** Hex digests labelled with their algorithm (`sha256:...`, as in image digests) are not secrets. */
const LABELLED_DIGEST = /\b(?:sha1|sha256|sha384|sha512|md5):[0-9a-fA-F]+/gi;
/**
 * 32 or more hex digits with at least one letter and one digit: API keys, HMAC keys and session
 * secrets often look like this, and hex caps Shannon entropy at 4 bits a character, below what
 * {@link looksRandom} looks for. (A bare git commit SHA is refused too.)
 */
const HEX_RUN = /(?<![A-Za-z0-9])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])/;
/*
 * Every pattern that starts with a repeated class is anchored by a look-behind at the start of a
 * run, so a value of a megabyte is scanned in linear time (without it, a long run of letters would
 * be retried from every position).
 */

/** Candidate tokens for the randomness check: runs of the base64 and base64url alphabets. */
const TOKEN = /[A-Za-z0-9+/=_-]+/g;

/** Shortest token {@link looksRandom} considers (characters). */
const MIN_RANDOM_TOKEN_CHARS = 24;
/**
 * Least Shannon entropy of a random-looking token (bits a character). A 24-character token needs
 * about a dozen distinct characters to reach it; runs of one repeated character never do.
 */
const MIN_ENTROPY_BITS = 3.5;
/**
 * Least share of adjacent letters and digits that change class (lower, upper, digit). Random
 * mixed-case strings change class at about 0.6 of positions (fewer than 1 in 40 of 24-character
 * ones fall below 0.4); camelCase, snake_case and kebab-case identifiers, paths and host names
 * stay well below (`CamelCaseConfigurationValueForTesting123`: 0.31).
 */
const MIN_CLASS_CHANGE_RATIO = 0.4;

/** The value-free reason a value looks like a credential, or `undefined`. */
export function sensitiveValueReason(value: string): SensitiveReason | undefined {
  if (PEM.test(value)) return 'private-key';
  if (AWS_ACCESS_KEY_ID.test(value)) return 'aws-access-key-id';
  if (JWT.test(value)) return 'jwt';
  if (URL_CREDENTIALS.test(value)) return 'url-credentials';
  if (USERINFO_CREDENTIALS.test(value)) return 'userinfo-credentials';
  if (TOKEN_PREFIX.test(value)) return 'token-prefix';
  if (hasBasicCredential(value)) return 'basic-credentials';
  if (NETRC.test(value)) return 'netrc-credentials';
  if (BEARER.test(value)) return 'bearer-token';
  if (hasSensitiveAssignment(value)) return 'embedded-credential';
  const rest = value.replace(UUID, ' ').replace(LABELLED_DIGEST, ' ');
  if (HEX_RUN.test(rest)) return 'hex-string';
  if ((rest.match(TOKEN) ?? []).some(looksRandom)) return 'high-entropy';
  return undefined;
}

/**
 * The reason a key (name and value) is refused, or `undefined` when it may be synced.
 *
 * @example
 * sensitiveKeyReason('db_password', 'x');                  // 'name'
 * sensitiveKeyReason('upstream', 'https://u:p@host/');     // 'url-credentials'
 * sensitiveKeyReason('session_timeout', '30m');            // undefined
 */
export function sensitiveKeyReason(name: string, value: string): SensitiveReason | undefined {
  return isSensitiveName(name) ? 'name' : sensitiveValueReason(value);
}

/**
 * True when a `Basic <token>` decodes to printable `user:password`, either side possibly empty (an
 * API key is often sent as the user with no password), so that "Basic plan" passes.
 */
function hasBasicCredential(value: string): boolean {
  for (const [, token] of value.matchAll(BASIC)) {
    const decoded = Buffer.from(token, 'base64').toString('latin1');
    if (decoded.length > 1 && /^[\x20-\x7e]*:[\x20-\x7e]*$/.test(decoded)) return true;
  }
  return false;
}

function hasSensitiveAssignment(value: string): boolean {
  const checked = new Set<string>();
  for (const [, name, assigned] of value.matchAll(ASSIGNMENT)) {
    if (checked.has(name) || /^(?:-?\d+(?:\.\d+)?|true|false|null)$/i.test(assigned)) continue;
    if (isSensitiveName(name)) return true;
    checked.add(name);
  }
  return false;
}

/**
 * True for a token that looks randomly generated: at least {@link MIN_RANDOM_TOKEN_CHARS} long,
 * mixed case, Shannon entropy of at least {@link MIN_ENTROPY_BITS} bits a character, and class
 * changes between adjacent letters and digits at {@link MIN_CLASS_CHANGE_RATIO} of positions or
 * more. Single-case random strings (rare as credentials; their names usually give them away) pass.
 */
export function looksRandom(token: string): boolean {
  if (token.length < MIN_RANDOM_TOKEN_CHARS) return false;
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token)) return false;
  return shannonEntropy(token) >= MIN_ENTROPY_BITS && classChangeRatio(token) >= MIN_CLASS_CHANGE_RATIO;
}

/** Shannon entropy of the characters of `text`, in bits a character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  const length = [...text].length;
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Share of adjacent letters and digits (other characters skipped) that differ in class. */
export function classChangeRatio(token: string): number {
  const classes = [...token].flatMap((c) => (/[a-z]/.test(c) ? ['l'] : /[A-Z]/.test(c) ? ['u'] : /[0-9]/.test(c) ? ['d'] : []));
  if (classes.length < 2) return 0;
  let changes = 0;
  for (let i = 1; i < classes.length; i++) if (classes[i] !== classes[i - 1]) changes++;
  return changes / (classes.length - 1);
}
