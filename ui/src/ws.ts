// The WebSocket client for /v1/ws (protocol: exchange/api/ws.py). It authenticates with the
// session's key, keeps the subscriptions across reconnects, and reconnects when a message's
// ``seq`` skips (a gap) or the socket closes, so a view re-snapshots instead of drifting.
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

export class Feed {
  private socket: WebSocket | null = null;
  private readonly channels = new Set<string>();
  private readonly listeners = new Set<Listener>();
  private readonly reconnectListeners = new Set<() => void>();
  private lastSeq = 0;
  private retryMs = 250;
  private closed = false;
  private ready = false; // authenticated: subscriptions may be sent
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
        setTimeout(() => this.reconnect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MS_MAX);
      };
    });
  }

  private reconnect(): void {
    if (this.closed) return;
    this.connect().then(
      () => {
        for (const listener of this.reconnectListeners) listener();
      },
      () => {
        if (!this.closed) setTimeout(() => this.reconnect(), this.retryMs);
      },
    );
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
    this.socket = null;
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
