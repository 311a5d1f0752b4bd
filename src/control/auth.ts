// Bearer-token auth of PoolControl: `authorization: Bearer <token>` on every call. A read-only
// token may list, read statistics and watch; the admin token may do everything. Auth is on as
// soon as one token is configured. Tokens are compared in constant time (SHA-256 digests of equal
// length through timingSafeEqual, against both tokens every time). Token files are re-read when
// they change (Kubernetes rotates mounted secrets), checked at most once a second.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { type Metadata, type StatusObject, status } from '@grpc/grpc-js';
import type { GrpcConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';

export type Role = 'read' | 'admin';

const FILE_RECHECK_MS = 1000;

/** One configured token: given literally or read from a file. */
class TokenSource {
  readonly #field: string;
  readonly #file: string | undefined;
  #digest: Buffer;
  #mtimeMs = 0;
  #checkedAt = 0;

  constructor(field: string, literal: string | undefined, file: string | undefined) {
    this.#field = field;
    this.#file = file;
    this.#digest = literal !== undefined ? digest(literal) : this.#read();
  }

  /** The token's digest; a file that changed is read again (a failed re-read keeps the old token). */
  current(now = Date.now()): Buffer {
    if (this.#file !== undefined && now - this.#checkedAt >= FILE_RECHECK_MS) {
      this.#checkedAt = now;
      try {
        if (statSync(this.#file).mtimeMs !== this.#mtimeMs) this.#digest = this.#read();
      } catch {
        // keep serving with the token we have; the next check tries again
      }
    }
    return this.#digest;
  }

  #read(): Buffer {
    const file = this.#file as string;
    let text: string;
    try {
      this.#mtimeMs = statSync(file).mtimeMs;
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(this.#field, `cannot read ${file}: ${(err as Error).message}`);
    }
    if (text === '') throw new ConfigError(this.#field, `${file} is empty`);
    return digest(text);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export type AuthRefusal = Pick<StatusObject, 'code' | 'details'>;

export class TokenAuth {
  readonly #readOnly: TokenSource | undefined;
  readonly #admin: TokenSource | undefined;

  constructor(tokens: GrpcConfig['tokens']) {
    const source = (role: 'readOnly' | 'admin') =>
      tokens[role] !== undefined || tokens[`${role}File`] !== undefined
        ? new TokenSource(
            tokens[role] !== undefined ? `grpc.tokens.${role}` : `grpc.tokens.${role}File`,
            tokens[role],
            tokens[`${role}File`],
          )
        : undefined;
    this.#readOnly = source('readOnly');
    this.#admin = source('admin');
  }

  /** Whether calls need a token at all. */
  get enabled(): boolean {
    return this.#readOnly !== undefined || this.#admin !== undefined;
  }

  /** null when the call may go on, else the status to end it with. */
  check(metadata: Metadata, role: Role, method: string): AuthRefusal | null {
    if (!this.enabled) return null;
    const header = metadata.get('authorization')[0];
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) {
      return {
        code: status.UNAUTHENTICATED,
        details: 'missing token: send the metadata "authorization: Bearer <token>"',
      };
    }
    const presented = digest(match[1]);
    // both comparisons always run, so the time taken does not tell which token matched
    const isAdmin = equal(presented, this.#admin);
    const isReadOnly = equal(presented, this.#readOnly);
    if (!isAdmin && !isReadOnly) return { code: status.UNAUTHENTICATED, details: 'invalid token' };
    if (role === 'admin' && !isAdmin) {
      return {
        code: status.PERMISSION_DENIED,
        details: `${method} changes the pool or runs requests: it needs the admin token, this one is read-only`,
      };
    }
    return null;
  }
}

function equal(presented: Buffer, expected: TokenSource | undefined): boolean {
  if (expected === undefined) {
    timingSafeEqual(presented, presented);
    return false;
  }
  return timingSafeEqual(presented, expected.current());
}
