// Maps a request path to SCRIPT_NAME, SCRIPT_FILENAME and PATH_INFO, the way nginx's
// fastcgi_split_path_info does, minus the traps that made it a CVE source
// (shared/reference/fastcgi-peers.md §5):
//
// - The path is percent-decoded exactly once, so "%252e" stays the literal "%2e".
// - NUL, CR, LF and other control characters are refused anywhere. CVE-2019-11043 sent
//   "%0a" so that nginx's split regex (whose "." does not match LF) left PATH_INFO empty and
//   php-fpm underflowed a buffer; here such a path never reaches the split.
// - "." and ".." segments and repeated slashes are resolved before anything else, and a
//   path climbing above the root is refused: SCRIPT_FILENAME is always docroot + a path
//   with no "..", so it cannot leave the docroot by construction.
// - The split runs on the decoded path itself, never on a case-folded copy (GHSA-3g8v-8r37-cgjm:
//   folding can change string lengths and shift the split), and the regex has no flags.
// - SCRIPT_NAME must end in one of scriptExtensions, split or not, so php-fpm is never asked
//   to run "/upload/evil.jpg". With the default regex, "/upload/evil.jpg/x.php" gives
//   SCRIPT_NAME "/upload/evil.jpg/x.php": we never name evil.jpg. php-fpm's own fallback
//   (cgi.fix_pathinfo=1) could still walk back from a missing x.php to evil.jpg; the gateway
//   closes that with app.checkScriptExists when the docroot is local, and otherwise
//   php-fpm's security.limit_extensions (default ".php .phar") refuses it. Since the gateway
//   already splits PATH_INFO, cgi.fix_pathinfo=0 is the recommended php-fpm setting.

import { isUtf8 } from 'node:buffer';

export interface ScriptPathConfig {
  /** Absolute, normalised (no trailing slash unless "/"). */
  readonly docroot: string;
  readonly index: string;
  readonly pathInfoRegex: string;
  readonly scriptExtensions: readonly string[];
  /**
   * Every path goes to the FastCGI app (an app that routes by REQUEST_URI, such as the
   * embedded responder or a framework's single front controller server): no extension check.
   */
  readonly routeAll?: boolean;
}

export interface ScriptPath {
  readonly scriptName: string;
  readonly scriptFilename: string;
  /** "" when there is none. */
  readonly pathInfo: string;
  /** The decoded, normalised path (index included): nginx's $document_uri. */
  readonly documentUri: string;
}

export interface ScriptPathError {
  /**
   * bad-path: not a valid path (400). forbidden: climbs above the docroot (403).
   * not-script: a valid path that names no script (404, or a static file when enabled).
   */
  readonly error: 'bad-path' | 'forbidden' | 'not-script';
  readonly reason: string;
  /** The normalised path, for not-script (where a static file would be looked up). */
  readonly documentUri?: string;
}

export type ScriptResolution = ScriptPath | ScriptPathError;

/** Compiles the config once; the returned function runs per request. */
export function createScriptResolver(config: ScriptPathConfig): (uriPath: string) => ScriptResolution {
  const split = new RegExp(config.pathInfoRegex);
  const docroot = config.docroot === '/' ? '' : config.docroot;
  const extensions = [...config.scriptExtensions];
  const { index } = config;
  const routeAll = config.routeAll === true;

  return (uriPath) => {
    if (uriPath.charCodeAt(0) !== 0x2f) return badPath('the path must start with "/"');
    const decoded = decodeOnce(uriPath);
    if (decoded === undefined) return badPath('invalid percent-encoding or UTF-8 in the path');
    const ctl = findControl(decoded);
    if (ctl >= 0) {
      return badPath(`the path contains the control character 0x${ctl.toString(16).padStart(2, '0')}`);
    }

    let path = decoded;
    if (NEEDS_NORMALISING.test(path)) {
      const normalised = normalise(path, index);
      if (normalised === undefined) {
        return { error: 'forbidden', reason: 'the path climbs above the document root' } as const;
      }
      path = normalised;
    }

    let scriptName = path;
    let pathInfo = '';
    const m = split.exec(path);
    // Only a prefix of the path can be SCRIPT_NAME, and PATH_INFO is the rest of the path
    // starting at a "/", so SCRIPT_NAME + PATH_INFO is always the path (RFC 3875 §4.1.5).
    if (m !== null && m[1] !== undefined && m[1].length > 0 && path.startsWith(m[1])) {
      const rest = path.slice(m[1].length);
      if (rest === '' || rest.charCodeAt(0) === 0x2f) {
        scriptName = m[1];
        pathInfo = rest;
      }
    }
    if (!routeAll && !hasExtension(scriptName, extensions)) {
      return {
        error: 'not-script',
        reason: `${scriptName} does not end in ${extensions.join(' or ')}`,
        documentUri: path,
      } as const;
    }
    return { scriptName, scriptFilename: docroot + scriptName, pathInfo, documentUri: path };
  };
}

/** One-off form of createScriptResolver (tests, tools); the gateway keeps a resolver per app. */
export function resolveScript(uriPath: string, config: ScriptPathConfig): ScriptResolution {
  return createScriptResolver(config)(uriPath);
}

/**
 * Splits a request-target into the still-encoded path and the query string (without "?").
 * Absolute-form ("http://host/path?q", sent to proxies) is reduced to its path.
 * Returns undefined for targets that name no path ("*", authority-form).
 */
export function splitRequestTarget(target: string): { path: string; query: string } | undefined {
  let start = 0;
  if (target.charCodeAt(0) !== 0x2f) {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (scheme === null) return undefined;
    start = scheme[0].length;
    if (start === target.length || target.charCodeAt(start) === 0x3f) {
      // "http://host" or "http://host?q": the path is "/".
      const q = target.indexOf('?', start);
      return { path: '/', query: q < 0 ? '' : target.slice(q + 1) };
    }
  }
  const q = target.indexOf('?', start);
  return q < 0
    ? { path: target.slice(start), query: '' }
    : { path: target.slice(start, q), query: target.slice(q + 1) };
}

// Any of: "//", "/./", "/../", a trailing "/", "/." or "/..": only then is work needed.
const NEEDS_NORMALISING = /\/(?:\.{0,2})(?:\/|$)/;

/** Resolves "."/".."/"//", appends the index to directory paths; undefined when above the root. */
function normalise(path: string, index: string): string | undefined {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i];
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  const last = parts[parts.length - 1];
  const isDirectory = last === '' || last === '.' || last === '..';
  if (isDirectory) out.push(index);
  return `/${out.join('/')}`;
}

/**
 * Percent-decodes once. Node hands the request line over byte-per-char (latin1), so raw
 * non-ASCII bytes are first read back as UTF-8; anything that is not UTF-8 is refused
 * rather than guessed at, since the bytes would reach php-fpm changed.
 */
function decodeOnce(raw: string): string | undefined {
  let text = raw;
  if (HAS_NON_ASCII.test(text)) {
    const bytes = Buffer.from(text, 'latin1');
    if (!isUtf8(bytes)) return undefined;
    text = bytes.toString('utf8');
  }
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const HAS_NON_ASCII = /[^\x00-\x7f]/;

function findControl(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return c;
  }
  return -1;
}

function hasExtension(scriptName: string, extensions: readonly string[]): boolean {
  for (const ext of extensions) if (scriptName.endsWith(ext)) return true;
  return false;
}

function badPath(reason: string): ScriptPathError {
  return { error: 'bad-path', reason };
}
