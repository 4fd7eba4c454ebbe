import { AuditChainHead, AuditStore, PreparedAuditEvent } from './AuditStore';

type Pending = {
  item: PreparedAuditEvent;
  resolve: (head: AuditChainHead) => void;
  reject: (error: unknown) => void;
};

/**
 * Group commit in front of the {@link AuditStore}: appends that arrive while
 * a transaction is in flight wait and go together in the next one. One
 * transaction at a time per writer, so a lone append at low load commits at
 * once, and under load batches grow until throughput matches the arrival
 * rate. `append` resolves when its batch is durable.
 */
export class AuditWriter {
  #queue: Pending[] = [];
  #flushing?: Promise<void>;
  #listeners = new Set<(head: AuditChainHead) => void>();

  private constructor(
    private readonly store: AuditStore,
    private readonly maxBatchSize: number,
  ) {}

  static create(options: {
    store: AuditStore;
    maxBatchSize?: number;
  }): AuditWriter {
    return new AuditWriter(options.store, options.maxBatchSize ?? 5000);
  }

  append(item: PreparedAuditEvent): Promise<AuditChainHead> {
    return new Promise<AuditChainHead>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = this.#drain();
      }
    });
  }

  /** Called with the new head after every committed batch. */
  onAppended(listener: (head: AuditChainHead) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits until every append made so far is settled. */
  async flush(): Promise<void> {
    while (this.#flushing) {
      await this.#flushing;
    }
  }

  async #drain(): Promise<void> {
    // Let appends made in the same tick join the first batch.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatchSize);
        try {
          const heads = await this.store.appendBatch(batch.map(p => p.item));
          batch.forEach((pending, index) => pending.resolve(heads[index]));
          const last = heads[heads.length - 1];
          for (const listener of this.#listeners) {
            try {
              listener(last);
            } catch {
              // a listener must not break the writer
            }
          }
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
