// A bounded write-behind buffer for audit entries of the hottest path (every pull): entries
// are kept in memory and written in one transaction every `intervalMs`, or as soon as
// `batchSize` are waiting, and on close(). A pull then costs an array push instead of a
// database insert (issue 20: the per-pull insert was the top frame of the manifest GET).
//
// What it trades, by design and documented (docs/configuration.md, docs/security.md): a
// process killed with SIGKILL (or a power failure) loses the entries of at most the last
// interval. SIGTERM/SIGINT (server close) flushes them. Only pull records come here: push,
// delete, login and management records are written at once, as before.
//
// What it must never do:
// - grow without bound: at most `maxPending` entries wait (a stalled database drops the
//   newest and counts them; the count reaches the operator's log with the next flush);
// - lose entries on an orderly close, or write one entry twice;
// - change what is recorded: callers stamp each entry with its own time before adding it.
// Pure of I/O: the writer is injected (AuthStore.appendAuditBatch in production).

export interface AuditBufferOptions {
  /** Longest an entry waits before its batch is written (ms); > 0. */
  readonly intervalMs: number;
  /** Entries that trigger a write before the interval ends. */
  readonly batchSize?: number;
  /** Most entries held at once (pending + being written); beyond it entries are dropped. */
  readonly maxPending?: number;
  /** A failed write (its entries are lost; the failure is logged, the pull is not failed). */
  readonly onError?: (err: unknown, lost: number) => void;
  /** Entries dropped because the buffer was full, reported once per write. */
  readonly onDropped?: (count: number) => void;
}

export const DEFAULT_AUDIT_BATCH_SIZE = 500;
export const DEFAULT_AUDIT_MAX_PENDING = 20_000;

export class AuditBuffer<T> {
  private pending: T[] = [];
  private writing = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly batchSize: number;
  private readonly maxPending: number;

  constructor(
    private readonly write: (entries: readonly T[]) => Promise<void>,
    private readonly options: AuditBufferOptions,
  ) {
    if (!(options.intervalMs > 0)) throw new Error("AuditBuffer needs an interval above 0 ms");
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_AUDIT_BATCH_SIZE);
    this.maxPending = Math.max(this.batchSize, options.maxPending ?? DEFAULT_AUDIT_MAX_PENDING);
  }

  /** Entries held in memory now (waiting or being written). */
  get size(): number {
    return this.pending.length + this.writing;
  }

  /** Entries dropped since the last report (buffer full). */
  get droppedSinceReport(): number {
    return this.dropped;
  }

  /** Queues one entry; after close() the entry is written at once, on its own. */
  add(entry: T): void {
    if (this.closed) {
      this.pending.push(entry);
      void this.flush();
      return;
    }
    if (this.size >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.push(entry);
    if (this.pending.length >= this.batchSize) {
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Writes everything added so far; resolves once it is written (or its write failed and was
   * reported). Safe to call at any time and concurrently: writes run one after another.
   */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    const dropped = this.dropped;
    this.dropped = 0;
    if (dropped > 0) this.options.onDropped?.(dropped);
    if (batch.length === 0) return this.chain;
    this.writing += batch.length;
    this.chain = this.chain.then(async () => {
      try {
        await this.write(batch);
      } catch (err) {
        this.options.onError?.(err, batch.length);
      } finally {
        this.writing -= batch.length;
      }
    });
    return this.chain;
  }

  /** Writes what is pending and stops the timer; later entries are written one by one. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
