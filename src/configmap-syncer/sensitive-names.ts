/**
 * The name rules of the ConfigMap syncer's sensitivity heuristic, shared by the construct (which
 * refuses `includeKeys` that can never be synced) and the handler (which refuses the keys). Internal:
 * not exported from the package entry point.
 *
 * Names are split into words (on `_`, `.`, `-`, `/`, spaces, camelCase and letter/digit
 * boundaries) and refused when a word is a credential word (`password`, `token`, `key`, ...), or
 * when the name contains an unambiguous one (`password`, `secret`, `apikey`, ...) anywhere.
 * `keyspace`, `tokenizer`, `max_tokens` and `session_timeout` pass: no word of them is a credential
 * word.
 */

/** Whole words that mark a name as sensitive. */
const SENSITIVE_WORDS = new Set([
  'password', 'passwords', 'passwd', 'pwd', 'pass', 'passphrase', 'passcode',
  'secret', 'secrets', 'token', 'key', 'apikey', 'credential', 'credentials', 'cred', 'creds',
  'private', 'privkey', 'cert', 'certs', 'certificate', 'certificates', 'auth', 'authorization',
  'signature', 'salt', 'otp', 'totp', 'jwt', 'bearer', 'dsn', 'pem', 'pfx', 'keystore', 'keytab',
]);

/**
 * Substrings that mark a name as sensitive wherever they occur (in the lowercase name with its
 * separators removed): unambiguous enough to catch `DBPASSWORD`, `mysqlPassword2` or `APIKEY`.
 */
const SENSITIVE_SUBSTRINGS = [
  'password', 'passwd', 'passphrase', 'secret', 'credential', 'apikey', 'privatekey', 'accesskey',
  'secretkey', 'signingkey', 'encryptionkey', 'authtoken', 'accesstoken', 'refreshtoken',
  'sessiontoken', 'bearertoken', 'idtoken', 'connectionstring',
];

/** Splits a name into lowercase words: separators, camelCase, acronyms and digits. */
export function nameWords(name: string): string[] {
  return name
    // camelCase and acronym boundaries: dbPassword -> db Password, APIKey -> API Key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    // letter/digit boundaries: password2 -> password 2, s3bucket -> s 3 bucket
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

/** True when a key's name looks like that of a credential. */
export function isSensitiveName(name: string): boolean {
  const words = nameWords(name);
  if (words.some((w) => SENSITIVE_WORDS.has(w))) return true;
  const squashed = words.join('');
  return SENSITIVE_SUBSTRINGS.some((s) => squashed.includes(s));
}

/**
 * True when every key the `includeKeys` glob (`*`, `**`, `?`) can match is sensitive by name: a
 * literal run of the glob (between wildcards) contains an unambiguous credential substring, which
 * then survives in every matching name once its separators are removed. A `false` proves nothing:
 * the glob may still match only sensitive names by other rules.
 */
export function globMatchesOnlySensitiveNames(glob: string): boolean {
  return glob.split(/[*?]+/).some((literal) => {
    const squashed = literal.replace(/[^A-Za-z0-9]+/g, '').toLowerCase();
    return SENSITIVE_SUBSTRINGS.some((s) => squashed.includes(s));
  });
}
