/** The subset of Durable Object SQL storage the engine uses (also what a test double would need). */
export interface Sql {
  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T>;
  /** The size of the whole SQLite database in bytes, where the host tells it. */
  readonly databaseSize?: number;
}
