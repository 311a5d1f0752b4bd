// app.staticFiles: a path that names no script is served from the local docroot, as nginx's
// `try_files $uri =404` with its static module does: GET and HEAD only, Content-Type by
// extension, ETag and Last-Modified with 304s, one byte range (206/416), a directory
// redirected to its "/" form (which then runs its index script), never a directory listing.
// What it refuses, with a 404 that says no more than "nothing here":
// - a real path (symlinks resolved) outside the real docroot;
// - hidden names (".env", ".git/...") except ".well-known", which ACME and others need;
// - a name that carries a script extension in any case or with a suffix ("index.PHP",
//   "config.php.bak", "x.php~"): such a file is a script's source, never an asset.

import type { Stats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { errorReply } from './errors-page.ts';
import { contentTypeOf } from './mime-types.ts';

export interface StaticFilesConfig {
  readonly docroot: string;
  readonly scriptExtensions: readonly string[];
}

export interface StaticResult {
  readonly status: number;
  /** Why a refusal, for the access log. */
  readonly why?: string;
}

export type StaticFileServer = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  documentUri: string,
  query: string,
) => Promise<StaticResult>;

export function createStaticFiles(config: StaticFilesConfig): StaticFileServer {
  const docroot = config.docroot === '/' ? '' : config.docroot;
  const scriptExts = config.scriptExtensions.map((e) => e.toLowerCase());
  let root: Promise<string> | undefined;
  const realRoot = () => {
    root ??= realpath(config.docroot).catch((err: Error) => {
      root = undefined; // the docroot may appear later (a volume mounted after start)
      throw err;
    });
    return root;
  };

  return async (req, res, documentUri, query) => {
    const refused = refusal(documentUri, scriptExts);
    if (refused !== undefined) return reply(req, res, 404, `no file at ${documentUri}`, refused);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(req, res, 405, `${method} is not allowed on a static file`);
    }
    let real: string;
    let top: string;
    try {
      top = await realRoot();
      real = await realpath(docroot + documentUri);
    } catch {
      return reply(req, res, 404, `no file at ${documentUri}`);
    }
    if (real !== top && !real.startsWith(top === '/' ? '/' : `${top}/`)) {
      // the same answer as a missing file: a symlink's existence is nobody's business
      return reply(
        req,
        res,
        404,
        `no file at ${documentUri}`,
        `${documentUri} leads outside the document root`,
      );
    }
    let file: Awaited<ReturnType<typeof open>>;
    let st: Stats;
    try {
      file = await open(real, 'r');
      st = await file.stat();
    } catch {
      return reply(req, res, 404, `no file at ${documentUri}`);
    }
    let keepOpen = false;
    try {
      if (st.isDirectory()) {
        // "/dir" → "/dir/", whose index script php-fpm runs; never a listing
        const location = `${documentUri.split('/').map(encodeURIComponent).join('/')}/${query === '' ? '' : `?${query}`}`;
        const body = Buffer.from(`301 Moved Permanently\n${location}\n`);
        res.writeHead(301, {
          Location: location,
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': body.length,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return { status: 301 };
      }
      if (!st.isFile()) return reply(req, res, 404, `no file at ${documentUri}`);
      const etag = `"${Math.floor(st.mtimeMs / 1000).toString(16)}-${st.size.toString(16)}"`;
      const lastModified = new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
      res.setHeader('ETag', etag);
      res.setHeader('Last-Modified', lastModified);
      res.setHeader('Accept-Ranges', 'bytes');
      if (notModified(req, etag, st.mtimeMs)) {
        res.writeHead(304);
        res.end();
        return { status: 304 };
      }
      res.setHeader('Content-Type', contentTypeOf(documentUri));
      const range = wantedRange(req, st.size, etag, lastModified);
      if (range === 'unsatisfiable') {
        res.setHeader('Content-Range', `bytes */${st.size}`);
        return reply(req, res, 416, `the range is outside the file's ${st.size} bytes`);
      }
      const [start, end] = range ?? [0, st.size - 1];
      const status = range === undefined ? 200 : 206;
      if (range !== undefined) res.setHeader('Content-Range', `bytes ${start}-${end}/${st.size}`);
      res.writeHead(status, { 'Content-Length': end - start + 1 });
      if (method === 'HEAD' || end < start) {
        res.end();
        return { status };
      }
      keepOpen = true;
      const stream = file.createReadStream({ start, end, highWaterMark: 65536 });
      // pipeline: back-pressure from the client, and the file closes however the client leaves
      await pipeline(stream, res).catch(() => {});
      return { status };
    } finally {
      if (!keepOpen) await file.close().catch(() => {});
    }
  };
}

/** Why a path must not be served as a file, or undefined. */
function refusal(documentUri: string, scriptExts: readonly string[]): string | undefined {
  const segments = documentUri.split('/');
  for (const seg of segments) {
    if (seg.startsWith('.') && seg !== '.well-known') return `${documentUri} is a hidden name`;
  }
  const name = (segments.at(-1) ?? '').toLowerCase();
  for (const ext of scriptExts) {
    for (let at = name.indexOf(ext); at >= 0; at = name.indexOf(ext, at + 1)) {
      const next = name.charCodeAt(at + ext.length);
      // ".php" at the end, or followed by anything but a letter or digit (".php.bak", ".php~")
      if (Number.isNaN(next) || !/[a-z0-9]/.test(name[at + ext.length])) {
        return `${documentUri} looks like a script's source`;
      }
    }
  }
  return undefined;
}

/** If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2). */
function notModified(req: http.IncomingMessage, etag: string, mtimeMs: number): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    return inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/**
 * One `bytes=` range as [first, last], undefined for the whole file (no Range, a stale
 * If-Range, several ranges or a syntax we do not serve: RFC 9110 lets us ignore Range), or
 * 'unsatisfiable' (416).
 */
function wantedRange(
  req: http.IncomingMessage,
  size: number,
  etag: string,
  lastModified: string,
): [number, number] | 'unsatisfiable' | undefined {
  const header = req.headers.range;
  if (header === undefined || req.method !== 'GET') return undefined;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined) {
    const v = String(ifRange).trim();
    if (v !== etag && v !== lastModified) return undefined;
  }
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // the last N bytes
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < first) return undefined; // invalid: ignore
  if (first >= size) return 'unsatisfiable';
  return [first, last];
}

/** `detail` goes to the client, `why` (default: the detail) to the access log. */
function reply(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  detail: string,
  why = detail,
): StaticResult {
  const { reason, body, headers } = errorReply(status, detail);
  res.writeHead(status, reason, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
  return { status, why };
}
