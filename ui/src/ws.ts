// The WebSocket client for /v1/ws (protocol: exchange/api/ws.py). It authenticates with the
// session's key, keeps the subscriptions across reconnects, and reconnects when a message's
// ``seq`` skips (a gap) or the socket closes, so a view re-snapshots instead of drifting. Its
// connection state (connected, reconnecting, offline) is told to whoever listens (the header).
import type { Role, Session } from "./session";

export type Message = { type: string; seq: number; [field: string]: unknown };
type Listener = (message: Message) => void;

export interface Authed {
  role: Role;
  accountId: string | null;
}

export class FeedError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const RETRY_MS_MAX = 5000;
// Reconnects failed in a row before the feed counts as offline (about 2 s of retries), unless the
// browser says it is offline at once.
const OFFLINE_AFTER_FAILURES = 3;

export type Connection = "connecting" | "connected" | "reconnecting" | "offline";

export class Feed {
  private socket: WebSocket | null = null;
  private readonly channels = new Set<string>();
  private readonly listeners = new Set<Listener>();
  private readonly reconnectListeners = new Set<() => void>();
  private lastSeq = 0;
  private retryMs = 250;
  private closed = false;
  private ready = false; // authenticated: subscriptions may be sent
  private state: Connection = "connecting";
  private failures = 0; // reconnects failed in a row
  private retryTimer = 0;
  private readonly connectionListeners = new Set<(state: Connection) => void>();
  /** Channels the server refused (e.g. one it does not have yet): not asked for again. */
  readonly refused = new Set<string>();

  constructor(private readonly session: Pick<Session, "key" | "marketId">) {}

  /** Open the socket and authenticate; resolves with the key's role and account. */
  connect(): Promise<Authed> {
    this.closed = false;
    return new Promise((resolve, reject) => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${location.host}/v1/ws`);
      this.socket = socket;
      this.lastSeq = 0;
      this.ready = false;
      let authed = false;
      socket.onopen = () => {
        socket.send(
          JSON.stringify({ op: "auth", market_id: this.session.marketId, key: this.session.key }),
        );
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as Message;
        if (message.seq !== this.lastSeq + 1 && this.lastSeq !== 0) {
          socket.close(); // a gap: reconnect and re-snapshot
          return;
        }
        this.lastSeq = message.seq;
        if (!authed) {
          if (message.type === "authed") {
            authed = true;
            this.ready = true;
            this.retryMs = 250;
            this.failures = 0;
            this.setState("connected");
            for (const channel of this.channels) this.send({ op: "subscribe", channel });
            resolve({ role: message.role as Role, accountId: (message.account_id as string) ?? null });
          } else if (message.type === "error") {
            this.closed = true;
            reject(new FeedError(String(message.code)));
          }
          return;
        }
        if (message.type === "error" && typeof message.channel === "string") {
          this.refused.add(message.channel);
          this.channels.delete(message.channel);
        }
        for (const listener of this.listeners) listener(message);
      };
      socket.onclose = () => {
        this.ready = false;
        if (!authed) {
          if (!this.closed) reject(new FeedError("NETWORK_ERROR"));
          return;
        }
        if (this.closed) return;
        this.setState(navigator.onLine === false ? "offline" : "reconnecting");
        this.retryLater();
      };
    });
  }

  /** Connect for as long as the feed is open: a failed first attempt is retried like a lost
   * connection (a refused key is not: it closes the feed, and the next REST call says why). */
  start(): void {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.connect().catch(() => {
      if (this.closed) this.setState("offline");
      else this.failed();
    });
  }

  private readonly onOnline = () => {
    if (this.closed || this.state === "connected") return;
    this.retryMs = 250;
    this.setState("reconnecting");
    this.retryLater(0);
  };

  private readonly onOffline = () => {
    if (!this.closed) this.setState("offline");
  };

  private retryLater(ms = this.retryMs): void {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.reconnect(), ms);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MS_MAX);
  }

  private failed(): void {
    if (this.closed) return;
    this.failures += 1;
    const offline = navigator.onLine === false || this.failures >= OFFLINE_AFTER_FAILURES;
    this.setState(offline ? "offline" : "reconnecting");
    this.retryLater();
  }

  private reconnect(): void {
    if (this.closed) return;
    this.connect().then(
      () => {
        for (const listener of this.reconnectListeners) listener();
      },
      () => this.failed(),
    );
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.retryTimer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.socket?.close();
    this.socket = null;
  }

  /** The connection's state now. */
  get connection(): Connection {
    return this.state;
  }

  /** Listen to the connection's state; returns the function that stops listening. */
  onConnection(listener: (state: Connection) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private setState(next: Connection): void {
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.connectionListeners) listener(next);
  }

  subscribe(channel: string): void {
    if (this.refused.has(channel) || this.channels.has(channel)) return;
    this.channels.add(channel);
    this.send({ op: "subscribe", channel });
  }

  unsubscribe(channel: string): void {
    if (!this.channels.delete(channel)) return;
    this.send({ op: "unsubscribe", channel });
  }

  /** Listen to every message; returns the function that stops listening. */
  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after a reconnect: state may have moved on, fetch it again. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  private send(request: object): void {
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(request));
  }
}
