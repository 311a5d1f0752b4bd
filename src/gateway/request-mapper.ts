// One request's mapping from HTTP to FastCGI, for the gateway: the request target is split,
// the script resolved and the params built before the body is read, so a bad path or
// oversized headers are answered without reading a body that would be thrown away.
// CONTENT_LENGTH is filled in once the body's exact size is known.

import type { ListenAddress } from '../config/address.ts';
import type { AppConfig } from '../config/schema.ts';
import { type CgiRequest, createParamsBuilder, type ParamsBuilder } from './cgi-params.ts';
import type { ParamList } from './param-list.ts';
import { createScriptResolver, type ScriptPath, splitRequestTarget } from './script-path.ts';

export interface RequestMapperOptions {
  readonly app: AppConfig;
  readonly listen: ListenAddress;
  readonly software?: string;
}

export interface MappedRequest {
  readonly script: ScriptPath;
  /** The params with CONTENT_LENGTH = the exact number of body bytes that will be sent. */
  params(contentLength: number): ParamList;
}

export interface MapError {
  /**
   * bad-target / bad-path / bad-header: 400; forbidden: 403; not-script: 404 (or a static
   * file at documentUri when app.staticFiles is on); too-large: 431.
   */
  readonly error: 'bad-target' | 'bad-path' | 'forbidden' | 'not-script' | 'bad-header' | 'too-large';
  readonly status: 400 | 403 | 404 | 431;
  readonly reason: string;
  readonly documentUri?: string;
}

const STATUS_OF = { 'bad-path': 400, forbidden: 403, 'not-script': 404 } as const;

export class RequestMapper {
  readonly #resolve: ReturnType<typeof createScriptResolver>;
  readonly #build: ParamsBuilder;

  constructor(options: RequestMapperOptions) {
    this.#resolve = createScriptResolver(options.app);
    this.#build = createParamsBuilder(options.app, { listen: options.listen, software: options.software });
  }

  map(req: CgiRequest): MappedRequest | MapError {
    const target = splitRequestTarget(req.url ?? '');
    if (target === undefined) {
      return { error: 'bad-target', status: 400, reason: 'the request target is not a path' };
    }
    const script = this.#resolve(target.path);
    if ('error' in script) {
      return {
        error: script.error,
        status: STATUS_OF[script.error],
        reason: script.reason,
        ...(script.documentUri !== undefined ? { documentUri: script.documentUri } : {}),
      };
    }
    const built = this.#build(req, script, 0);
    if (!built.ok) {
      return {
        error: built.status === 400 ? 'bad-header' : 'too-large',
        status: built.status,
        reason: built.reason,
      };
    }
    const { params, contentLengthIndex } = built;
    return {
      script,
      params(contentLength) {
        if (contentLengthIndex >= 0 && contentLength !== 0) {
          const cl = String(contentLength);
          params.set(contentLengthIndex, cl, cl.length);
        }
        return params;
      },
    };
  }
}
