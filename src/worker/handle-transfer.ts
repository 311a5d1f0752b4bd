// Moves a live TCP connection from one worker thread to another (DESIGN.md §4, HAProxy's
// fd_takeover()). A libuv handle belongs to one event loop; Node 26 can move a `TCP` handle
// through a postMessage transfer list (TCPWrap::TransferForMessaging), but its public
// `net.Socket` transfer refuses a socket that has already carried bytes. So the owner stops
// reading, takes the socket's handle out, neuters the JS socket exactly as Node's own
// Socket[kTransfer] does (`_handle = null`, then destroy), and the receiver wraps the handle in a
// fresh `net.Socket`. test/worker/handle-transfer.test.ts fails loudly if a Node upgrade breaks
// any step of this; keep every use of Node internals in this one file.
//
// Unix-domain sockets (`Pipe` handles) cannot be moved: postMessage rejects them with
// DataCloneError. For unix-socket backends takeover is off and capacity is split per thread.
//
// Sender:   const h = detachHandle(socket); port.postMessage({ t: 'handle', handle: h }, handleTransferList(h));
// Receiver: const socket = adoptHandle(msg.handle as TransferableTcpHandle); ...; socket.resume();
import net from 'node:net';
import type { Transferable } from 'node:worker_threads';
import { HandoffError, HandoffErrorCode } from '../errors.ts';

declare const tcpHandleBrand: unique symbol;

/**
 * The libuv TCP handle of a detached connection (Node's internal `TCP` wrap object). Opaque: the
 * only things to do with it are to list it in a transfer list or to adopt it. An un-adopted
 * handle keeps its file descriptor open forever, so a failed post must be followed by
 * `adoptHandle(h).destroy()` (or by adopting it back).
 */
export type TransferableTcpHandle = { readonly [tcpHandleBrand]: true };

/** What this module touches on Node's internal handle; nothing else is relied upon. */
interface StreamHandle {
  readonly fd: number;
  reading: boolean;
  onread: unknown;
  readStop(): number;
}

/** The internal fields of net.Socket this module relies on (lib/net.js, Node 26). */
interface SocketInternals {
  _handle: StreamHandle | null;
}

/** First Node release whose TCPWrap is transferable (PR #64225, v26.6.0); Unix platforms only. */
const MIN_NODE: readonly [number, number] = [26, 6];

const detachedSockets = new WeakSet<net.Socket>();

function noop(): void {}

/**
 * Drops the handle's back-link to its JS socket (Node's internal `owner_symbol`), so a handle
 * kept by the caller does not keep the dead socket alive. adoptHandle sets a new owner.
 */
function unlinkOwner(handle: StreamHandle): void {
  for (const key of Object.getOwnPropertySymbols(handle)) {
    if (key.description === 'owner_symbol') delete (handle as unknown as Record<symbol, unknown>)[key];
  }
}

/**
 * Whether this runtime can move TCP connections between threads. When false the pool must turn
 * takeover off (each thread keeps its own connections, capacity split per thread).
 */
export function canTransferHandles(): boolean {
  if (process.platform === 'win32') return false;
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

/**
 * Takes the TCP handle out of an idle connected socket so it can be posted to another thread.
 *
 * Requires a connected TCP socket with nothing buffered either way: unread bytes would stay in
 * this thread's JS buffer and be lost, unfinished writes would be cut. Bytes still in the
 * kernel (including a FIN from the peer) travel with the handle, so a connection that hit EOF
 * while being stolen is still handed over and fails on the new owner's first use (§4 step 5).
 *
 * Checks everything before changing anything: on a thrown HandoffError the socket is untouched
 * and still usable. On success the old socket is destroyed without closing the descriptor and
 * emits 'close' (without hadError) on the next tick; `isDetached(socket)` tells that apart from a
 * real close. After this the old socket never reads, writes or closes the descriptor again,
 * and its address getters (localPort, remotePort) return undefined: read them first.
 */
export function detachHandle(socket: net.Socket): TransferableTcpHandle {
  const internals = socket as unknown as SocketInternals;
  const handle = internals._handle;
  if (socket.destroyed || handle === null) {
    throw new HandoffError(HandoffErrorCode.CLOSED, 'cannot hand over a destroyed socket');
  }
  const kind = handle.constructor.name;
  if (kind !== 'TCP') {
    throw new HandoffError(
      HandoffErrorCode.UNSUPPORTED,
      `cannot hand over a ${kind} handle: only TCP connections can move between threads ` +
        '(unix-socket backends run without takeover)',
    );
  }
  if (!canTransferHandles()) {
    throw new HandoffError(
      HandoffErrorCode.UNSUPPORTED,
      `this runtime cannot move sockets between threads (Node ${process.version} on ${process.platform})`,
    );
  }
  if (socket.connecting) {
    throw new HandoffError(HandoffErrorCode.NOT_IDLE, 'cannot hand over a socket that is still connecting');
  }
  if (socket.writableEnded) {
    throw new HandoffError(HandoffErrorCode.CLOSED, 'cannot hand over a socket that is shutting down');
  }
  if (socket.readableLength !== 0) {
    throw new HandoffError(
      HandoffErrorCode.NOT_IDLE,
      `cannot hand over a socket with ${socket.readableLength} unread bytes buffered`,
    );
  }
  if (socket.writableLength !== 0) {
    throw new HandoffError(
      HandoffErrorCode.NOT_IDLE,
      `cannot hand over a socket with ${socket.writableLength} bytes not yet written`,
    );
  }
  if (socket.readableEncoding !== null) {
    // A string decoder may hold a partial character that would be lost (Node refuses it too).
    throw new HandoffError(HandoffErrorCode.NOT_IDLE, 'cannot hand over a socket with a read encoding');
  }

  // From here on nothing can fail. Stop reading before anything else so no byte is taken from
  // the kernel into this thread once we have decided the JS buffers are empty.
  handle.readStop();
  handle.reading = false;
  // Cut the socket off from the handle, as Node's own Socket[kTransfer] does: with `_handle`
  // null, destroy() only clears timers and emits 'close'; it never calls handle.close().
  handle.onread = noop;
  unlinkOwner(handle);
  internals._handle = null;
  detachedSockets.add(socket);
  socket.destroy();
  return handle as unknown as TransferableTcpHandle;
}

/** The transfer list to post a detached handle with (postMessage's second argument). */
export function handleTransferList(handle: TransferableTcpHandle): Transferable[] {
  return [handle as unknown as Transferable];
}

/** True for a socket whose handle was taken by detachHandle: its 'close' is a hand-over. */
export function isDetached(socket: net.Socket): boolean {
  return detachedSockets.has(socket);
}

export interface AdoptOptions {
  /** Keep the connection open after the peer's FIN (net.Socket allowHalfOpen). Default false. */
  allowHalfOpen?: boolean;
}

/**
 * Wraps a handle that arrived in a message (or one detached on this thread) in a new socket
 * owned by the calling thread. The socket starts paused, so no byte is read before the caller
 * has set up its handlers: call `socket.resume()` to start reading. TCP_NODELAY is set again
 * (a cheap no-op when already on) because request records must leave without delay.
 */
export function adoptHandle(handle: TransferableTcpHandle, options: AdoptOptions = {}): net.Socket {
  const raw = handle as unknown as StreamHandle | null;
  if (raw === null || typeof raw !== 'object' || raw.constructor.name !== 'TCP') {
    throw new HandoffError(HandoffErrorCode.UNSUPPORTED, 'adoptHandle needs a TCP handle from detachHandle');
  }
  if (raw.fd < 0) {
    // The sending side's shell after a successful post: the descriptor lives in another thread.
    throw new HandoffError(HandoffErrorCode.CLOSED, 'this handle was already transferred to another thread');
  }
  const socket = new net.Socket({
    handle: handle as unknown as net.BoundSocket,
    pauseOnCreate: true,
    allowHalfOpen: options.allowHalfOpen ?? false,
    readable: true,
    writable: true,
  } as net.SocketConstructorOpts);
  socket.setNoDelay(true);
  return socket;
}
