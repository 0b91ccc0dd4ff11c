// htpasswd lines for the registry's basic auth. distribution only accepts bcrypt entries;
// Node has no bcrypt, so this calls libxcrypt's crypt(3) (libcrypt.so.1, present on every
// Debian system) through koffi instead of needing apache2-utils' htpasswd binary.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);

type Crypt = (phrase: string, setting: string) => string | null;
let crypt: Crypt | undefined;

// Bound lazily: only basic/token registries need it.
function loadCrypt(): Crypt {
  if (crypt) return crypt;
  const koffi = require('koffi');
  crypt = koffi.load('libcrypt.so.1').func('const char *crypt(const char *phrase, const char *setting)') as Crypt;
  return crypt;
}

// bcrypt's base64 alphabet (not RFC 4648's).
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A bcrypt hash ($2b$, cost 5: cheap enough for tests, still real bcrypt) of `password`. */
export function bcryptHash(password: string): string {
  const salt = [...randomBytes(22)].map((b) => BCRYPT_ALPHABET[b & 63]).join('');
  // The 22nd salt character only contributes 2 bits; bcrypt wants those unused bits zero.
  const setting = `$2b$05$${salt.slice(0, 21)}${'.Oeu'[BCRYPT_ALPHABET.indexOf(salt[21]) >> 4]}`;
  const hash = loadCrypt()(password, setting);
  if (!hash || !hash.startsWith('$2b$')) throw new Error('crypt(3) did not return a bcrypt hash');
  return hash;
}

/** One htpasswd file line `user:bcrypt-hash`. */
export function htpasswdLine(username: string, password: string): string {
  return `${username}:${bcryptHash(password)}\n`;
}
