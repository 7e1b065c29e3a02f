import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env";

/**
 * What the dispatchers (webhooks, mail) share: work done from the object's alarm, one run at a
 * time, and a poke that asks for another run once the current one ends (a poke during a run may
 * find the alarm running and set none: the run sets it again before it returns).
 */
export abstract class Dispatcher extends DurableObject<Env> {
  /** Set by a poke; a run clears it first, and looks again at once when it is set by its end. */
  protected poked = false;
  private scoped: Env | undefined;
  private running: Promise<void> | undefined;

  protected abstract run(): Promise<void>;

  override async alarm(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.run();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** One env object per database: the Worker's per-env caches (settings, indexes made) then hold across runs. */
  protected envFor(database: string): Env {
    if (this.scoped?.DATABASE !== database) this.scoped = { ...this.env, DATABASE: database };
    return this.scoped;
  }
}
