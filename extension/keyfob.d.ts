// Types for the page API that the Keyfob extension injects as `window.keyfob`.

export type KeyfobErrorCode =
  | 'USER_REJECTED'
  | 'PROVIDER_KEY_MISSING'
  | 'APPROVAL_PENDING'
  | 'APPROVAL_BACKOFF'
  | 'UNKNOWN_PROVIDER'
  | 'BAD_REQUEST'
  | 'ORIGIN_NOT_APPROVED'
  | 'WORKER_RESTARTED'
  | 'EXTENSION_UNAVAILABLE'
  | (string & {});

/** Raised by `connect`, `tryReconnect` and friends; branch on `code`, never on `message`. */
export interface KeyfobError extends Error {
  readonly name: 'KeyfobError';
  readonly code: KeyfobErrorCode;
  /** With `APPROVAL_BACKOFF` (the user rejected this site's last approval): ms until it may ask again. */
  readonly retryAfterMs?: number;
}

export interface ProviderRequest {
  /** e.g. 'anthropic', 'openai', 'gemini', 'mistral', 'groq', 'openrouter', 'azure_openai', 'openai_compatible' */
  id: string;
  /** `connect` rejects when the user lacks or declines a required provider. */
  required?: boolean;
}

export interface ConnectOptions {
  providers: Array<ProviderRequest | string>;
}

export interface KeyfobSession {
  /** Opaque and bound to this origin: pass it as the SDK's `apiKey`. Not a provider key. */
  readonly sessionKey: string;
  readonly providers: Readonly<Record<string, { readonly available: boolean }>>;
  /**
   * A drop-in `fetch` for the official SDKs. Wallet errors come back as a `Response` with
   * an HTTP status and `{"error":{"code","message","source":"keyfob"}}`; provider errors
   * pass through untouched.
   */
  createFetch(providerId: string): typeof fetch;
  isConnected(): boolean;
  /** Ends this site's access (the grant is revoked); other frames of the site are told. */
  disconnect(): Promise<void>;
  getUsage(): Promise<unknown>;
  /** Returns an unsubscribe function. */
  onDisconnect(callback: () => void): () => void;
  onProvidersUpdated(callback: (providers: Record<string, { available: boolean }>) => void): () => void;
}

export interface Keyfob {
  readonly isInstalled: true;
  readonly version: string;
  readonly KeyfobError: new (code: string, message: string) => KeyfobError;
  /** Opens the approval window unless this origin already holds a live grant. */
  connect(options: ConnectOptions): Promise<KeyfobSession>;
  /** A session if this origin holds a live grant; `null` otherwise. Never opens a window. */
  tryReconnect(): Promise<KeyfobSession | null>;
}

declare global {
  interface Window {
    readonly keyfob?: Keyfob;
  }
  interface WindowEventMap {
    /** Fired once `window.keyfob` exists. */
    'keyfob#initialized': Event;
  }
}
